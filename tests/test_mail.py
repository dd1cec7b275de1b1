"""Mail that is never lost: outbox in the caller's transaction, delivery with retries, real SMTP."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import claims
from app.database import utcnow
from app.extensions import db
from app.mail import services
from app.mail.models import MailBlock, OutboxMessage, OutboxStatus
from app.mail.services import deliver_due, queue_mail
from app.mail.transport import SmtpTransport
from tests.conftest import POSTGRESQL_URL, build_config

# The run's own PostgreSQL database when it runs on one (its `outbox_workers` schema), else TEST_POSTGRESQL_URL's.
POSTGRES_URL = POSTGRESQL_URL + "?options=-csearch_path%3Doutbox_workers"


def queue_and_commit(count: int = 1, prefix: str = "person") -> None:
    """Queue `count` messages and commit them."""
    for index in range(count):
        queue_mail(f"{prefix}{index}@example.com", f"Sujet {index}", f"Bonjour {index}")
    db.session.commit()


def make_due() -> None:
    """Pretend the back-off delay has passed."""
    db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_message_is_queued_only_when_the_change_commits(app):
    queue_mail("a@example.com", "Sujet", "Texte")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_delivery_to_a_real_smtp_server(app, mailbox):
    queue_mail("a@example.com", "Bienvenue", "Texte brut", "<p>HTML</p>", headers={"X-Test": "1"})
    db.session.commit()
    report = deliver_due()
    assert report.sent == 1
    [message] = mailbox.to("a@example.com")
    assert message["Subject"] == "Bienvenue" and message["X-Test"] == "1"
    assert message.get_body(("plain",)).get_content().strip() == "Texte brut"
    assert message.get_body(("html",)).get_content().strip() == "<p>HTML</p>"
    row = db.session.scalar(sa.select(OutboxMessage))
    assert row.status == OutboxStatus.SENT and row.sent_at is not None and message["Message-ID"] == row.message_id


def test_outage_loses_nothing_and_sends_nothing_twice(app, mailbox, smtp_server):
    queue_and_commit(3)
    smtp_server.stop()
    try:
        report = deliver_due()
    finally:
        smtp_server.start()
    assert report.sent == 0 and report.retried == 3
    rows = db.session.scalars(sa.select(OutboxMessage)).all()
    assert all(r.status == OutboxStatus.PENDING and r.attempts == 1 and r.last_error for r in rows)
    assert all(r.next_attempt_at > utcnow() for r in rows)
    assert deliver_due().sent == 0, "back-off: nothing is due right after a failure"
    make_due()
    assert deliver_due().sent == 3
    assert deliver_due().sent == 0
    assert sorted(m["To"] for m in mailbox.messages) == [f"person{i}@example.com" for i in range(3)]


@pytest.mark.parametrize(("refusal", "answer", "status"), [
    ("refuse", "550", OutboxStatus.FAILED),  # this recipient, for good: the connection goes on
    ("leave_at", "421", OutboxStatus.PENDING),  # the relay is leaving: smtplib closed the socket, a new one is opened
])
def test_a_refused_recipient_is_recorded_and_the_next_message_still_goes(app, mailbox, refusal, answer, status):
    getattr(mailbox, refusal)("nobody@example.com")
    queue_mail("nobody@example.com", "Sujet", "Texte")
    queue_mail("somebody@example.com", "Sujet", "Texte")
    db.session.commit()
    report = deliver_due()
    assert report.failed + report.retried == 1 and report.sent == 1
    refused = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == "nobody@example.com"))
    assert refused.status == status and refused.last_error.startswith(answer)
    assert [m["To"] for m in mailbox.messages] == ["somebody@example.com"]


def test_the_relays_answer_is_kept_with_each_message(app, mailbox):
    queue_and_commit(1)
    deliver_due()
    assert db.session.scalar(sa.select(OutboxMessage.provider_id)) == "Message accepted for delivery"


def test_gives_up_after_the_maximum_attempts(make_app, smtp_server):
    app = make_app(MAIL_MAX_ATTEMPTS=2)
    with app.app_context():
        queue_and_commit(1)
        smtp_server.stop()
        try:
            deliver_due()
            make_due()
            deliver_due()
        finally:
            smtp_server.start()
        row = db.session.scalar(sa.select(OutboxMessage))
        assert row.status == OutboxStatus.FAILED and row.attempts == 2 and row.last_error


def test_without_mail_server_messages_become_eml_files(make_app, tmp_path):
    app = make_app(MAIL_SERVER="", MAIL_FILE_DIR=str(tmp_path))
    with app.app_context():
        queue_and_commit(2)
        assert deliver_due().sent == 2
    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == 2 and b"Subject: Sujet 0" in b"".join(f.read_bytes() for f in files)


def test_outbox_send_command(app, runner, mailbox):
    queue_and_commit(2)
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0 and "sent 2" in result.output
    assert "sent: 2" in runner.invoke(args=["outbox", "status"]).output


@pytest.fixture
def postgres_app(smtp_server):
    """An app on its own PostgreSQL schema, to run several workers against real row locks."""
    from app import create_app

    app = create_app(build_config(smtp_server.port, SQLALCHEMY_DATABASE_URI=POSTGRES_URL))
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA IF EXISTS outbox_workers CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA outbox_workers"))
        OutboxMessage.__table__.create(db.engine)
        MailBlock.__table__.create(db.engine)  # the worker reads which domains are paused
    yield app
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA outbox_workers CASCADE"))
        db.engine.dispose()


def run_workers_at_once(app, count: int) -> None:
    """COUNT outbox workers, each in its own thread, draining the outbox at the same time."""

    def worker() -> None:
        with app.app_context():
            deliver_due()
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_several_workers_on_postgresql_never_send_twice(postgres_app, mailbox):
    with postgres_app.app_context():
        queue_and_commit(30, prefix="worker")
    run_workers_at_once(postgres_app, 3)
    recipients = [m["To"] for m in mailbox.messages]
    assert sorted(recipients) == sorted(f"worker{i}@example.com" for i in range(30))


@pytest.fixture
def small_batches(monkeypatch):
    """Leases of three messages at a time, so that several workers share a few messages."""
    monkeypatch.setattr(claims, "BATCH", 3)


def test_several_workers_in_parallel_never_send_one_message_twice(app, mailbox, small_batches):
    queue_and_commit(30, prefix="parallel")
    run_workers_at_once(app, 3)
    assert sorted(m["To"] for m in mailbox.messages) == sorted(f"parallel{i}@example.com" for i in range(30))
    assert db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.status == OutboxStatus.SENT)) == 30


def test_a_row_that_cannot_be_read_fails_alone(app, mailbox):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's json column cannot hold text that is not JSON")
    queue_and_commit(3)
    db.session.execute(sa.text("UPDATE outbox SET headers = '{not json' WHERE recipient = 'person1@example.com'"))
    db.session.commit()
    report = deliver_due()
    assert (report.sent, report.failed) == (2, 1)
    assert sorted(m["To"] for m in mailbox.messages) == ["person0@example.com", "person2@example.com"]
    status, attempts, error = db.session.execute(sa.text(
        "SELECT status, attempts, last_error FROM outbox WHERE recipient = 'person1@example.com'")).one()
    assert (status, attempts) == ("failed", 1) and error.startswith("JSONDecodeError")


def test_a_worker_stopped_mid_pass_loses_nothing_and_resends_nothing_it_sent(app, mailbox, small_batches,
                                                                               monkeypatch):
    queue_and_commit(5)
    send, sent = SmtpTransport.send, []

    def dying(transport, envelope_from, recipient, data) -> str:
        if len(sent) == 4:
            raise KeyboardInterrupt  # the process is stopped after the first message of the second lease
        sent.append(recipient)
        return send(transport, envelope_from, recipient, data)

    monkeypatch.setattr(SmtpTransport, "send", dying)
    with pytest.raises(KeyboardInterrupt):
        deliver_due()
    db.session.rollback()
    monkeypatch.setattr(SmtpTransport, "send", send)
    assert deliver_due().sent == 1, "each message was recorded as it went: only the fifth is left"
    received = sorted(m["To"] for m in mailbox.messages)
    assert received == [f"person{i}@example.com" for i in range(5)]


def test_a_message_cancelled_while_it_is_tried_stays_cancelled(app):
    """The recipient unsubscribes while the relay is down: the retry planned for that message is not written (the
    cancellation applies at once: no row is locked while a message is tried)."""
    queue_and_commit(2)
    cancellations = []

    def cancel() -> None:
        with app.app_context(), db.engine.begin() as connection:  # another request, in its own transaction
            connection.execute(sa.update(OutboxMessage).where(
                OutboxMessage.recipient == "person0@example.com", OutboxMessage.status == OutboxStatus.PENDING)
                .values(status=OutboxStatus.CANCELLED))

    def unsubscribe_while_it_is_tried(courier, message):
        if not cancellations:
            cancellations.append(threading.Thread(target=cancel))
            cancellations[0].start()
            cancellations[0].join()
        raise services.TemporaryFailure("relay down")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(services.Courier, "outgoing", unsubscribe_while_it_is_tried)
        assert deliver_due().retried == 2
    cancellations[0].join()
    db.session.expire_all()
    statuses = dict(db.session.execute(sa.select(OutboxMessage.recipient, OutboxMessage.status)).all())
    assert statuses == {"person0@example.com": OutboxStatus.CANCELLED, "person1@example.com": OutboxStatus.PENDING}
