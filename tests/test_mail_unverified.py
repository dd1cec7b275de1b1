"""No mail relay for strangers: mail to an address nobody has verified is capped per address, whatever the IP,
and repeats nothing the visitor typed beyond the reference; names are one line."""

import random
import re
import string
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.database import utcnow
from app.extensions import db
from app.mail.models import OutboxMessage
from app.rights.models import RequestEvent, RightsRequest
from tests.conftest import deliver_mail, submit_form
from tests.support.newsletter import links, path_of, subscribe, text_part

TARGET = "victime@example.org"


def visible(html: str) -> str:
    """The page's text without tags, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\u202f", " ").replace("\u00a0", " ")


def from_ip(client, number: int) -> None:
    """Make the next requests of this client come from another IP address (so no per-IP limit applies)."""
    client.environ_base["REMOTE_ADDR"] = f"198.51.100.{number}"


def typed(rng: random.Random, length: int) -> str:
    """Something a visitor might type: letters, digits, punctuation, accents, a link."""
    alphabet = string.ascii_letters + string.digits + " .,;:!?'-éèàçœ€"
    return "".join(rng.choice(alphabet) for _ in range(length)) + " https://spam.example/promo"


def contact(client, email: str, name: str, message: str):
    """Send the real contact form."""
    return submit_form(client, "/contact", {"name": name, "email": email, "kind": "question", "message": message})


def same_answer(client, response) -> str:
    """The page a visitor lands on after sending the form, with the request's reference blanked."""
    assert response.status_code == 303
    return re.sub(r"DR-\d{4}-\d{6}", "DR-…", visible(client.get(response.headers["Location"]).get_data(as_text=True)))


def stored_requests(email: str) -> int:
    """Requests stored for the address."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(RightsRequest).where(RightsRequest.email == email))


def test_ten_contact_requests_for_one_address_from_ten_ips_bring_at_most_three_mails(app, client, mailbox):
    rng = random.Random(9)
    answers, typed_texts = set(), []
    for number in range(10):
        from_ip(client, number + 1)
        name, message = typed(rng, rng.randint(3, 40)), typed(rng, rng.randint(1, 300))
        typed_texts += [name, message]
        answers.add(same_answer(client, contact(client, TARGET.upper() if number % 2 else TARGET, name, message)))
    assert len(answers) == 1 and "est enregistrée" in answers.pop(), "every visitor sees the same answer"
    assert stored_requests(TARGET) == 10, "the cap never loses a request"
    deliver_mail()
    received = mailbox.to(TARGET)
    assert len(received) == 3
    for mail in received:
        body = text_part(mail)
        assert re.search(r"DR-\d{4}-\d{6}", body) and links(mail, "/demande/confirmer/")
        assert "spam.example" not in body and not any(text in body for text in typed_texts)
    withheld = db.session.scalars(sa.select(RequestEvent.action).where(
        RequestEvent.action == "acknowledgement_withheld")).all()
    assert len(withheld) == 7, "staff see which requests were not acknowledged"


def test_newsletter_confirmations_and_acknowledgements_share_the_cap(app, client, mailbox):
    for number in range(10):
        from_ip(client, number + 1)
        if number % 2:
            contact(client, TARGET, "Jeanne Martin", "Bonjour")
        else:
            response = subscribe(client, TARGET, ["evenements"])
            assert response.status_code == 303 and response.headers["Location"].endswith("/verifiez-vos-e-mails")
    deliver_mail()
    assert len(mailbox.to(TARGET)) == 3
    assert stored_requests(TARGET) == 5


def test_the_setting_sets_the_cap_and_a_day_later_the_address_may_be_written_to_again(make_app, mailbox):
    app = make_app(MAIL_UNVERIFIED_CAP=1)
    with app.app_context():
        client = app.test_client()
        for number in range(3):
            from_ip(client, number + 1)
            contact(client, TARGET, "Jeanne Martin", "Bonjour")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1
        db.session.execute(sa.update(OutboxMessage).values(created_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
        contact(client, TARGET, "Jeanne Martin", "Bonjour")
        deliver_mail()
        assert len(mailbox.to(TARGET)) == 2 and stored_requests(TARGET) == 4


def test_a_proven_address_gets_more_but_at_most_mail_address_daily_cap_replies_without_the_sender_knowing(
        client, mailbox):
    first = same_answer(client, contact(client, TARGET, "Jeanne Martin", "Bonjour"))
    deliver_mail()
    [link] = links(mailbox.to(TARGET)[0], "/demande/confirmer/")
    assert submit_form(client, path_of(link), {}).status_code == 303
    mailbox.clear()
    for number in range(8):
        from_ip(client, number + 1)
        assert same_answer(client, contact(client, TARGET, "Jeanne Martin", "Bonjour")) == first
    deliver_mail()
    assert len(mailbox.to(TARGET)) == 5 - 1, "five replies a day in all, the first one included"
    assert stored_requests(TARGET) == 9, "every request is kept"


def test_the_daily_cap_is_a_setting_and_counts_newsletter_and_contact_replies_together(make_app, mailbox):
    app = make_app(MAIL_ADDRESS_DAILY_CAP=2, MAIL_UNVERIFIED_CAP=10)
    with app.app_context():
        client = app.test_client()
        for number in range(4):
            from_ip(client, number + 1)
            contact(client, TARGET, "Jeanne Martin", "Bonjour")
            subscribe(client, TARGET, ["evenements"])
        deliver_mail()
        assert len(mailbox.to(TARGET)) == 2


def test_the_newsletter_confirmation_of_a_stranger_is_capped_too(client, mailbox):
    for number in range(6):
        from_ip(client, number + 1)
        subscribe(client, TARGET, ["evenements"] if number % 2 else ["actualites-produit"])
    deliver_mail()
    assert len(mailbox.to(TARGET)) == 3


def test_the_acknowledgement_greets_without_the_name_and_quotes_no_message(client, mailbox):
    contact(client, TARGET, "Gagnez 1000 euros", "Cliquez sur https://spam.example/promo")
    deliver_mail()
    [raw] = mailbox.raw_to(TARGET)
    body = text_part(mailbox.to(TARGET)[0])
    assert body.startswith("Bonjour,")
    for text in (b"Gagnez", b"1000", b"spam.example"):
        assert text not in raw


@pytest.mark.parametrize("name", ["Jeanne\r\nBcc: autre@example.org", "Jeanne\nMartin", "Jeanne\rMartin",
                                  "Jeanne Martin\n", "Jeanne\u2028Martin", "Jeanne\x0bMartin"],
                         ids=["crlf-header", "lf", "cr", "trailing-lf", "unicode-line-separator", "vertical-tab"])
def test_a_name_with_a_line_break_is_refused_in_french_and_the_typing_kept(client, mailbox, name):
    response = contact(client, TARGET, name, "Mon message reste là.")
    page = visible(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "Écrivez le nom sur une seule ligne, sans retour à la ligne." in page
    assert "Mon message reste là." in page and TARGET in response.get_data(as_text=True)
    assert stored_requests(TARGET) == 0
    deliver_mail()
    assert mailbox.to(TARGET) == []


def test_the_designated_person_of_directives_is_one_line_too(client):
    response = submit_form(client, "/contact", {
        "name": "Jeanne Martin", "email": TARGET, "kind": "post_mortem", "message": "Mes directives.",
        "designated_name": "Paul\nDurand", "designated_contact": "paul@example.org"})
    assert response.status_code == 400
    assert "Écrivez le nom sur une seule ligne" in visible(response.get_data(as_text=True))
