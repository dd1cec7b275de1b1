"""SMS campaigns through a fake Twilio Messages API on loopback (pytest-httpserver), with genuine signatures."""

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from app.extensions import db
from app.newsletter import sms as newsletter_sms
from app.sms.models import SmsMessage
from app.sms.schedule import PARIS, next_allowed_slot
from app.sms.services import deliver_due
from app.suppression.services import is_suppressed
from tests.support.newsletter import confirm_by_mail, confirmed_subscriber, subscribe, subscriber

SECRET = "twilio-auth-token-for-tests-0123456789"
ACCOUNT = "AC" + "0" * 32
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
SENDER, NUMBER, OTHER, STRANGER = "+33700000000", "+33612345678", "+33611111111", "+33698765432"
SITE = "https://www.k-inventory.com"


@pytest.fixture
def twilio_app(make_app, httpserver):
    """The app pointed at the fake Twilio API, with the webhook secret and the public address."""
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_AUTH_TOKEN=SECRET, SMS_WEBHOOK_SECRET=SECRET,
                   TWILIO_FROM=SENDER, SMS_STOP_NUMBER=SENDER, TWILIO_API_URL=httpserver.url_for("/").rstrip("/"),
                   SITE_URL=SITE)
    with app.app_context():
        yield app


def paris(*args) -> datetime:
    """A Paris wall-clock time, in UTC."""
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


@pytest.fixture
def clock(time_machine):
    """Set the time the whole site sees (time-machine), standing still."""
    def set_to(moment: datetime) -> None:
        time_machine.move_to(moment, tick=False)
    set_to(paris(2026, 12, 2, 10, 0))  # a Wednesday morning
    return set_to


def twilio_accepts(httpserver) -> None:
    """Twilio answers 201 with a new SID to every message."""
    httpserver.expect_request(MESSAGES, method="POST").respond_with_handler(
        lambda request: __import__("werkzeug").Response(
            f'{{"sid": "SM{uuid.uuid4().hex}", "status": "queued"}}', status=201, content_type="application/json"))


def texted(httpserver) -> list[dict]:
    """Each message posted to the fake Twilio: its form fields."""
    return [{k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()} for request, _ in httpserver.log]


def campaign_texts(httpserver) -> list[tuple[str, str]]:
    """(recipient, body) of every marketing SMS Twilio received (codes left out)."""
    return [(m["To"], m["Body"]) for m in texted(httpserver) if "STOP au" in m["Body"]]


def signed_post(app, path: str, params: dict):
    """A POST signed by the official validator, as Twilio signs it."""
    signature = RequestValidator(SECRET).compute_signature(SITE + path, params)
    return app.test_client(use_cookies=False).post(path, data=params, headers={"X-Twilio-Signature": signature})


def inbound(Body: str, sender: str = NUMBER, **extra) -> dict:  # noqa: N803 (Twilio's name)
    """An inbound SMS as Twilio posts it."""
    return {"MessageSid": "SM" + uuid.uuid4().hex, "From": sender, "To": SENDER, "Body": Body, **extra}


def proven(app, mailbox, email: str, phone: str) -> None:
    """A subscriber of « Événements » whose number is proven by the code."""
    confirmed_subscriber(app.test_client(), mailbox, email, ["evenements"], phone=phone)


def test_the_quiet_hours_follow_french_rules():
    assert next_allowed_slot(paris(2026, 12, 5, 21, 0)) == paris(2026, 12, 7, 8, 0), "Saturday night → Monday 08:00"
    assert next_allowed_slot(paris(2027, 3, 27, 21, 0)) == paris(2027, 3, 30, 8, 0), "Easter Monday → Tuesday"
    assert next_allowed_slot(paris(2026, 12, 2, 7, 59)) == paris(2026, 12, 2, 8, 0)
    assert next_allowed_slot(paris(2026, 12, 2, 19, 59)) == paris(2026, 12, 2, 19, 59)
    assert next_allowed_slot(paris(2026, 12, 2, 20, 0)) == paris(2026, 12, 3, 8, 0)
    assert next_allowed_slot(paris(2026, 12, 24, 22, 0)) == paris(2026, 12, 26, 8, 0), "Christmas Day"
    assert next_allowed_slot(paris(2026, 7, 13, 20, 30)) == paris(2026, 7, 15, 8, 0), "14 July"


@pytest.mark.parametrize(("queued", "first", "monday"), [
    (paris(2026, 12, 5, 21, 0), paris(2026, 12, 7, 8, 0), True),
    (paris(2027, 3, 27, 21, 0), paris(2027, 3, 30, 8, 0), False),  # Easter Monday 2027
])
def test_a_campaign_queued_on_saturday_night_goes_out_at_the_next_allowed_8_am(
        twilio_app, httpserver, mailbox, clock, queued, first, monday):
    proven(twilio_app, mailbox, "a@example.com", NUMBER)
    twilio_accepts(httpserver)
    deliver_due()  # the code, sent at once
    httpserver.clear_log()
    clock(queued)
    report = newsletter_sms.send_sms_campaign("evenements", "Salon de Lyon le 12 : venez nous voir.")
    assert report.queued == 1 and report.first_slot == first
    for moment in (queued, paris(2026, 12, 6, 12, 0) if monday else paris(2027, 3, 29, 12, 0), first - timedelta(
            minutes=1)):
        clock(moment)
        deliver_due()
        assert campaign_texts(httpserver) == []
    clock(first)
    deliver_due()
    [(to, body)] = campaign_texts(httpserver)
    assert to == NUMBER and body == f"K-Inventory : Salon de Lyon le 12 : venez nous voir.\nSTOP au {SENDER}"


def test_a_strangers_number_is_never_texted_a_campaign(twilio_app, httpserver, mailbox, clock):
    client = twilio_app.test_client()
    subscribe(client, "me@example.com", ["evenements"], phone=STRANGER)
    confirm_by_mail(client, mailbox, "me@example.com")
    proven(twilio_app, mailbox, "owner@example.com", NUMBER)
    twilio_accepts(httpserver)
    newsletter_sms.send_sms_campaign("evenements", "Nouveautés")
    deliver_due()
    assert [to for to, _ in campaign_texts(httpserver)] == [NUMBER]
    codes = [m for m in texted(httpserver) if m["To"] == STRANGER]
    assert len(codes) == 1 and "code de vérification" in codes[0]["Body"], "only the code it was sent"


@pytest.mark.parametrize("reply", [{"Body": "STOP"}, {"Body": "Arrêt !"}, {"Body": "stopall"}, {"Body": "Revoke"},
                                   {"Body": "Merci", "OptOutType": "STOP"}])
def test_an_opt_out_stops_the_next_campaign(twilio_app, httpserver, mailbox, clock, reply):
    proven(twilio_app, mailbox, "a@example.com", NUMBER)
    proven(twilio_app, mailbox, "b@example.com", OTHER)
    assert signed_post(twilio_app, "/webhooks/sms", inbound(**reply)).status_code == 200
    twilio_accepts(httpserver)
    report = newsletter_sms.send_sms_campaign("evenements", "Nouveautés")
    assert report.queued == 1
    deliver_due()
    assert [to for to, _ in campaign_texts(httpserver)] == [OTHER]


def test_the_opt_out_list_is_checked_again_at_send_time(twilio_app, httpserver, mailbox, clock):
    proven(twilio_app, mailbox, "a@example.com", NUMBER)
    newsletter_sms.send_sms_campaign("evenements", "Nouveautés")
    signed_post(twilio_app, "/webhooks/sms", inbound("STOP"))
    twilio_accepts(httpserver)
    report = deliver_due()
    assert campaign_texts(httpserver) == [] and report.cancelled == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(SmsMessage.status).where(SmsMessage.kind == "marketing")) == "cancelled"


def test_a_5xx_from_twilio_loses_nothing(twilio_app, httpserver, mailbox, clock):
    proven(twilio_app, mailbox, "a@example.com", NUMBER)
    twilio_accepts(httpserver)
    deliver_due()
    httpserver.clear()
    newsletter_sms.send_sms_campaign("evenements", "Nouveautés")
    httpserver.expect_oneshot_request(MESSAGES, method="POST").respond_with_data("oops", status=503)
    httpserver.expect_oneshot_request(MESSAGES, method="POST").respond_with_json(
        {"code": 20429, "message": "Too Many Requests"}, status=429)
    report = deliver_due()
    assert report.retried == 1 and report.sent == 0
    row = db.session.scalar(sa.select(SmsMessage).where(SmsMessage.kind == "marketing"))
    assert row.status == "pending" and row.last_error == "HTTP 503" and row.attempts == 1
    clock(row.next_attempt_at)
    assert deliver_due().retried == 1
    db.session.expire_all()
    row = db.session.get(SmsMessage, row.id)
    assert row.last_error == "HTTP 429" and row.next_attempt_at - paris(2026, 12, 2, 10, 0) > timedelta(seconds=60)
    twilio_accepts(httpserver)
    clock(row.next_attempt_at)
    assert deliver_due().sent == 1
    db.session.expire_all()
    row = db.session.get(SmsMessage, row.id)
    assert row.status == "sent" and row.provider_sid.startswith("SM") and row.attempts == 3
    assert len(campaign_texts(httpserver)) == 3, "two refused, one accepted: sent once"


def test_twilio_error_21610_puts_the_number_on_the_opt_out_list(twilio_app, httpserver, mailbox, clock):
    proven(twilio_app, mailbox, "a@example.com", NUMBER)
    twilio_accepts(httpserver)
    deliver_due()
    httpserver.clear()
    newsletter_sms.send_sms_campaign("evenements", "Nouveautés")
    httpserver.expect_request(MESSAGES, method="POST").respond_with_json(
        {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}, status=400)
    assert deliver_due().failed == 1
    row = db.session.scalar(sa.select(SmsMessage).where(SmsMessage.kind == "marketing"))
    assert row.status == "failed" and row.error_code == "21610"
    assert is_suppressed("sms", phone=NUMBER)
    person = subscriber("a@example.com")
    assert person.sms_status == "unsubscribed" and person.sms_opt_out_source == "twilio_21610"


def test_delivery_receipts_are_recorded_when_signed(twilio_app, httpserver, mailbox, clock):
    proven(twilio_app, mailbox, "a@example.com", NUMBER)
    twilio_accepts(httpserver)
    newsletter_sms.send_sms_campaign("evenements", "Nouveautés")
    deliver_due()
    rows = list(db.session.scalars(sa.select(SmsMessage).order_by(SmsMessage.id)))
    assert texted(httpserver)[0]["StatusCallback"] == f"{SITE}/webhooks/sms/status"
    code, campaign = rows
    receipt = {"MessageSid": campaign.provider_sid, "MessageStatus": "delivered", "To": NUMBER}
    unsigned = twilio_app.test_client().post("/webhooks/sms/status", data=receipt)
    assert unsigned.status_code == 403
    assert signed_post(twilio_app, "/webhooks/sms/status", receipt).status_code == 204
    failed = {"MessageSid": code.provider_sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert signed_post(twilio_app, "/webhooks/sms/status", failed).status_code == 204
    db.session.expire_all()
    assert db.session.get(SmsMessage, campaign.id).status == "delivered"
    failed_row = db.session.get(SmsMessage, code.id)
    assert failed_row.status == "failed" and failed_row.error_code == "30003"


def test_a_code_goes_out_at_night_but_a_campaign_waits(twilio_app, httpserver, mailbox, clock):
    clock(paris(2026, 12, 6, 23, 0))  # Sunday night
    twilio_accepts(httpserver)
    proven(twilio_app, mailbox, "a@example.com", NUMBER)
    newsletter_sms.send_sms_campaign("evenements", "Nouveautés")
    deliver_due()
    bodies = [m["Body"] for m in texted(httpserver)]
    assert len(bodies) == 1 and "code de vérification" in bodies[0]


def test_the_send_command(twilio_app, mailbox, clock, tmp_path):
    proven(twilio_app, mailbox, "a@example.com", NUMBER)
    text = tmp_path / "sms.txt"
    text.write_text("Soldes d’hiver\n", encoding="utf-8")
    result = twilio_app.test_cli_runner().invoke(args=["sms", "send", "--list", "evenements", "--text", str(text)])
    assert result.exit_code == 0, result.output
    assert "1 SMS queued, 0 held back by the opt-out list, first sending 2026-12-02 10:00 Paris time" in result.output
    status = twilio_app.test_cli_runner().invoke(args=["sms", "status"])
    assert "pending: 2" in status.output
