"""Faults answered as faults: a connection lost while an outcome is recorded never turns a message the provider
took into a failure, nor a failure into a cancelled one; a request whose connection is lost before its commit is
served again once, then answered 503 with Retry-After (never a plain 500), on both databases."""

import sqlalchemy as sa

from app.extensions import db
from app.mail.models import OutboxMessage, OutboxStatus
from app.mail.services import deliver_due, queue_mail
from app.newsletter.links import manage_token
from app.newsletter.models import SubscriberEvent
from app.sms.models import SmsMessage, SmsStatus
from app.sms.services import deliver_due as deliver_sms
from app.sms.services import queue_sms
from tests.conftest import TEST_DATABASE_URL, is_postgresql
from tests.support.faults import connection_lost_at
from tests.support.newsletter import confirmed_subscriber
from tests.test_outbox_workers import MESSAGES, texted, twilio_accepts, twilio_settings

SENT_SMS = r"UPDATE sms_outbox SET .*provider_sid"
SENT_MAIL = r"UPDATE outbox SET .*provider_id"


def test_an_sms_twilio_took_is_recorded_sent_when_the_connection_is_lost_at_its_commit(app, httpserver):
    twilio_accepts(httpserver)
    app.config.update(twilio_settings(httpserver))
    queue_sms("+33612345678", "Votre code : 123456")
    db.session.commit()
    with connection_lost_at(db.engine, TEST_DATABASE_URL, SENT_SMS) as ended:
        report = deliver_sms()
    assert ended and report.sent == 1
    db.session.expire_all()
    message = db.session.scalar(sa.select(SmsMessage))
    assert message.status == SmsStatus.SENT and message.provider_sid.startswith("SM")
    assert texted(httpserver) == {"+33612345678": 1}


def test_a_mail_the_relay_took_is_recorded_sent_when_the_connection_is_lost_at_its_commit(app, mailbox):
    queue_mail("jeanne@example.fr", "Sujet", "Texte")
    db.session.commit()
    with connection_lost_at(db.engine, TEST_DATABASE_URL, SENT_MAIL) as ended:
        report = deliver_due()
    assert ended and report.sent == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(OutboxMessage.status)) == OutboxStatus.SENT
    assert [m["To"] for m in mailbox.messages] == ["jeanne@example.fr"]


def one_click(app, reader) -> tuple[str, object]:
    """The one-click unsubscribe a mail provider posts for a reader of « Actualités produit »."""
    url = f"/newsletter/desabonnement/{manage_token(reader.public_id, 'actualites-produit')}"
    return url, app.test_client(use_cookies=False).post(url, data={"List-Unsubscribe": "One-Click"})


def unsubscribed(reader) -> list:
    """The reader's unsubscribe events, read afresh."""
    db.session.expire_all()
    return list(db.session.scalars(sa.select(SubscriberEvent).where(
        SubscriberEvent.subscriber_id == reader.id, SubscriberEvent.action == "unsubscribed")))


def test_a_one_click_whose_connection_is_lost_before_its_commit_is_served_again(app, client, mailbox):
    reader = confirmed_subscriber(client, mailbox, "lecteur@example.com")
    with connection_lost_at(db.engine, TEST_DATABASE_URL, r"INSERT INTO newsletter_events") as ended:
        _url, response = one_click(app, reader)
    assert ended and response.status_code == 200
    assert len(unsubscribed(reader)) == 1


def test_a_one_click_while_the_database_is_away_is_a_503_the_provider_retries(app, client, mailbox):
    reader = confirmed_subscriber(client, mailbox, "lecteur@example.com")
    with connection_lost_at(db.engine, TEST_DATABASE_URL, r".", times=2) as ended:
        url, response = one_click(app, reader)
    assert len(ended) == 2, "served again once, on a new connection that was lost too"
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "base de données ne répond pas" in response.get_data(as_text=True)
    assert unsubscribed(reader) == []
    again = app.test_client(use_cookies=False).post(url, data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200 and len(unsubscribed(reader)) == 1


def stopped_database_url() -> str:
    """A database nobody serves: PostgreSQL on a closed port, or SQLite in a folder that does not exist."""
    if is_postgresql():
        return "postgresql+psycopg://127.0.0.1:1/stopped?connect_timeout=2"
    return "sqlite:////nonexistent-folder-of-the-tests/stopped.sqlite"


def test_every_request_while_the_database_is_stopped_is_a_503_never_a_500(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI=stopped_database_url(), RATELIMIT_ENABLED=False)
    client = app.test_client()
    with app.app_context():
        one_click_url = "/newsletter/desabonnement/" + manage_token("0" * 32, "actualites-produit")
    answers = [client.get("/confidentialite"), client.post("/newsletter", data={
        "form": "subscribe", "email": "jeanne@example.fr", "lists": "actualites-produit", "consent": "y"}),
        client.post(one_click_url, data={"List-Unsubscribe": "One-Click"}),
        client.post("/cookies/choix", data={"choice": "refuse_all"})]
    assert [(answer.status_code, answer.headers.get("Retry-After")) for answer in answers] == [(503, "30")] * 4


def test_an_sms_cancelled_while_twilio_is_asked_stays_cancelled(app, httpserver):
    httpserver.expect_request(MESSAGES).respond_with_handler(lambda _request: cancel_and_refuse(app))
    app.config.update(twilio_settings(httpserver))
    queue_sms("+33612345678", "Votre code : 123456")
    db.session.commit()
    assert deliver_sms().failed == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(SmsMessage.status)) == SmsStatus.CANCELLED


def cancel_and_refuse(app):
    """The message is cancelled while Twilio is asked (another transaction), and Twilio refuses it for good."""
    from werkzeug import Response

    with app.app_context(), db.engine.begin() as connection:
        connection.execute(sa.update(SmsMessage).values(status=SmsStatus.CANCELLED))
    return Response('{"code": 21211, "message": "Invalid To"}', status=400, content_type="application/json")
