"""Mail that a form makes us send (an acknowledgement, a confirmation link, a fresh link): at most
MAIL_ADDRESS_DAILY_CAP a day to any one address, verified or not, and MAIL_UNVERIFIED_CAP of them while nobody has
verified it, whoever asks and from wherever, so our forms cannot be used to flood a mailbox. Past the cap nothing is
queued and the visitor's page is the same, so the sender learns neither whether the address is known nor verified."""

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.database import utcnow
from app.extensions import db
from app.mail.models import OutboxMessage
from app.mail.services import queue_mail

WINDOW = timedelta(hours=24)


def form_reply_allowed(recipient: str, verified: bool) -> bool:
    """Whether the address may get one more form reply today (the caller's transaction)."""
    if db.session.get_bind().dialect.name == "postgresql":  # two requests at once must not both pass
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"form-reply:{recipient}"))))
    recent = sa.select(sa.func.count()).select_from(OutboxMessage).where(
        OutboxMessage.recipient == recipient, OutboxMessage.created_at >= utcnow() - WINDOW)
    config = current_app.config
    if (db.session.scalar(recent.where(OutboxMessage.form_reply.is_(True))) or 0) >= config["MAIL_ADDRESS_DAILY_CAP"]:
        return False
    return verified or (db.session.scalar(recent.where(OutboxMessage.to_unverified.is_(True))) or 0) < config[
        "MAIL_UNVERIFIED_CAP"]


def queue_form_reply(recipient: str, subject: str, text: str, html: str | None = None, *, verified: bool,
                     kind: str = "transactional") -> OutboxMessage | None:
    """Queue a form's reply to the address; None, and nothing queued, once its daily cap is reached."""
    if not form_reply_allowed(recipient, verified):
        current_app.logger.info("form reply not queued: the address's daily cap is reached")
        return None
    message = queue_mail(recipient, subject, text, html, kind=kind)
    message.form_reply, message.to_unverified = True, not verified
    return message
