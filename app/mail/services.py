"""Queue messages in the outbox and deliver them over SMTP (or to .eml files in development)."""

import contextlib
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, render_template

from app.database import utcnow
from app.extensions import db
from app.mail.models import FAILED, PENDING, SENT, OutboxMessage
from app.urls import site_host

BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 6 * 3600


def queue_mail(recipient: str, subject: str, text: str, html: str | None = None,
               headers: dict | None = None, kind: str = "transactional") -> OutboxMessage:
    """Add a message to the current transaction; the caller's commit queues it."""
    message = OutboxMessage(
        recipient=recipient, subject=subject, body_text=text, body_html=html,
        headers=headers or {}, kind=kind, message_id=make_msgid(domain=site_host()),
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


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    """Turn an outbox row into a MIME message."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = message.message_id
    email["Date"] = format_datetime(message.created_at)
    for name, value in (message.headers or {}).items():
        email[name] = value
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    return email


class TemporaryFailure(Exception):
    """The server could not take the message now; try again later."""


class PermanentFailure(Exception):
    """The server refused the message for good (such as an unknown recipient)."""


@dataclass
class SmtpTransport:
    """Delivers over one SMTP connection, opened on first use."""

    host: str
    port: int
    username: str
    password: str
    use_tls: bool
    timeout: float
    connection: smtplib.SMTP | None = None

    def send(self, email: EmailMessage) -> None:
        """Send one message, classifying errors as temporary or permanent."""
        try:
            self.connect().send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise (PermanentFailure if all(c >= 500 for c in codes) else TemporaryFailure)(str(error)) from error
        except smtplib.SMTPResponseException as error:
            self.close()
            failure = PermanentFailure if error.smtp_code >= 500 else TemporaryFailure
            raise failure(f"{error.smtp_code} {error.smtp_error!r}") from error
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise TemporaryFailure(f"{type(error).__name__}: {error}") from error

    def connect(self) -> smtplib.SMTP:
        """Open (once) and return the connection."""
        if self.connection is None:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.use_tls:
                connection.starttls()
            if self.username:
                connection.login(self.username, self.password)
            self.connection = connection
        return self.connection

    def close(self) -> None:
        """Close the connection, ignoring a server that is already gone."""
        if self.connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.connection.quit()
            self.connection = None


@dataclass
class FileTransport:
    """Development without MAIL_SERVER: each message becomes an .eml file."""

    folder: Path

    def send(self, email: EmailMessage) -> None:
        """Write the message to a file named after its Message-ID."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = email["Message-ID"].strip("<>").replace("@", "_at_").replace("/", "_")
        (self.folder / f"{name}.eml").write_bytes(bytes(email))

    def close(self) -> None:
        """Nothing to close."""


def make_transport():
    """SMTP when MAIL_SERVER is set, .eml files otherwise."""
    config = current_app.config
    if not config["MAIL_SERVER"]:
        return FileTransport(Path(config["MAIL_FILE_DIR"]))
    return SmtpTransport(config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_USERNAME"],
                         config["MAIL_PASSWORD"], config["MAIL_USE_TLS"], config["MAIL_TIMEOUT"])


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
    transport = make_transport()
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    try:
        for _ in range(limit):
            message = claim_next()
            if message is None:
                db.session.rollback()
                break
            deliver_one(message, transport, sender, report)
            db.session.commit()
    finally:
        transport.close()
    return report


def deliver_one(message: OutboxMessage, transport, sender: str, report: DeliveryReport) -> None:
    """Try one message and record the outcome on its row."""
    message.attempts += 1
    try:
        transport.send(build_email(message, sender))
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
