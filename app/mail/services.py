"""Queue messages in the outbox and deliver them over SMTP (or to .eml files in development)."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import make_msgid, parseaddr

import sqlalchemy as sa
from flask import current_app, render_template

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
# Messages claimed, sent and recorded together, in one transaction: a worker that dies mid-batch has sent messages
# still marked pending, which the next pass sends again (at most one batch, or BATCH_SECONDS of sending).
BATCH_SIZE = 100
BATCH_SECONDS = 2.0
PAUSE_CHECK = timedelta(hours=1)  # marketing to a paused domain is looked at again after this
ALWAYS_SENT = ("transactional", "staff")  # outbox kinds a domain's pause never holds (the person asked, or staff)
LEASE = timedelta(minutes=10)  # SQLite: a claimed batch comes back to other workers after this, should its worker die
LOADED = (OutboxMessage.id, OutboxMessage.created_at, OutboxMessage.kind, OutboxMessage.list_slug,
          OutboxMessage.recipient, OutboxMessage.subject, OutboxMessage.body_text, OutboxMessage.body_html,
          OutboxMessage.headers, OutboxMessage.message_id, OutboxMessage.status, OutboxMessage.attempts,
          OutboxMessage.last_error, OutboxMessage.sent_at, OutboxMessage.template_id,
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


def due_messages(size: int) -> sa.Select:
    """The ids of the next due messages and when each was due, oldest first."""
    return (sa.select(OutboxMessage.id, OutboxMessage.next_attempt_at)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= utcnow())
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(size))


def claim_batch(size: int) -> dict[int, datetime]:
    """Claim the next due messages (their ids, and when each was due): locked until the batch's commit (FOR UPDATE
    SKIP LOCKED, other workers skip them), or leased on SQLite."""
    if leases():
        return lease_batch(size)
    return dict(db.session.execute(due_messages(size).with_for_update(skip_locked=True)).all())


def leases() -> bool:
    """Whether claims are leases (SQLite, which has no row locks) rather than locks held until the commit."""
    return db.session.get_bind().dialect.name == "sqlite"


def lease_batch(size: int) -> dict[int, datetime]:
    """Hide the next due messages from other workers for LEASE, committed at once: of the rows read, only those
    still due when SQLite's one writer updates them are ours; a worker that dies leaves them due when it ends."""
    table = OutboxMessage.__table__
    while due := dict(db.session.execute(due_messages(size)).all()):
        leased = set(db.session.scalars(
            sa.update(table).where(table.c.id.in_(due), table.c.status == OutboxStatus.PENDING,
                                   table.c.next_attempt_at <= utcnow())
            .values(next_attempt_at=utcnow() + LEASE).returning(table.c.id)))
        db.session.commit()
        if leased:  # else another worker took them all first: read the next ones
            return {message_id: due_at for message_id, due_at in due.items() if message_id in leased}
    return {}


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
    """Deliver due messages a batch at a time, one transaction each, until none is due (or `limit` were tried)."""
    report = DeliveryReport()
    courier = Courier(make_transport(), current_app.config["MAIL_DEFAULT_SENDER"], make_signer(), paused_domains())
    try:
        while limit is None or report.tried < limit:
            claimed = claim_batch(BATCH_SIZE if limit is None else min(BATCH_SIZE, limit - report.tried))
            if not claimed:
                db.session.rollback()
                break
            deliver_batch(claimed, courier, report)
    finally:
        courier.transport.close()
    return report


def deliver_batch(claimed: dict[int, datetime], courier: Courier, report: DeliveryReport) -> None:
    """Send the claimed messages, then record every outcome in one commit; unsent ones stay due for the next batch."""
    rows, broken = load(list(claimed))
    outcomes, started = [], time.monotonic()
    for row in rows:
        outcomes.append(deliver_one(row, claimed[row.id], courier, report))
        if time.monotonic() - started > BATCH_SECONDS:  # a slow relay: record what went before sending more
            break
    report.failed += len(broken)
    handled = {outcome["id"] for outcome in outcomes}
    record(outcomes, broken, {row.id: claimed[row.id] for row in rows if row.id not in handled})


def load(claimed: list[int]) -> tuple[list, list[tuple[int, Exception]]]:
    """The claimed rows in claim order, and those that cannot be read (with the error): they fail alone."""
    try:
        return fetch(claimed), []
    except sa.exc.DBAPIError:
        raise  # the database itself: the pass stops, the messages stay pending
    except Exception:  # a value that cannot be read: find which row, read the others
        rows, broken = [], []
        for message_id in claimed:
            try:
                rows.extend(fetch([message_id]))
            except sa.exc.DBAPIError:
                raise
            except Exception as error:
                broken.append((message_id, error))
        return rows, broken


def fetch(ids: list[int]) -> list:
    """The columns delivery reads, for these ids, in that order (no ORM objects: nothing to track per row)."""
    rows = {row.id: row for row in db.session.execute(sa.select(*LOADED).where(OutboxMessage.id.in_(ids)))}
    return [rows[message_id] for message_id in ids if message_id in rows]


def deliver_one(message, due_at: datetime, courier: Courier, report: DeliveryReport) -> dict:
    """Try one message and return its row's new values; any error is kept on the row, never raised."""
    outcome = {"id": message.id, "status": message.status, "attempts": message.attempts + 1,
               "next_attempt_at": due_at, "last_error": message.last_error,
               "sent_at": message.sent_at}
    if courier.holds(message):
        outcome.update(attempts=message.attempts, next_attempt_at=utcnow() + PAUSE_CHECK)
        return outcome
    try:
        courier.transport.send(*courier.outgoing(message))
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
        outcome.update(status=OutboxStatus.SENT, sent_at=utcnow(), last_error=None)
        report.sent += 1
    return outcome


def record(outcomes: list[dict], broken: list[tuple[int, Exception]], unsent: dict[int, datetime]) -> None:
    """Save a batch's outcomes in one commit (leased rows not sent are due as before); should that fail, each outcome in
    its own (a row that still cannot be saved is marked failed by id)."""
    try:
        save_outcomes(outcomes)
        for message_id, error in broken:
            mark_failed(message_id, error)
        if unsent and leases():
            db.session.execute(sa.update(OutboxMessage), [{"id": key, "next_attempt_at": due_at}
                                                          for key, due_at in unsent.items()])
        db.session.commit()
    except Exception:
        db.session.rollback()
        for outcome in outcomes:
            record_alone(outcome)
        for message_id, error in broken:
            give_up(message_id, error)


def save_outcomes(outcomes: list[dict]) -> None:
    """Write outcomes by id: a sent message as sent whatever happened meanwhile; any other outcome only where the
    message is still pending (one cancelled during its batch, a leased SQLite row, stays cancelled)."""
    sent = [outcome for outcome in outcomes if outcome["status"] == OutboxStatus.SENT]
    others = [outcome for outcome in outcomes if outcome["status"] != OutboxStatus.SENT]
    if sent:
        db.session.execute(sa.update(OutboxMessage), sent)
    if others:
        db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING), others,
                           execution_options={"synchronize_session": None})


def record_alone(outcome: dict) -> None:
    """Save one message's outcome in its own transaction, or mark it failed by id."""
    try:
        save_outcomes([outcome])
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        give_up(outcome["id"], error)


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
    """Mark a row failed by id alone (one that cannot be loaded or saved), in the current transaction."""
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == message_id).values(
        status=OutboxStatus.FAILED, attempts=OutboxMessage.attempts + 1, last_error=describe(error)[:2000]))
    current_app.logger.error("mail failed: outbox #%s cannot be loaded or saved (%s)", message_id,
                             type(error).__name__)


def give_up(message_id: int, error: BaseException) -> None:
    """Mark a row failed by id alone, in its own transaction."""
    mark_failed(message_id, error)
    db.session.commit()


def outbox_counts() -> dict[str, int]:
    """How many messages are pending, sent and failed."""
    rows = db.session.execute(sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status))
    return dict(rows.all())
