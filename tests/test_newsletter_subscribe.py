"""Subscribing: the form, double opt-in through a real e-mail, no enumeration, restrictions, English pages."""

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.newsletter.models import SubscriberEvent
from app.personal import keyed_hash
from app.suppression.services import is_suppressed, suppress
from tests.conftest import csrf_token, deliver_mail, submit_form
from tests.support.newsletter import (
    confirm_by_mail,
    confirmed_subscriber,
    latest_mail,
    links,
    path_of,
    prove_number,
    subscribe,
    subscriber,
    text_part,
)

CSRF_VALUE = re.compile(r'value="[^"]*"')


def test_the_form_shows_every_field_with_the_consent_box_unticked(client):
    html = client.get("/newsletter").get_data(as_text=True)
    assert "Adresse e-mail" in html and "Téléphone mobile" in html
    assert "Actualités produit" in html and "Événements" in html
    consent = re.search(r'<input[^>]*name="consent"[^>]*>', html).group(0)
    assert "checked" not in consent
    assert 'type="checkbox"' in consent
    assert not re.search(r'<input[^>]*name="lists"[^>]*checked', html)


def test_subscribe_mail_link_confirm(client, mailbox):
    response = subscribe(client, "Alice@Example.com", ["actualites-produit", "evenements"])
    assert response.status_code == 303 and response.headers["Location"].endswith("/newsletter/verifiez-vos-e-mails")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Vérifiez vos e-mails" in page
    pending = subscriber("alice@example.com")
    assert pending.email_status == "pending" and pending.slugs_with("pending") == ["actualites-produit", "evenements"]
    message = latest_mail(mailbox, "alice@example.com")
    assert "Confirmez votre inscription" in message["Subject"]
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None
    body = text_part(message)
    assert "Actualités produit" in body and "7 jours" in body
    [link] = links(message, "/newsletter/confirmer/")
    landing = client.get(path_of(link))
    assert landing.status_code == 200 and "Confirmer mon inscription" in landing.get_data(as_text=True)
    assert subscriber("alice@example.com").email_status == "pending", "a GET (a link scanner) confirms nothing"
    done = submit_form(client, path_of(link), {})
    assert done.status_code == 200 and "Inscription confirmée" in done.get_data(as_text=True)
    confirmed = subscriber("alice@example.com")
    assert confirmed.email_status == "confirmed" and confirmed.email_consent_source == "double_opt_in"
    assert confirmed.slugs_with("active") == ["actualites-produit", "evenements"]
    assert all(s.consented_at for s in confirmed.subscriptions)
    actions = list(db.session.scalars(sa.select(SubscriberEvent.action).order_by(SubscriberEvent.id)))
    assert actions == ["subscribe_requested", "confirmed", "confirmed"]


def test_confirming_twice_is_harmless(client, mailbox):
    confirmed_subscriber(client, mailbox, "a@example.com")
    [link] = links(mailbox.to("a@example.com")[-1], "/newsletter/confirmer/")
    again = client.get(path_of(link)).get_data(as_text=True)
    assert "Inscription déjà confirmée" in again
    assert subscriber("a@example.com").email_status == "confirmed"


def test_the_phone_number_is_stored_in_e164_and_confirmed_with_the_address(client, mailbox):
    person = confirmed_subscriber(client, mailbox, "p@example.com", phone="06 12 34 56 78")
    assert person.phone == "+33612345678" and person.phone_hash == keyed_hash("+33612345678")
    assert person.sms_status == "confirmed" and person.sms_consent_at is not None


@pytest.mark.parametrize(("data", "message"), [
    ({"email": "", "lists": ["evenements"], "consent": "y"}, "Indiquez votre adresse e-mail."),
    ({"email": "pas-une-adresse", "lists": ["evenements"], "consent": "y"}, "n’est pas valide"),
    ({"email": "a@example.com", "lists": [], "consent": "y"}, "Choisissez au moins une liste."),
    ({"email": "a@example.com", "lists": ["inconnue"], "consent": "y"}, "Choisissez au moins une liste."),
    ({"email": "a@example.com", "lists": ["evenements"]}, "Cochez la case pour donner votre accord."),
    ({"email": "a@example.com", "lists": ["evenements"], "consent": "y", "phone": "12"}, "numéro de téléphone"),
])
def test_bad_input_is_refused_with_a_clear_message_and_the_typing_kept(client, mailbox, data, message):
    response = submit_form(client, "/newsletter", {"form": "subscribe", **data})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html
    if data["email"]:
        assert f'value="{data["email"]}"' in html
    if data.get("phone"):
        assert 'value="12"' in html
    assert subscriber("a@example.com") is None
    deliver_mail()
    assert mailbox.messages == []


def normalised(html: str) -> str:
    """A page without its per-session CSRF tokens and nonces."""
    return CSRF_VALUE.sub('value=""', re.sub(r'nonce="[^"]*"', "", html))


@pytest.mark.parametrize("form", ["subscribe", "link"])
def test_the_answer_is_the_same_for_a_known_and_an_unknown_address(make_app, mailbox, form):
    app = make_app()
    with app.app_context():
        known_client = app.test_client()
        confirmed_subscriber(known_client, mailbox, "known@example.com")
        answers = []
        for address in ("known@example.com", "unknown@example.com"):
            client = app.test_client()
            data = {"form": form, "email": address, "lists": ["actualites-produit"], "consent": "y"}
            response = submit_form(client, "/newsletter", data)
            follow = client.get(response.headers["Location"])
            answers.append((response.status_code, response.headers["Location"], follow.status_code,
                            normalised(follow.get_data(as_text=True))))
        assert answers[0] == answers[1]


def test_an_address_already_confirmed_gets_a_manage_link_instead_of_a_new_confirmation(client, mailbox):
    confirmed_subscriber(client, mailbox, "a@example.com")
    subscribe(client, "a@example.com", ["actualites-produit"])
    message = latest_mail(mailbox, "a@example.com")
    assert "Gérer votre inscription" in message["Subject"] and "déjà inscrit" in text_part(message)
    assert links(message, "/newsletter/preferences/")


def test_a_lost_link_is_mailed_to_a_known_address_only(client, mailbox):
    confirmed_subscriber(client, mailbox, "a@example.com")
    mailbox.clear()
    for address in ("a@example.com", "nobody@example.com"):
        response = submit_form(client, "/newsletter", {"form": "link", "email": address})
        assert response.status_code == 303 and response.headers["Location"].endswith("/newsletter/lien-envoye")
    deliver_mail()
    assert [m["To"] for m in mailbox.messages] == ["a@example.com"]
    message = mailbox.messages[0]
    [preferences] = links(message, "/newsletter/preferences/")
    assert "Mes préférences" in client.get(path_of(preferences)).get_data(as_text=True)
    assert links(message, "/newsletter/desabonnement/")


def test_the_lost_link_form_checks_the_address(client):
    response = submit_form(client, "/newsletter", {"form": "link", "email": "nope"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "n’est pas valide" in html and 'value="nope"' in html


def test_nobody_gets_flooded_with_confirmation_mail(client, mailbox):
    for _ in range(8):
        subscribe(client, "victim@example.com", ["evenements"])
    deliver_mail()
    # An address never confirmed gets MAIL_UNVERIFIED_CAP (3) mails a day; a confirmed one at most 5 an hour.
    assert len(mailbox.to("victim@example.com")) == 3


def test_an_opted_out_address_is_cleared_by_a_new_confirmed_opt_in_only(client, mailbox):
    suppress("email", email="back@example.com", source="one_click")
    suppress("sms", phone="+33612345678", source="sms")
    db.session.commit()
    subscribe(client, "back@example.com", ["evenements"], phone="0612345678")
    assert is_suppressed("email", email="back@example.com"), "asking is not confirming"
    confirm_by_mail(client, mailbox, "back@example.com")
    assert not is_suppressed("email", email="back@example.com")
    assert is_suppressed("sms", phone="+33612345678"), "an e-mail click does not clear the SMS channel"
    person = subscriber("back@example.com")
    assert person.email_status == "confirmed" and person.sms_status != "confirmed"
    assert prove_number(client, "0612345678").status_code == 200
    assert not is_suppressed("sms", phone="+33612345678"), "the code typed back is a new opt-in from the phone"
    person = subscriber("back@example.com")
    assert person.sms_status == "confirmed" and person.sms_consent_source == "sms_code"
    actions = list(db.session.scalars(sa.select(SubscriberEvent.action).order_by(SubscriberEvent.id)))
    assert actions.count("opt_out_lifted") == 2


def test_a_restricted_address_is_neither_mailed_nor_confirmed(client, mailbox):
    subscribe(client, "r@example.com", ["evenements"])
    [link] = links(latest_mail(mailbox, "r@example.com"), "/newsletter/confirmer/")
    suppress("email", email="r@example.com", source="rights", reason="restriction")
    db.session.commit()
    response = submit_form(client, path_of(link), {})
    assert response.status_code == 409 and "limité" in response.get_data(as_text=True)
    assert subscriber("r@example.com").slugs_with("pending") == ["evenements"]
    mailbox.clear()
    response = subscribe(client, "r@example.com", ["evenements"])
    assert response.status_code == 303
    deliver_mail()
    assert mailbox.messages == []


def test_the_consent_id_is_linked_to_the_address(client, mailbox):
    from app.consent.models import ConsentSubject

    submit_form(client, "/cookies", {"choice": "refuse_all"})
    subscribe(client, "c@example.com", ["evenements"])
    links_made = list(db.session.scalars(sa.select(ConsentSubject)))
    assert [link.email_hash for link in links_made] == [keyed_hash("c@example.com")]
    event = db.session.scalar(sa.select(SubscriberEvent))
    assert event.detail["consent_id"] == links_made[0].consent_id


def test_english_pages_and_mail(client, mailbox):
    html = client.get("/en/newsletter").get_data(as_text=True)
    assert '<html lang="en">' in html and "Email address" in html and "Product news" in html
    response = subscribe(client, "en@example.com", ["evenements"], url="/en/newsletter")
    assert response.headers["Location"].endswith("/en/newsletter/check-your-email")
    assert "Check your email" in client.get(response.headers["Location"]).get_data(as_text=True)
    message = latest_mail(mailbox, "en@example.com")
    assert "Confirm your subscription" in message["Subject"]
    [link] = links(message, "/newsletter/confirmer/")
    assert link.endswith("?lang=en")
    page = client.get(path_of(link)).get_data(as_text=True)
    assert '<html lang="en">' in page and "Confirm my subscription" in page
    done = submit_form(client, path_of(link), {}).get_data(as_text=True)
    assert "Subscription confirmed" in done


def test_english_form_errors_are_in_english(client):
    response = submit_form(client, "/en/newsletter", {"form": "subscribe", "email": "x", "lists": []})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Choose at least one list." in html


def test_the_footer_links_to_the_newsletter(client, policy):
    assert 'href="/newsletter"' in client.get("/").get_data(as_text=True)
    assert 'href="/en/newsletter"' in client.get("/en/").get_data(as_text=True)


def test_another_sites_post_of_the_form_is_refused(client, mailbox):
    response = client.post("/newsletter", data={"form": "subscribe", "email": "a@example.com",
                                                "lists": ["evenements"], "consent": "y"},
                           headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert subscriber("a@example.com") is None


def test_the_form_is_rate_limited(client):
    token = csrf_token(client.get("/newsletter").get_data(as_text=True))
    codes = [client.post("/newsletter", data={"csrf_token": token, "form": "link", "email": "x"}).status_code
             for _ in range(12)]
    assert codes[:10] == [400] * 10 and codes[-1] == 429


def test_the_page_itself_is_never_rate_limited_only_its_posts(client):
    codes = {client.get("/newsletter").status_code for _ in range(15)}
    token = csrf_token(client.get("/newsletter").get_data(as_text=True))
    posts = [client.post("/newsletter", data={"csrf_token": token, "form": "link", "email": "x"}).status_code
             for _ in range(11)]
    assert codes == {200} and posts[-1] == 429
    assert client.get("/newsletter").status_code == 200  # reading the form stays open while posting waits
