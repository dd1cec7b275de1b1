"""Queue messages in the outbox and deliver them over SMTP (or to .eml files in development)."""

from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid, parseaddr

import sqlalchemy as sa
from flask import current_app, render_template

from app.database import utcnow
from app.extensions import db
from app.mail.compose import InvalidMessage, build_email, check_recipient, render_email
from app.mail.models import FAILED, PENDING, SENT, OutboxMessage
from app.mail.signing import DkimSigner, make_signer
from app.mail.transport import PermanentFailure, TemporaryFailure, make_transport

__all__ = ["InvalidMessage", "build_email", "deliver_due", "outbox_counts", "queue_mail", "queue_template_mail"]

BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 6 * 3600


def queue_mail(recipient: str, subject: str, text: str, html: str | None = None,
               headers: dict | None = None, kind: str = "transactional") -> OutboxMessage:
    """Add a message to the current transaction; the caller's commit queues it."""
    domain = current_app.config["SITE_URL"].split("//")[-1].split(":")[0].split("/")[0] or "localhost"
    message = OutboxMessage(
        recipient=recipient, subject=subject, body_text=text, body_html=html,
        headers=headers or {}, kind=kind, message_id=make_msgid(domain=domain),
        status=PENDING, attempts=0, next_attempt_at=utcnow(),
    )
    db.session.add(message)
    return message


def queue_template_mail(recipient: str, subject: str, template: str, **context) -> OutboxMessage:
    """Queue a message whose text (and HTML, if the template exists) come from `templates/mail/`."""
    text = render_template(f"mail/{template}.txt", **context)
    html = None
    if template_exists(f"mail/{template}.html"):
        html = render_template(f"mail/{template}.html", **context)
    return queue_mail(recipient, subject, text, html)


def template_exists(name: str) -> bool:
    """Whether a template of that name can be loaded."""
    return name in current_app.jinja_env.list_templates()


def backoff(attempts: int) -> timedelta:
    """Wait longer after each failed attempt: 30 s, 1 min, 2 min, … up to 6 h."""
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** (attempts - 1), BACKOFF_MAX_SECONDS))


def claim_next() -> OutboxMessage | None:
    """Lock the next due message; other workers skip it (FOR UPDATE SKIP LOCKED on PostgreSQL)."""
    query = (
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return db.session.scalar(query)


@dataclass
class DeliveryReport:
    """What one pass of the worker did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


def deliver_due(limit: int = 500) -> DeliveryReport:
    """Deliver due messages one transaction each, until none is due or `limit` is reached."""
    report = DeliveryReport()
    transport, signer = make_transport(), make_signer()
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    try:
        for _ in range(limit):
            message = claim_next()
            if message is None:
                db.session.rollback()
                break
            deliver_one(message, transport, sender, report, signer)
            db.session.commit()
    finally:
        transport.close()
    return report


def deliver_one(message: OutboxMessage, transport, sender: str, report: DeliveryReport,
                signer: DkimSigner | None = None) -> None:
    """Try one message and record the outcome on its row."""
    message.attempts += 1
    try:
        data = render_email(message, sender)
        if signer is not None:
            data = signer.sign(data)
        transport.send(parseaddr(sender)[1], check_recipient(message.recipient), data)
    except PermanentFailure as error:
        record_failure(message, str(error), permanent=True)
        report.failed += 1
    except TemporaryFailure as error:
        permanent = message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]
        record_failure(message, str(error), permanent=permanent)
        report.failed += permanent
        report.retried += not permanent
    else:
        message.status, message.sent_at, message.last_error = SENT, utcnow(), None
        report.sent += 1


def record_failure(message: OutboxMessage, error: str, permanent: bool) -> None:
    """Keep the error; schedule a retry or mark the message failed."""
    message.last_error = error[:2000]
    if permanent:
        message.status = FAILED
    else:
        message.next_attempt_at = utcnow() + backoff(message.attempts)
    current_app.logger.warning("mail %s to outbox #%s: %s", "failed" if permanent else "retry",
                               message.id, error[:200])


def outbox_counts() -> dict[str, int]:
    """How many messages are pending, sent and failed."""
    rows = db.session.execute(sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status))
    return dict(rows.all())
