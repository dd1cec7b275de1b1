"""Campaigns and unsubscribing: headers and links in real e-mails, scanner-proof GET, RFC 8058 one-click POST."""

import re
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses

import pytest
import sqlalchemy as sa

from app.datamap import Person, erase_person
from app.extensions import db
from app.mail.models import OutboxMessage
from app.newsletter.links import manage_token
from app.newsletter.models import Campaign, SubscriberEvent
from app.personal import keyed_hash
from app.suppression.models import Suppression
from app.suppression.services import is_suppressed, suppress
from tests.conftest import deliver_mail, submit_form
from tests.support.newsletter import (
    confirmed_subscriber,
    html_part,
    latest_mail,
    links,
    path_of,
    subscribe,
    subscriber,
    text_part,
)

LIST_UNSUBSCRIBE = re.compile(r"<([^>]+)>")


def send(runner, tmp_path, slug="actualites-produit", html=True):
    """Run `flask newsletter send` with a text (and HTML) body; return the command's output."""
    text = tmp_path / "campagne.txt"
    text.write_text("Bonjour,\n\nVoici les nouveautés de K-Inventory.\n", encoding="utf-8")
    args = ["newsletter", "send", "--list", slug, "--subject", "Nouveautés de novembre", "--text", str(text)]
    if html:
        page = tmp_path / "campagne.html"
        page.write_text("<html><body><h1>Nouveautés</h1><p>Voici les nouveautés.</p></body></html>", encoding="utf-8")
        args += ["--html", str(page)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.output


def campaign_mail(mailbox, address: str):
    """The campaign message received by one address, if any."""
    deliver_mail()
    return [m for m in mailbox.to(address) if m["Subject"] == "Nouveautés de novembre"]


def unsubscribe_url(message) -> str:
    """The HTTPS link of List-Unsubscribe."""
    return LIST_UNSUBSCRIBE.findall(message["List-Unsubscribe"])[0]


@pytest.fixture
def reader(client, mailbox):
    """A confirmed subscriber of both lists."""
    return confirmed_subscriber(client, mailbox, "reader@example.com", ["actualites-produit", "evenements"])


def test_a_campaign_mail_carries_the_headers_and_links(app, runner, client, mailbox, reader, tmp_path):
    app.config["UNSUBSCRIBE_MAILTO"] = "desabonnement@k-inventory.com"
    assert "1 messages queued" in send(runner, tmp_path)
    [message] = campaign_mail(mailbox, "reader@example.com")
    assert getaddresses([message["To"]])[0][1] == "reader@example.com"
    targets = LIST_UNSUBSCRIBE.findall(message["List-Unsubscribe"])
    assert targets[0].startswith("http://localhost/newsletter/desabonnement/")
    assert targets[1].startswith("mailto:desabonnement@k-inventory.com?subject=unsubscribe")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == "K-Inventory Actualites produit <actualites-produit.localhost>"
    text, html = text_part(message), html_part(message)
    assert "Voici les nouveautés de K-Inventory." in text
    assert f"Se désabonner\u00a0: {targets[0]}" in text
    assert links(message, "/newsletter/preferences/")
    assert "Actualités produit" in text
    assert f'href="{targets[0]}"' in html and ">Se désabonner</a>" in html and "/newsletter/preferences/" in html
    assert html.index("Se désabonner") < html.index("</body>")
    assert client.get(path_of(targets[0])).status_code == 200


def test_no_mailto_without_the_setting_and_text_only_campaigns(runner, mailbox, reader, tmp_path):
    send(runner, tmp_path, html=False)
    [message] = campaign_mail(mailbox, "reader@example.com")
    assert "mailto:" not in message["List-Unsubscribe"]
    assert message.get_body(preferencelist=("html",)) is None
    assert "Se désabonner" in text_part(message)


def test_nobody_gets_a_campaign_before_confirming(client, runner, mailbox, tmp_path):
    subscribe(client, "pending@example.com", ["actualites-produit"])
    assert "0 messages queued" in send(runner, tmp_path)
    assert campaign_mail(mailbox, "pending@example.com") == []


def test_the_campaign_goes_to_the_list_members_only(client, runner, mailbox, tmp_path):
    confirmed_subscriber(client, mailbox, "news@example.com", ["actualites-produit"])
    confirmed_subscriber(client, mailbox, "events@example.com", ["evenements"])
    send(runner, tmp_path, slug="evenements")
    assert campaign_mail(mailbox, "events@example.com") and not campaign_mail(mailbox, "news@example.com")


def test_get_of_the_link_changes_nothing(client, runner, mailbox, reader, tmp_path):
    send(runner, tmp_path)
    [message] = campaign_mail(mailbox, "reader@example.com")
    url = path_of(unsubscribe_url(message))
    for _ in range(3):
        page = client.get(url)
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and ">Me désabonner</button>" in html and "/newsletter/preferences/" in html
        assert "Vous ne recevrez plus" not in html and "Confirmez avec le bouton" in html  # it asks before it tells
    again = client.head(url)
    assert again.status_code == 200
    person = subscriber("reader@example.com")
    assert person.slugs_with("active") == ["actualites-produit", "evenements"]
    assert not is_suppressed("email", email="reader@example.com")


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_one_click_post_without_cookies_stops_the_next_campaign(app, runner, mailbox, reader, tmp_path, encoding):
    send(runner, tmp_path)
    [message] = campaign_mail(mailbox, "reader@example.com")
    fresh = app.test_client(use_cookies=False)
    response = fresh.post(path_of(unsubscribe_url(message)), data={"List-Unsubscribe": "One-Click"},
                          content_type="multipart/form-data" if encoding == "multipart" else None)
    assert response.status_code == 200 and "Location" not in response.headers
    person = subscriber("reader@example.com")
    assert person.subscription("actualites-produit").status == "unsubscribed"
    assert person.subscription("evenements").status == "active", "one-click leaves that list only"
    event = db.session.scalar(sa.select(SubscriberEvent).where(SubscriberEvent.action == "unsubscribed"))
    assert event.source == "one_click" and event.list_slug == "actualites-produit"
    mailbox.clear()
    send(runner, tmp_path)
    assert campaign_mail(mailbox, "reader@example.com") == []
    send(runner, tmp_path, slug="evenements")
    assert campaign_mail(mailbox, "reader@example.com")


def test_the_post_is_idempotent(app, runner, mailbox, reader, tmp_path):
    url = f"/newsletter/desabonnement/{manage_token(reader.public_id, 'evenements')}"
    fresh = app.test_client(use_cookies=False)
    for _ in range(3):
        assert fresh.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    events = db.session.scalars(sa.select(SubscriberEvent).where(SubscriberEvent.action == "unsubscribed")).all()
    assert len(events) == 1


def test_leaving_the_last_list_puts_the_address_on_the_opt_out_list(app, client, mailbox):
    person = confirmed_subscriber(client, mailbox, "solo@example.com", ["evenements"])
    url = f"/newsletter/desabonnement/{manage_token(person.public_id, 'evenements')}"
    app.test_client(use_cookies=False).post(url, data={"List-Unsubscribe": "One-Click"})
    assert is_suppressed("email", email="solo@example.com")
    assert subscriber("solo@example.com").email_status == "unsubscribed"


def test_the_page_button_shows_you_are_unsubscribed_and_a_way_back(client, mailbox, reader):
    url = f"/newsletter/desabonnement/{manage_token(reader.public_id, 'evenements')}"
    html = client.get(url).get_data(as_text=True)
    assert 'method="post"' in html and "csrf_token" not in html.split("<main")[1].split("</main>")[0]
    response = client.post(url)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Vous êtes désabonné" in html and "Événements" in html
    resubscribe = re.search(r'href="(/newsletter/reabonnement/[^"]+)"', html).group(1)
    assert subscriber("reader@example.com").subscription("evenements").status == "unsubscribed"
    event = db.session.scalar(sa.select(SubscriberEvent).where(SubscriberEvent.action == "unsubscribed"))
    assert event.source == "unsubscribe_page"
    assert "Me réabonner" in client.get(resubscribe).get_data(as_text=True)
    assert subscriber("reader@example.com").subscription("evenements").status == "unsubscribed"
    mailbox.clear()
    response = submit_form(client, resubscribe, {})
    assert response.status_code == 303 and response.headers["Location"].endswith("/newsletter/verifiez-vos-e-mails")
    assert subscriber("reader@example.com").subscription("evenements").status == "pending"
    [confirm] = links(latest_mail(mailbox, "reader@example.com"), "/newsletter/confirmer/")
    submit_form(client, path_of(confirm), {})
    assert subscriber("reader@example.com").subscription("evenements").status == "active"


def test_the_unsubscribe_page_follows_the_browser_language(client, mailbox, reader):
    url = f"/newsletter/desabonnement/{manage_token(reader.public_id, 'evenements')}"
    english = client.get(url, headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert '<html lang="en">' in english and ">Unsubscribe me</button>" in english
    assert "Manage my preferences" in english
    assert ">Me désabonner</button>" in client.get(url).get_data(as_text=True)
    done = client.post(url + "?lang=en").get_data(as_text=True)
    assert "You are unsubscribed" in done


def tampered(token: str) -> list[str]:
    """Ways a token can be damaged or forged."""
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    return [flipped, token[:-10], token.split(".")[0], "x" + token, "not-a-token"]


def test_a_tampered_truncated_or_foreign_token_gets_a_400_page_and_changes_nothing(make_app, client, mailbox, reader):
    token = manage_token(reader.public_id, "evenements")
    foreign_app = make_app(SECRET_KEY="another-site-secret-" * 3)
    with foreign_app.app_context():
        foreign = manage_token(reader.public_id, "evenements")
    for bad in [*tampered(token), foreign]:
        for method in ("get", "post"):
            response = getattr(client, method)(f"/newsletter/desabonnement/{bad}",
                                               data={"List-Unsubscribe": "One-Click"} if method == "post" else None)
            html = response.get_data(as_text=True)
            assert response.status_code == 400, bad
            assert '<html lang="fr">' in html and "Lien invalide" in html and "rien n’a été changé" in html
    assert subscriber("reader@example.com").slugs_with("active") == ["actualites-produit", "evenements"]
    assert not is_suppressed("email", email="reader@example.com")


def test_a_confirmation_token_is_not_a_manage_token_and_vice_versa(client, mailbox, reader):
    from app.newsletter.links import confirm_token

    assert client.post(f"/newsletter/desabonnement/{confirm_token(reader.public_id)}").status_code == 400
    assert client.get(f"/newsletter/confirmer/{manage_token(reader.public_id)}").status_code == 400


def test_an_expired_confirmation_link_says_so(client, mailbox, time_machine):
    subscribe(client, "late@example.com", ["evenements"])
    [link] = links(latest_mail(mailbox, "late@example.com"), "/newsletter/confirmer/")
    time_machine.move_to(datetime.now(UTC) + timedelta(days=8))
    response = client.get(path_of(link))
    assert response.status_code == 400 and "Lien expiré" in response.get_data(as_text=True)
    assert subscriber("late@example.com").email_status == "pending"


def test_old_links_keep_working_after_the_secret_key_rotates(make_app, mailbox):
    old = make_app(SECRET_KEY="old-secret-" * 4)
    with old.app_context():
        person = confirmed_subscriber(old.test_client(), mailbox, "old@example.com", ["evenements"])
        token = manage_token(person.public_id, "evenements")
    new = make_app(SECRET_KEY="new-secret-" * 4, SECRET_KEY_FALLBACKS=["old-secret-" * 4])
    with new.app_context():
        response = new.test_client().post(f"/newsletter/desabonnement/{token}",
                                          data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        assert subscriber("old@example.com").subscription("evenements").status == "unsubscribed"
        db.session.remove()
        db.engine.dispose()  # the fixture closes the first app's connections only


def test_suppressed_and_restricted_people_are_skipped(client, runner, mailbox, tmp_path):
    for address in ("ok@example.com", "optout@example.com", "imported@example.com", "restricted@example.com"):
        confirmed_subscriber(client, mailbox, address, ["actualites-produit"])
    suppress("email", email="optout@example.com", source="rights")
    # An entry written straight into the table (say, imported from a former tool): the send itself checks it.
    db.session.add(Suppression(channel="email", identifier_hash=keyed_hash("imported@example.com"), source="import"))
    suppress("email", email="restricted@example.com", source="rights", reason="restriction")
    db.session.commit()
    assert subscriber("optout@example.com").subscription("actualites-produit").status == "unsubscribed"
    assert subscriber("restricted@example.com").subscription("actualites-produit").status == "active"
    output = send(runner, tmp_path)
    assert "1 messages queued, 2 held back by the opt-out list" in output
    deliver_mail()
    assert [m["To"] for m in mailbox.messages if m["Subject"] == "Nouveautés de novembre"] == ["ok@example.com"]
    campaign = db.session.scalar(sa.select(Campaign))
    assert (campaign.recipients, campaign.suppressed) == (1, 2)


def test_the_opt_out_survives_the_deletion_of_the_subscriber(app, client, runner, mailbox, tmp_path):
    person = confirmed_subscriber(client, mailbox, "gone@example.com", ["actualites-produit"], phone="0611223344")
    url = f"/newsletter/desabonnement/{manage_token(person.public_id, 'actualites-produit')}"
    app.test_client(use_cookies=False).post(url, data={"List-Unsubscribe": "One-Click"})
    counts = erase_person(Person(email="gone@example.com", phone="+33611223344"))
    db.session.commit()
    assert counts["newsletter"] == 1 and counts["liste_opposition"] == 0
    assert subscriber("gone@example.com") is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SubscriberEvent)) == 0
    assert is_suppressed("email", email="gone@example.com")
    # The old e-mail's link still answers, and changes nothing.
    assert app.test_client().post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    # Someone re-enters the address on the form: nothing is sent until a new confirmation.
    subscribe(client, "gone@example.com", ["actualites-produit"])
    mailbox.clear()
    send(runner, tmp_path)
    assert campaign_mail(mailbox, "gone@example.com") == []


def test_transactional_mail_has_no_unsubscribe_header(client, mailbox):
    subscribe(client, "t@example.com", ["evenements"])
    submit_form(client, "/newsletter", {"form": "link", "email": "t@example.com"})
    deliver_mail()
    for message in mailbox.to("t@example.com"):
        assert message["List-Unsubscribe"] is None and message["List-Id"] is None
    kinds = set(db.session.scalars(sa.select(OutboxMessage.kind)))
    assert kinds == {"transactional"}


def test_send_refuses_an_unknown_list_and_empty_text(runner, tmp_path):
    empty = tmp_path / "vide.txt"
    empty.write_text("  \n", encoding="utf-8")
    result = runner.invoke(args=["newsletter", "send", "--list", "inconnue", "--subject", "x", "--text", str(empty)])
    assert result.exit_code != 0 and "inconnue" in result.output
    result = runner.invoke(args=["newsletter", "send", "--list", "evenements", "--subject", "x", "--text", str(empty)])
    assert result.exit_code != 0 and "required" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0
