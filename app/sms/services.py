"""Queue SMS in the caller's transaction and deliver them: opt-out list and quiet hours checked at send time too."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.database import each_claimed, utcnow
from app.extensions import db
from app.personal import normalise_phone
from app.sms.models import SmsKind, SmsMessage, SmsStatus
from app.sms.numbers import textable
from app.sms.schedule import next_allowed_slot
from app.sms.transport import OPTED_OUT, PermanentFailure, TemporaryFailure, make_transport
from app.suppression.models import Channel
from app.suppression.services import is_suppressed, suppress

BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 6 * 3600
OPT_OUT_SOURCE = "twilio_21610"  # the newsletter names it (events.Source.TWILIO_OPT_OUT)


class InvalidSms(ValueError):
    """A recipient that is no valid phone number, or an empty body."""


def queue_sms(recipient: str, body: str, *, kind: str = SmsKind.TRANSACTIONAL, list_slug: str | None = None,
              campaign_id: int | None = None) -> SmsMessage | None:
    """Add an SMS to the current transaction (marketing: None when the number is on the opt-out list)."""
    number = normalise_phone(recipient or "")
    if not number or not body.strip():
        raise InvalidSms("the recipient must be a valid phone number and the body not empty")
    if not textable(number):
        raise InvalidSms("the recipient is not a mobile number of SMS_COUNTRIES")
    now = utcnow()
    if kind == SmsKind.MARKETING:
        if is_suppressed(Channel.SMS, phone=number):
            return None
        now = next_allowed_slot(now)
    message = SmsMessage(recipient=number, body=body, kind=kind, list_slug=list_slug, campaign_id=campaign_id,
                         status=SmsStatus.PENDING, attempts=0, next_attempt_at=now)
    db.session.add(message)
    return message


def backoff(attempts: int) -> timedelta:
    """Wait longer after each failed attempt: 30 s, 1 min, 2 min, … up to 6 h."""
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** (attempts - 1), BACKOFF_MAX_SECONDS))


def claim_next() -> int | None:
    """Lock the next due SMS and return its id; other workers skip it (FOR UPDATE SKIP LOCKED)."""
    return db.session.scalar(
        sa.select(SmsMessage.id)
        .where(SmsMessage.status == SmsStatus.PENDING, SmsMessage.next_attempt_at <= utcnow())
        .order_by(SmsMessage.next_attempt_at, SmsMessage.id).limit(1).with_for_update(skip_locked=True))


@dataclass
class SmsReport:
    """What one pass did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    deferred: int = 0

    def line(self) -> str:
        """The pass in one line."""
        return (f"sent {self.sent}, to retry {self.retried}, failed {self.failed}, cancelled {self.cancelled}, "
                f"waiting for the allowed hours {self.deferred}")


def deliver_due(limit: int = 500) -> SmsReport:
    """Deliver due SMS one transaction each, until none is due or `limit` is reached."""
    report, transport = SmsReport(), make_transport()
    try:
        for message_id in each_claimed(claim_next, limit):
            deliver_claimed(message_id, transport, report)
    finally:
        transport.close()
    return report


def deliver_claimed(message_id: int, transport, report: SmsReport) -> None:
    """Deliver one claimed SMS and commit; a row that cannot be handled is marked failed by id."""
    try:
        deliver_one(db.session.get(SmsMessage, message_id), transport, report)
        db.session.commit()
    except Exception as error:  # one broken row must not stop the others
        db.session.rollback()
        db.session.execute(sa.update(SmsMessage).where(SmsMessage.id == message_id).values(
            status=SmsStatus.FAILED, last_error=f"{type(error).__name__}: {error}"[:2000]))
        db.session.commit()
        report.failed += 1


def held_back(message: SmsMessage, report: SmsReport) -> bool:
    """Cancelled when the number may not be texted (not a mobile of SMS_COUNTRIES); marketing also when the number
    is now on the opt-out list, and moved when outside the allowed hours."""
    if not textable(message.recipient):
        message.status, message.last_error = SmsStatus.CANCELLED, "cancelled: not a mobile number of SMS_COUNTRIES"
        report.cancelled += 1
        return True
    if message.kind != SmsKind.MARKETING:
        return False
    if is_suppressed(Channel.SMS, phone=message.recipient):
        message.status, message.last_error = SmsStatus.CANCELLED, "cancelled: the number is on the opt-out list"
        report.cancelled += 1
        return True
    now = utcnow()
    slot = next_allowed_slot(now)
    if slot > now:
        message.next_attempt_at = slot
        report.deferred += 1
        return True
    return False


def deliver_one(message: SmsMessage, transport, report: SmsReport) -> None:
    """Try one SMS and record the outcome on its row; an error is kept on the row, never raised."""
    if held_back(message, report):
        return
    message.attempts += 1
    try:
        sid = transport.send(message.recipient, message.body)
    except PermanentFailure as error:
        record_failure(message, str(error), permanent=True, code=error.code)
        if error.code == OPTED_OUT:
            suppress(Channel.SMS, phone=message.recipient, source=OPT_OUT_SOURCE)
        report.failed += 1
    except TemporaryFailure as error:
        permanent = message.attempts >= current_app.config["SMS_MAX_ATTEMPTS"]
        record_failure(message, str(error), permanent=permanent)
        report.failed += permanent
        report.retried += not permanent
    else:
        message.status, message.provider_sid, message.sent_at = SmsStatus.SENT, sid, utcnow()
        message.last_error = None
        report.sent += 1


def record_failure(message: SmsMessage, error: str, permanent: bool, code: str | None = None) -> None:
    """Keep the error; schedule a retry or mark the SMS failed (the log names the row, never the number)."""
    message.last_error, message.error_code = error[:2000], code
    if permanent:
        message.status = SmsStatus.FAILED
    else:
        message.next_attempt_at = utcnow() + backoff(message.attempts)
    current_app.logger.warning("sms %s for sms_outbox #%s: %s", "failed" if permanent else "retry", message.id,
                               error.split(":", 1)[0][:80])


def record_status(sid: str, status: str, error_code: str | None = None) -> bool:
    """A delivery receipt from Twilio: delivered or failed recorded (21610 puts the number on the list); commits."""
    message = db.session.scalar(sa.select(SmsMessage).where(SmsMessage.provider_sid == sid))
    if message is None:
        return False
    if status == "delivered":
        message.status, message.delivered_at = SmsStatus.DELIVERED, utcnow()
    elif status in ("failed", "undelivered"):
        message.status, message.error_code = SmsStatus.FAILED, error_code or None
        message.last_error = f"Twilio status {status}" + (f", error {error_code}" if error_code else "")
        if error_code == OPTED_OUT:
            suppress(Channel.SMS, phone=message.recipient, source=OPT_OUT_SOURCE)
    db.session.commit()
    return True


def sms_counts() -> dict[str, int]:
    """How many SMS are in each status."""
    return dict(db.session.execute(sa.select(SmsMessage.status, sa.func.count()).group_by(SmsMessage.status)).all())


def first_slot(moment: datetime | None = None) -> datetime:
    """When marketing queued now may first leave."""
    return next_allowed_slot(moment or utcnow())
