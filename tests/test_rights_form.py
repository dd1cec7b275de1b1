"""The contact form: what it explains, what it stores, the acknowledgement, the signed links, reCAPTCHA, and the
request taken « sans captcha » when the check cannot run."""

import re
import socket
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.mail.models import OutboxMessage
from app.rights.models import RightsRequest
from tests.conftest import submit_form
from tests.support.newsletter import latest_mail, links, path_of, text_part
from tests.support.rights import confirmed_request, from_network, send_request, staff_client, stored_request

SECRET = "secret-key-for-tests-0123456789abcdef"


def visible(html: str) -> str:
    """The page's text without tags, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\u202f", " ").replace("\u00a0", " ")


def request_count() -> int:
    """How many requests are stored."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(RightsRequest))


def test_the_form_explains_the_deadline_the_identity_check_and_recaptcha(client):
    page = visible(client.get("/contact").get_data(as_text=True))
    for kind in ("Accès", "Rectification", "Effacement", "Portabilité", "Opposition", "Limitation du traitement",
                 "Retrait du consentement", "Directives post-mortem", "Désabonnement", "Question ou réclamation"):
        assert kind in page
    assert "dans un délai d’un mois à compter de la réception" in page
    assert "confirmer que l’adresse est la vôtre" in page
    assert "Ce formulaire est protégé par reCAPTCHA, un service proposé par Google" in page
    assert "Vérification anti-spam désactivée" in page  # no keys in tests: the check is off, and says so


def test_the_english_form(client):
    response = client.get("/en/contact")
    page = visible(response.get_data(as_text=True))
    assert response.status_code == 200 and '<html lang="en">' in response.get_data(as_text=True)
    assert "Erasure" in page and "within one month of receipt" in page


def test_a_request_is_stored_with_a_reference_and_acknowledged_by_mail(client, mailbox):
    response = send_request(client, kind="access")
    assert response.status_code == 303
    page = visible(client.get(response.headers["Location"]).get_data(as_text=True))
    stored = stored_request()
    assert re.fullmatch(r"DR-20\d\d-\d{6}", stored.reference)
    assert f"Votre demande {stored.reference} est enregistrée" in page
    assert stored.status == "unconfirmed" and stored.due_on > stored.received_at.date()
    message = latest_mail(mailbox, "jeanne@example.fr")
    body = text_part(message)
    assert stored.reference in message["Subject"] and stored.reference in body
    assert links(message, "/demande/confirmer/") and links(message, "/demande/")
    assert "List-Unsubscribe" not in message  # a transactional e-mail


@pytest.mark.parametrize(("fields", "error"), [
    ({"email": "pas-une-adresse"}, "Cette adresse e-mail n’est pas valide"),
    ({"message": ""}, "Écrivez votre demande."),
    ({"kind": "inconnu"}, "Choisissez le type de votre demande."),
    ({"kind": "rectification", "correction": ""}, "Indiquez ce qu’il faut corriger"),
    ({"kind": "post_mortem", "designated_name": ""}, "Indiquez la personne que vous désignez."),
    ({"phone": "12"}, "Ce numéro de téléphone n’est pas valide"),
])
def test_bad_input_gets_a_french_message_keeps_the_typing_and_stores_nothing(client, fields, error):
    response = send_request(client, name="Jeanne Typée", **{"message": "Mon texte à garder", **fields})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert error in visible(html)
    assert 'value="Jeanne Typée"' in html
    if fields.get("message", "x"):
        assert "Mon texte à garder" in html
    assert request_count() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_the_fields_each_type_needs_are_kept(client):
    send_request(client, kind="post_mortem", designated_name="Paul Martin", designated_contact="paul@example.fr",
                 correction="ignored for this type")
    stored = stored_request()
    assert (stored.designated_name, stored.designated_contact, stored.correction) == (
        "Paul Martin", "paul@example.fr", None)


def test_the_honeypot_looks_like_success_and_stores_nothing(client, mailbox):
    response = send_request(client, website="http://spam.example")
    assert response.status_code == 303
    assert request_count() == 0


def test_a_get_of_the_confirmation_link_changes_nothing_and_the_post_confirms(client, mailbox):
    send_request(client)
    [link] = links(latest_mail(mailbox, "jeanne@example.fr"), "/demande/confirmer/")
    client.get(path_of(link))
    assert stored_request().status == "unconfirmed"
    response = submit_form(client, path_of(link), {})
    assert response.status_code == 303
    page = visible(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Adresse confirmée" in page and "votre adresse est confirmée" in page
    assert stored_request().confirmed_at is not None


def test_the_status_link_shows_where_the_request_stands(client, mailbox):
    send_request(client)
    status_link = [u for u in links(latest_mail(mailbox, "jeanne@example.fr"), "/demande/") if "confirmer" not in u]
    page = visible(client.get(path_of(status_link[0])).get_data(as_text=True))
    assert "Reçue, adresse à confirmer" in page and "Demande reçue" in page


@pytest.mark.parametrize("mangle", [lambda t: t[:-3], lambda t: t + "x", lambda t: "abc." + t])
def test_a_tampered_link_gets_a_400_page_in_french(client, mailbox, mangle):
    send_request(client)
    [link] = links(latest_mail(mailbox, "jeanne@example.fr"), "/demande/confirmer/")
    base, token = path_of(link).rsplit("/", 1)
    response = client.post(f"{base}/{mangle(token)}")
    assert response.status_code in (400,)
    assert stored_request().status == "unconfirmed"
    response = client.get(f"{base}/{mangle(token)}")
    assert response.status_code == 400 and "Lien invalide" in visible(response.get_data(as_text=True))


def test_unconfirmed_requests_expire_after_30_days(client, runner, mailbox):
    send_request(client)
    stored = stored_request()
    stored.received_at -= timedelta(days=31)
    db.session.commit()
    result = runner.invoke(args=["rights", "expire"])
    assert "1 unconfirmed request(s) expired" in result.output
    assert stored_request().status == "expired"


def test_an_english_request_gets_an_english_acknowledgement(client, mailbox):
    send_request(client, url="/en/contact")
    message = latest_mail(mailbox, "jeanne@example.fr")
    assert "has been received" in message["Subject"]
    assert "/en/request/confirm/" in text_part(message)


@pytest.fixture
def protected(make_app, httpserver):
    """An app whose contact form checks reCAPTCHA against a loopback siteverify."""
    app = make_app(RECAPTCHA_SITE_KEY="site-key", RECAPTCHA_SECRET_KEY=SECRET,
                   CAPTCHA_VERIFY_URL=httpserver.url_for("/siteverify"), CAPTCHA_EXPECTED_HOSTNAME="localhost")
    with app.app_context():
        yield app


def test_with_recaptcha_the_widget_is_loaded_on_this_page_only(protected):
    client = protected.test_client()
    contact = client.get("/contact")
    assert 'class="g-recaptcha" data-sitekey="site-key"' in contact.get_data(as_text=True)
    assert "https://www.google.com" in contact.headers["Content-Security-Policy"]
    assert "recaptcha" not in client.get("/newsletter").get_data(as_text=True)


def test_a_valid_recaptcha_lets_the_request_through(protected, httpserver, mailbox):
    httpserver.expect_request("/siteverify", method="POST").respond_with_json(
        {"success": True, "hostname": "localhost"})
    response = send_request(protected.test_client(), **{"g-recaptcha-response": "token"})
    assert response.status_code == 303 and request_count() == 1


def siteverify_answers(httpserver, answer) -> None:
    """Make the loopback siteverify answer this JSON, this text, or this HTTP status (None: never asked)."""
    if isinstance(answer, dict):
        httpserver.expect_request("/siteverify").respond_with_json(answer)
    elif isinstance(answer, str):
        httpserver.expect_request("/siteverify").respond_with_data(answer)
    elif isinstance(answer, int):
        httpserver.expect_request("/siteverify").respond_with_data("oops", status=answer)


@pytest.mark.parametrize("answer", [
    {"success": False, "error-codes": ["invalid-input-response"]},
    {"success": True, "hostname": "evil.example"},
])
def test_a_check_that_says_no_refuses_keeps_the_typing_and_stores_nothing(protected, httpserver, answer):
    siteverify_answers(httpserver, answer)
    response = send_request(protected.test_client(), message="Texte saisi", **{"g-recaptcha-response": "token"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Texte saisi" in html and 'value="jeanne@example.fr"' in html
    assert "anti-spam" in visible(html) or "reCAPTCHA" in visible(html)
    assert request_count() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


@pytest.mark.parametrize(("answer", "token"), [
    (None, ""),  # no JavaScript, or the widget's script blocked: no token
    ("not json", "token"),
    (500, "token"),
])
def test_when_the_check_cannot_run_the_request_is_taken_sans_captcha_and_confirmed_by_mail(
        protected, httpserver, mailbox, answer, token):
    siteverify_answers(httpserver, answer)
    response = send_request(protected.test_client(), **{"g-recaptcha-response": token})
    assert response.status_code == 303 and request_count() == 1
    stored = db.session.scalar(sa.select(RightsRequest))
    assert stored.without_captcha is True and stored.status == "unconfirmed"
    assert links(latest_mail(mailbox, "jeanne@example.fr"), "/demande/confirmer/")
    page = staff_client(protected, "dpo").get(f"/admin/demandes/{stored.reference}").get_data(as_text=True)
    assert "sans captcha" in visible(page)


def test_siteverify_unreachable_is_a_check_that_cannot_run(make_app, mailbox):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    app = make_app(RECAPTCHA_SITE_KEY="site-key", RECAPTCHA_SECRET_KEY=SECRET,
                   CAPTCHA_VERIFY_URL=f"http://127.0.0.1:{port}/siteverify")
    with app.app_context():
        assert send_request(app.test_client(), **{"g-recaptcha-response": "token"}).status_code == 303
        assert db.session.scalar(sa.select(RightsRequest.without_captcha)) is True


def test_requests_without_the_check_have_stricter_limits_per_address_and_per_network(protected, mailbox):
    for number in range(2):
        assert send_request(from_network(protected, f"198.51.{number}.1")).status_code == 303
    third = send_request(from_network(protected, "198.51.2.1"), message="Texte saisi")
    html = visible(third.get_data(as_text=True))
    assert third.status_code == 400 and "trop de demandes sans vérification" in html and "Texte saisi" in html
    assert send_request(from_network(protected, "198.51.2.1"), email="paul@example.fr").status_code == 303
    for number in range(2):
        assert send_request(from_network(protected, f"198.51.2.{number + 2}"),
                            email=f"p{number}@example.fr").status_code == 303
    assert send_request(from_network(protected, "198.51.2.9"), email="z@example.fr").status_code == 400, (
        "a fourth from the same /24 within the hour")
    assert send_request(from_network(protected, "203.0.113.1"), email="z@example.fr").status_code == 303
    assert request_count() == 6


def test_the_contact_page_names_the_postal_address_and_the_privacy_email(make_app):
    app = make_app(PRIVACY_EMAIL="dpo@k-inventory.com")
    page = visible(app.test_client().get("/contact").get_data(as_text=True))
    assert "Tour Ariane La Défense 9" in page and "92088 Paris La Défense Cedex" in page
    assert "dpo@k-inventory.com" in page and "par courrier" in page
    assert "dpo@" not in visible(make_app().test_client().get("/contact").get_data(as_text=True))


def test_confirmed_request_helper(client, mailbox):
    assert confirmed_request(client, mailbox).status == "confirmed"
