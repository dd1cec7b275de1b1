"""Queue messages in the outbox and deliver them over SMTP (or to .eml files in development)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import make_msgid, parseaddr
from functools import partial

import sqlalchemy as sa
from flask import current_app, render_template

from app.claims import commit_outcome, released, send_each
from app.database import utcnow
from app.extensions import db
from app.mail.bounces import paused_domains, receiving_domain, verp_address
from app.mail.compose import InvalidMessage, build_email, check_headers, check_recipient, check_subject, write_email
from app.mail.models import OutboxMessage, OutboxStatus
from app.mail.signing import DkimSigner, make_signer
from app.mail.transport import PermanentFailure, TemporaryFailure, make_transport
from app.urls import site_host

__all__ = ["InvalidMessage", "MessageContent", "build_email", "check_recipient", "deliver_due", "message_content",
           "outbox_counts", "queue_mail", "queue_template_mail", "register_template_source", "written"]

BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 6 * 3600
PAUSE_CHECK = timedelta(hours=1)  # marketing to a paused domain is looked at again after this
ALWAYS_SENT = ("transactional", "staff")  # outbox kinds a domain's pause never holds (the person asked, or staff)
OUTBOX = OutboxMessage.__table__
LOADED = (OutboxMessage.id, OutboxMessage.created_at, OutboxMessage.kind, OutboxMessage.list_slug,
          OutboxMessage.recipient, OutboxMessage.subject, OutboxMessage.body_text, OutboxMessage.body_html,
          OutboxMessage.headers, OutboxMessage.message_id, OutboxMessage.status, OutboxMessage.attempts,
          OutboxMessage.next_attempt_at, OutboxMessage.last_error, OutboxMessage.sent_at, OutboxMessage.template_id,
          OutboxMessage.template_fill)


def queue_mail(recipient: str, subject: str, text: str, html: str | None = None,
               headers: dict | None = None, kind: str = "transactional", list_slug: str | None = None) -> OutboxMessage:
    """Add a message to the current transaction; the caller's commit queues it.

    Raises InvalidMessage for a recipient that is no deliverable address or holds CR/LF, a subject with a line
    break, or a header that cannot be written raw: callers that take user input show it as a form error.
    """
    check_recipient(recipient)
    check_subject(subject)
    check_headers(headers)
    message = OutboxMessage(
        recipient=recipient, subject=subject, body_text=text, body_html=html,
        headers=headers or {}, kind=kind, list_slug=list_slug, message_id=make_msgid(domain=site_host()),
        status=OutboxStatus.PENDING, attempts=0, next_attempt_at=utcnow(),
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


@dataclass(frozen=True)
class MessageContent:
    """What a recipient reads: the text, the HTML and the extra headers of their message."""

    body_text: str
    body_html: str | None
    headers: dict


@dataclass(frozen=True)
class Written:
    """A row whose body is shared, with this recipient's content filled in: what `render_email` reads, never stored."""

    id: int
    recipient: str
    subject: str
    created_at: datetime
    message_id: str
    body_text: str
    body_html: str | None
    headers: dict


# How a row written once for many readers gets its content, per outbox kind (the newsletter's campaigns): the
# feature that stored the shared body fills it in, registered in create_app (mail may not import the features).
TEMPLATE_SOURCES = "kinv.mail_template_sources"  # in app.extensions


def register_template_source(app, kind: str, fill: Callable[[OutboxMessage], MessageContent]) -> None:
    """Name the function that fills in the shared body of the app's rows of that kind."""
    app.extensions.setdefault(TEMPLATE_SOURCES, {})[kind] = fill


def message_content(message: OutboxMessage) -> MessageContent:
    """The text, HTML and headers the recipient receives: the row's own, or its shared body filled in."""
    if message.template_id is None:
        return MessageContent(message.body_text, message.body_html, message.headers)
    return current_app.extensions[TEMPLATE_SOURCES][message.kind](message)


def written(message: OutboxMessage) -> OutboxMessage | Written:
    """The row as it is rendered for sending: itself, or a copy with its shared body filled in."""
    if message.template_id is None:
        return message
    content = message_content(message)
    return Written(message.id, message.recipient, message.subject, message.created_at, message.message_id,
                   content.body_text, content.body_html, content.headers)


@dataclass
class DeliveryReport:
    """What one pass of the worker did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def tried(self) -> int:
        """How many messages the pass took."""
        return self.sent + self.retried + self.failed


@dataclass
class Courier:
    """What a pass delivers with: one transport (one SMTP connection for the batch), the From, the signer."""

    transport: object
    sender: str
    signer: DkimSigner | None = None
    paused: set[str] = field(default_factory=set)  # receiving domains that blocked us: marketing to them waits
    sender_address: str = field(init=False)

    def __post_init__(self) -> None:
        """The envelope sender without VERP: the From's address, parsed once for the pass."""
        self.sender_address = parseaddr(self.sender)[1]

    def outgoing(self, message: OutboxMessage) -> tuple[str, str, bytes]:
        """Envelope sender, recipient and signed bytes of one message."""
        recipient = check_recipient(message.recipient)
        data = write_email(written(message), self.sender, recipient)
        if self.signer is not None:
            data = self.signer.sign(data)
        envelope_from = verp_address(message.id) or self.sender_address  # bounces come back to us
        return envelope_from, recipient, data

    def holds(self, message) -> bool:
        """Whether the message waits: marketing to a domain paused after blocking us."""
        return message.kind not in ALWAYS_SENT and receiving_domain(message.recipient) in self.paused


def deliver_due(limit: int | None = None) -> DeliveryReport:
    """Deliver due messages one at a time, each outcome committed alone, until none is due (or `limit` were tried)."""
    report = DeliveryReport()
    courier = Courier(make_transport(), current_app.config["MAIL_DEFAULT_SENDER"], make_signer(), paused_domains())
    try:
        send_each(OUTBOX, partial(deliver_leased, courier=courier, report=report), limit)
    finally:
        courier.transport.close()
    return report


def deliver_leased(message_id: int, courier: Courier, report: DeliveryReport) -> None:
    """Send one leased message and commit its outcome; a row that cannot be read fails alone."""
    try:
        rows = fetch(message_id)
    except sa.exc.DBAPIError:
        raise  # the database itself: the pass stops, the message stays pending
    except Exception as error:  # a value that cannot be read
        db.session.rollback()
        commit_outcome(partial(mark_failed, message_id, error))
        report.failed += 1
        return
    db.session.rollback()  # no transaction stays open while the relay talks
    if rows:
        outcome = deliver_one(rows[0], courier, report)
        commit_outcome(partial(save_outcome, outcome))


def fetch(message_id: int) -> list:
    """The columns delivery reads of a pending row (no ORM object: nothing to track)."""
    return db.session.execute(sa.select(*LOADED).where(OutboxMessage.id == message_id,
                                                       OutboxMessage.status == OutboxStatus.PENDING)).all()


def deliver_one(message, courier: Courier, report: DeliveryReport) -> dict:
    """Try one message and return its row's new values; any error is kept on the row, never raised."""
    outcome = {"id": message.id, "status": message.status, "attempts": message.attempts + 1,
               "next_attempt_at": message.next_attempt_at, "last_error": message.last_error,
               "sent_at": message.sent_at, **released()}
    if courier.holds(message):
        outcome.update(attempts=message.attempts, next_attempt_at=utcnow() + PAUSE_CHECK)
        return outcome
    try:
        reply = courier.transport.send(*courier.outgoing(message))
    except PermanentFailure as error:
        record_failure(outcome, str(error), permanent=True)
        report.failed += 1
    except TemporaryFailure as error:
        permanent = outcome["attempts"] >= current_app.config["MAIL_MAX_ATTEMPTS"]
        record_failure(outcome, str(error), permanent=permanent)
        report.failed += permanent
        report.retried += not permanent
    except Exception as error:  # a bad header, encoding or relay answer fails this message only
        courier.transport.close()  # the connection's state is unknown: the next message opens a new one
        record_failure(outcome, describe(error), permanent=True)
        report.failed += 1
    else:
        outcome.update(status=OutboxStatus.SENT, sent_at=utcnow(), last_error=None, provider_id=reply)
        report.sent += 1
    return outcome


def save_outcome(outcome: dict) -> None:
    """Write an outcome by id: a sent message as sent whatever happened meanwhile; any other outcome only where the
    message is still pending (one cancelled while it was tried stays cancelled)."""
    update = sa.update(OUTBOX).where(OUTBOX.c.id == outcome["id"])
    if outcome["status"] != OutboxStatus.SENT:
        update = update.where(OUTBOX.c.status == OutboxStatus.PENDING)
    db.session.execute(update.values({key: value for key, value in outcome.items() if key != "id"}))


def describe(error: BaseException) -> str:
    """An error as kept on the row: its type and text, without NUL (PostgreSQL text cannot hold it)."""
    return f"{type(error).__name__}: {error}".replace("\x00", "\\x00")


def record_failure(outcome: dict, error: str, permanent: bool) -> None:
    """Keep the error; schedule a retry or mark the message failed (the log names the row, not the address)."""
    outcome["last_error"] = error.replace("\x00", "\\x00")[:2000]
    if permanent:
        outcome["status"] = OutboxStatus.FAILED
    else:
        outcome["next_attempt_at"] = utcnow() + backoff(outcome["attempts"])
    current_app.logger.warning("mail %s to outbox #%s: %s", "failed" if permanent else "retry",
                               outcome["id"], error.split(":", 1)[0][:80])


def mark_failed(message_id: int, error: BaseException) -> None:
    """Mark a row failed by id alone (one that cannot be read), in the current transaction."""
    db.session.execute(sa.update(OUTBOX).where(OUTBOX.c.id == message_id).values(
        status=OutboxStatus.FAILED, attempts=OUTBOX.c.attempts + 1, last_error=describe(error)[:2000], **released()))
    current_app.logger.error("mail failed: outbox #%s cannot be read (%s)", message_id, type(error).__name__)


def outbox_counts() -> dict[str, int]:
    """How many messages are pending, sent and failed."""
    rows = db.session.execute(sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status))
    return dict(rows.all())
