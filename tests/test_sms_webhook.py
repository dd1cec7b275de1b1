"""STOP by SMS: Twilio's signed webhook, the keywords in every form, TwiML answers, nothing changed when unsigned."""

import hashlib
import json
import logging
import uuid

import pytest
import sqlalchemy as sa
from twilio.request_validator import HMAC_SHA1, HMAC_SHA256, RequestValidator

from app.extensions import db
from app.newsletter.campaigns import sms_audience
from app.newsletter.models import SubscriberEvent
from app.sms.twilio import KEYWORDS, Keyword, keyword
from app.suppression.models import Suppression
from app.suppression.services import is_suppressed
from tests.support.newsletter import confirmed_subscriber, subscriber

SECRET = "twilio-auth-token-for-tests-0123456789"
NUMBER = "+33612345678"


def twilio_signature(url: str, params: dict, secret: str = SECRET, algorithm: str | None = None) -> str:
    """What Twilio sends, computed by the official `twilio` package's RequestValidator."""
    return RequestValidator(secret).compute_signature(url, params, algorithm)


def inbound(body: str, sender: str = NUMBER) -> dict:
    """An inbound SMS as Twilio posts it (each with its own MessageSid)."""
    return {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC0123456789abcdef0123456789abcdef",
            "From": sender, "To": "+33700000000", "Body": body, "NumSegments": "1"}


@pytest.fixture
def sms_app(make_app):
    """The app with the webhook secret and the public address Twilio calls (behind a proxy)."""
    app = make_app(SMS_WEBHOOK_SECRET=SECRET, SITE_URL="https://www.k-inventory.com")
    with app.app_context():
        yield app


def post_sms(app, params: dict, signature: str | None = "auto", path: str = "/webhooks/sms"):
    """POST to the webhook without cookies, signed like Twilio unless told otherwise."""
    headers = {}
    if signature == "auto":
        signature = twilio_signature("https://www.k-inventory.com" + path, params)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return app.test_client(use_cookies=False).post(path, data=params, headers=headers,
                                                   base_url="http://127.0.0.1:8000")


@pytest.mark.parametrize("body", ["STOP", "stop", "Stop", " STOP ", "STOP.", "Stop !", "« STOP »", "ARRET", "arrêt",
                                  "ARRÊT", "Arrêt.", "STOP SMS", "stop  sms", "Stop-SMS", "UNSUBSCRIBE",
                                  "unsubscribe!", "DESABONNER", "désabonner", "Désabonner ?", "\nSTOP\n"])
def test_every_stop_variant_opts_the_number_out_with_a_french_twiml_reply(sms_app, body):
    response = post_sms(sms_app, inbound(body))
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>')
    assert "ne recevrez plus nos SMS" in text
    assert is_suppressed("sms", phone=NUMBER)


@pytest.mark.parametrize("body", ["Bonjour", "STOPPER la pub", "Merci, stop et encore", "", "S T O P", "ARRETEZ"])
def test_other_bodies_are_logged_without_the_number_and_answered_empty(sms_app, body, caplog):
    caplog.set_level(logging.INFO)
    response = post_sms(sms_app, inbound(body))
    assert response.status_code == 200 and response.get_data(as_text=True).endswith("<Response />")
    assert not is_suppressed("sms", phone=NUMBER)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "SMS webhook" in logged and NUMBER not in logged and "612345678" not in logged


def test_stop_turns_off_the_subscribers_sms_and_is_logged(sms_app, mailbox):
    client = sms_app.test_client()
    confirmed_subscriber(client, mailbox, "s@example.com", ["evenements"], phone="06 12 34 56 78")
    assert sms_audience() == [NUMBER]
    post_sms(sms_app, inbound("STOP"))
    person = subscriber("s@example.com")
    assert person.sms_status == "unsubscribed" and person.email_status == "confirmed"
    assert sms_audience() == []
    event = db.session.scalar(sa.select(SubscriberEvent).where(SubscriberEvent.action == "sms_stop"))
    assert event.channel == "sms" and event.source == "sms"
    post_sms(sms_app, inbound("stop"))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suppression)) == 1


@pytest.mark.parametrize("case", ["missing", "wrong", "other_secret", "other_url", "altered_body"])
def test_an_unsigned_or_wrongly_signed_request_gets_403_and_changes_nothing(sms_app, case):
    params = inbound("STOP")
    signature = {
        "missing": None,
        "wrong": "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "other_secret": twilio_signature("https://www.k-inventory.com/webhooks/sms", params, "another-secret"),
        "other_url": twilio_signature("https://evil.example/webhooks/sms", params),
        "altered_body": twilio_signature("https://www.k-inventory.com/webhooks/sms", inbound("Bonjour")),
    }[case]
    response = post_sms(sms_app, params, signature=signature)
    assert response.status_code == 403
    assert not is_suppressed("sms", phone=NUMBER)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suppression)) == 0


def test_without_a_configured_secret_every_request_is_refused(make_app):
    app = make_app(SMS_WEBHOOK_SECRET="", SITE_URL="https://www.k-inventory.com")
    with app.app_context():
        params = inbound("STOP")
        signature = twilio_signature("https://www.k-inventory.com/webhooks/sms", params, "")
        response = app.test_client().post("/webhooks/sms", data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 403 and not is_suppressed("sms", phone=NUMBER)


def test_the_signed_url_includes_the_query_string(sms_app):
    params = inbound("STOP")
    assert post_sms(sms_app, params, path="/webhooks/sms?source=twilio").status_code == 200
    assert is_suppressed("sms", phone=NUMBER)


def test_start_from_the_phone_is_the_confirmed_sms_opt_in_after_a_stop(sms_app, mailbox):
    client = sms_app.test_client()
    confirmed_subscriber(client, mailbox, "s@example.com", ["evenements"], phone=NUMBER)
    post_sms(sms_app, inbound("STOP"))
    response = post_sms(sms_app, inbound("Start"))
    assert "de nouveau nos SMS" in response.get_data(as_text=True)
    assert not is_suppressed("sms", phone=NUMBER)
    assert subscriber("s@example.com").sms_status == "confirmed"


def test_start_from_an_unknown_number_does_nothing(sms_app):
    response = post_sms(sms_app, inbound("START", "+33698765432"))
    assert response.get_data(as_text=True).endswith("<Response />")


@pytest.mark.parametrize(("body", "expected"), [("  Arrêt !! ", "ARRET"), ("stop-sms", "STOP SMS"),
                                                ("Désabonner", "DESABONNER"), ("", "")])
def test_keyword_normalisation(body, expected):
    assert keyword(body) == expected


def sms_stop_words() -> list[str]:
    """Every opt-out word we follow, in the forms people type them."""
    return sorted(KEYWORDS[Keyword.STOP]) + ["Arrêt", "arrête", "Désabonner", "stop-all", "Opt-out"]


@pytest.mark.parametrize("word", sms_stop_words())
def test_each_twilio_opt_out_word_takes_the_number_out_of_the_sms_audience(sms_app, mailbox, word):
    confirmed_subscriber(sms_app.test_client(), mailbox, "w@example.com", ["evenements"], phone=NUMBER)
    assert sms_audience() == [NUMBER]
    post_sms(sms_app, inbound(word))
    assert sms_audience() == [] and is_suppressed("sms", phone=NUMBER)


@pytest.mark.parametrize("body", ["Bonjour", "STOP", ""])
def test_opt_out_type_stop_is_authoritative(sms_app, mailbox, body):
    confirmed_subscriber(sms_app.test_client(), mailbox, "o@example.com", ["evenements"], phone=NUMBER)
    response = post_sms(sms_app, {**inbound(body), "OptOutType": "STOP"})
    assert response.get_data(as_text=True).endswith("<Response />"), "Twilio's Advanced Opt-Out answers itself"
    assert sms_audience() == [] and subscriber("o@example.com").sms_status == "unsubscribed"


def test_opt_out_type_help_wins_over_a_stop_body(sms_app, mailbox):
    confirmed_subscriber(sms_app.test_client(), mailbox, "o@example.com", ["evenements"], phone=NUMBER)
    post_sms(sms_app, {**inbound("STOP"), "OptOutType": "HELP"})
    assert sms_audience() == [NUMBER]


def test_opt_out_type_start_brings_back_a_number_that_said_stop(sms_app, mailbox):
    confirmed_subscriber(sms_app.test_client(), mailbox, "o@example.com", ["evenements"], phone=NUMBER)
    post_sms(sms_app, {**inbound("ARRET"), "OptOutType": "STOP"})
    post_sms(sms_app, {**inbound("Oui"), "OptOutType": "START"})
    assert sms_audience() == [NUMBER]


@pytest.mark.parametrize("body", ["HELP", "info", "Aide", "AIDE !"])
def test_help_answers_the_company_and_the_contact_page(sms_app, body):
    text = post_sms(sms_app, inbound(body)).get_data(as_text=True)
    assert "K-Inventory (K-Technology &amp; Services)" in text and "https://www.k-inventory.com/contact" in text
    assert not is_suppressed("sms", phone=NUMBER)


def test_a_replayed_start_changes_nothing(sms_app, mailbox):
    confirmed_subscriber(sms_app.test_client(), mailbox, "r@example.com", ["evenements"], phone=NUMBER)
    start = inbound("START")
    post_sms(sms_app, inbound("STOP"))
    post_sms(sms_app, start)
    post_sms(sms_app, inbound("STOP"))
    replay = post_sms(sms_app, start)
    assert replay.status_code == 200 and replay.get_data(as_text=True).endswith("<Response />")
    assert is_suppressed("sms", phone=NUMBER) and sms_audience() == []
    assert subscriber("r@example.com").sms_status == "unsubscribed"


def test_a_start_proves_a_number_asked_for_on_the_form(sms_app, mailbox):
    from tests.support.newsletter import confirm_by_mail, subscribe

    client = sms_app.test_client()
    subscribe(client, "s@example.com", ["evenements"], phone=NUMBER)
    confirm_by_mail(client, mailbox, "s@example.com")
    assert sms_audience() == []
    assert "de nouveau nos SMS" in post_sms(sms_app, inbound("Start")).get_data(as_text=True)
    person = subscriber("s@example.com")
    assert person.sms_proof_source == "sms" and person.sms_consent_source == "sms" and sms_audience() == [NUMBER]


@pytest.mark.parametrize("signed_url", ["https://www.k-inventory.com:443/webhooks/sms",
                                        "https://www.k-inventory.com/webhooks/sms"])
def test_a_signature_over_the_url_with_or_without_the_default_port_is_accepted(sms_app, signed_url):
    params = inbound("STOP")
    assert RequestValidator(SECRET).validate(signed_url.replace(":443", ""), params,
                                             twilio_signature(signed_url, params))
    assert post_sms(sms_app, params, signature=twilio_signature(signed_url, params)).status_code == 200
    assert is_suppressed("sms", phone=NUMBER)


def test_a_site_url_with_its_port_accepts_a_signature_without_it(make_app):
    app = make_app(SMS_WEBHOOK_SECRET=SECRET, SITE_URL="https://www.k-inventory.com:443")
    with app.app_context():
        params = inbound("STOP")
        signature = twilio_signature("https://www.k-inventory.com/webhooks/sms", params)
        assert post_sms(app, params, signature=signature).status_code == 200


def test_every_posted_parameter_is_part_of_the_signature(sms_app):
    params = {**inbound("STOP"), "MediaUrl0": "https://example.com/a.jpg"}
    response = post_sms(sms_app, params)
    assert response.status_code == 200 and is_suppressed("sms", phone=NUMBER)


def settings_header(algorithm: str) -> dict:
    """X-Twilio-Webhooks-Signature-Settings as Twilio sends it with a webhook signed by a SharedKey."""
    return {"X-Twilio-Webhooks-Signature-Settings": f"key=webhooks_sharedkey_0123456789,algorithm={algorithm}"}


@pytest.mark.parametrize("algorithm", [None, HMAC_SHA1, HMAC_SHA256])
def test_every_signing_method_of_the_twilio_package_is_accepted(sms_app, algorithm):
    params, url = inbound("STOP"), "https://www.k-inventory.com/webhooks/sms"
    headers = {"X-Twilio-Signature": twilio_signature(url, params, algorithm=algorithm)}
    headers |= settings_header(algorithm) if algorithm else {}
    response = sms_app.test_client(use_cookies=False).post("/webhooks/sms", data=params, headers=headers)
    assert response.status_code == 200 and is_suppressed("sms", phone=NUMBER)


@pytest.mark.parametrize(("signed_with", "announced"), [
    (HMAC_SHA256, None),  # without its settings header a signature is checked as SHA-1
    (HMAC_SHA1, HMAC_SHA256),
    (HMAC_SHA256, "HMAC_SHA512"),  # an algorithm the package does not know
])
def test_a_signature_checked_by_another_algorithm_gets_403(sms_app, signed_with, announced):
    params, url = inbound("STOP"), "https://www.k-inventory.com/webhooks/sms"
    headers = {"X-Twilio-Signature": twilio_signature(url, params, algorithm=signed_with)}
    headers |= settings_header(announced) if announced else {}
    response = sms_app.test_client(use_cookies=False).post("/webhooks/sms", data=params, headers=headers)
    assert response.status_code == 403 and not is_suppressed("sms", phone=NUMBER)


def post_json(app, body: str, signed_body: str | None = None):
    """A JSON webhook as Twilio signs it: the body's SHA-256 (hex) as bodySHA256 in the signed URL, no parameters."""
    path = "/webhooks/sms/status?bodySHA256=" + hashlib.sha256((signed_body or body).encode()).hexdigest()
    signature = twilio_signature("https://www.k-inventory.com" + path, {})
    return app.test_client(use_cookies=False).post(path, data=body, content_type="application/json",
                                                   headers={"X-Twilio-Signature": signature})


def test_a_json_body_signed_by_its_body_sha256_is_accepted_and_a_changed_one_refused(sms_app):
    body = json.dumps({"MessageSid": "SM" + uuid.uuid4().hex, "MessageStatus": "delivered"})
    assert post_json(sms_app, body).status_code == 204
    assert post_json(sms_app, body.replace("delivered", "failed"), signed_body=body).status_code == 403
