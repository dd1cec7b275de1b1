"""Queue SMS in the caller's transaction and deliver them: opt-out list and quiet hours checked at send time too."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import sqlalchemy as sa
from flask import current_app

from app.claims import commit_outcome, released, send_each
from app.database import utcnow
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
OUTBOX = SmsMessage.__table__
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
    """Deliver due SMS one at a time, each outcome committed alone, until none is due or `limit` is reached."""
    report, transport = SmsReport(), make_transport()
    try:
        send_each(OUTBOX, partial(deliver_leased, transport=transport, report=report), limit)
    finally:
        transport.close()
    return report


def deliver_leased(message_id: int, transport, report: SmsReport) -> None:
    """Deliver one leased SMS and commit its outcome; a row that cannot be handled is marked failed by id."""
    message = db.session.get(SmsMessage, message_id)
    if message is None or message.status != SmsStatus.PENDING:
        db.session.rollback()
        return
    try:
        outcome = deliver_one(message, transport, report)
    except sa.exc.DBAPIError:
        raise  # the database itself: the pass stops, the SMS stays pending (its lease runs out)
    except Exception as error:  # one broken row must not stop the others
        kept = f"{type(error).__name__}: {error}"[:2000]
        outcome = Outcome(message_id, {"status": SmsStatus.FAILED, "last_error": kept})
        report.failed += 1
    db.session.rollback()  # the row was only read: its outcome is written by id, and written again if need be
    commit_outcome(outcome.write)


@dataclass
class Outcome:
    """What becomes of one SMS: its row's new values, and whether its number goes on the opt-out list (21610)."""

    id: int
    values: dict
    recipient_opted_out: str | None = None

    def write(self) -> None:
        """Write the values by id, ending the lease (and the opt-out), in the current transaction: a sent SMS as sent
        whatever happened meanwhile, any other outcome only where it is still pending (one cancelled stays so)."""
        update = sa.update(OUTBOX).where(OUTBOX.c.id == self.id)
        if self.values.get("status") != SmsStatus.SENT:
            update = update.where(OUTBOX.c.status == SmsStatus.PENDING)
        db.session.execute(update.values(**self.values, **released()))
        if self.recipient_opted_out:
            suppress(Channel.SMS, phone=self.recipient_opted_out, source=OPT_OUT_SOURCE)


def held_back(message: SmsMessage, report: SmsReport) -> dict | None:
    """Cancelled when the number may not be texted (not a mobile of SMS_COUNTRIES); marketing also when the number
    is now on the opt-out list, and moved when outside the allowed hours."""
    if not textable(message.recipient):
        report.cancelled += 1
        return {"status": SmsStatus.CANCELLED, "last_error": "cancelled: not a mobile number of SMS_COUNTRIES"}
    if message.kind != SmsKind.MARKETING:
        return None
    if is_suppressed(Channel.SMS, phone=message.recipient):
        report.cancelled += 1
        return {"status": SmsStatus.CANCELLED, "last_error": "cancelled: the number is on the opt-out list"}
    now = utcnow()
    slot = next_allowed_slot(now)
    if slot > now:
        report.deferred += 1
        return {"next_attempt_at": slot}
    return None


def deliver_one(message: SmsMessage, transport, report: SmsReport) -> Outcome:
    """Try one SMS and return its outcome; an error is kept on the row, never raised."""
    held = held_back(message, report)
    if held is not None:
        return Outcome(message.id, held)
    attempts = message.attempts + 1
    try:
        sid = transport.send(message.recipient, message.body)
    except PermanentFailure as error:
        report.failed += 1
        return Outcome(message.id, failure(message.id, attempts, str(error), permanent=True, code=error.code),
                       message.recipient if error.code == OPTED_OUT else None)
    except TemporaryFailure as error:
        permanent = attempts >= current_app.config["SMS_MAX_ATTEMPTS"]
        report.failed += permanent
        report.retried += not permanent
        return Outcome(message.id, failure(message.id, attempts, str(error), permanent=permanent))
    report.sent += 1
    return Outcome(message.id, {"status": SmsStatus.SENT, "provider_sid": sid, "sent_at": utcnow(),
                                "last_error": None, "attempts": attempts})


def failure(message_id: int, attempts: int, error: str, permanent: bool, code: str | None = None) -> dict:
    """The error kept; a retry scheduled or the SMS marked failed (the log names the row, never the number)."""
    values = {"attempts": attempts, "last_error": error[:2000], "error_code": code}
    if permanent:
        values["status"] = SmsStatus.FAILED
    else:
        values["next_attempt_at"] = utcnow() + backoff(attempts)
    current_app.logger.warning("sms %s for sms_outbox #%s: %s", "failed" if permanent else "retry", message_id,
                               error.split(":", 1)[0][:80])
    return values


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
