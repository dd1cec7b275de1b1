"""Mail to an address nobody has verified yet (a form's acknowledgement, a confirmation link): at most
MAIL_UNVERIFIED_CAP a day to one address, whoever asks and from wherever, so our forms cannot be used to flood it."""

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.database import utcnow
from app.extensions import db
from app.mail.models import OutboxMessage
from app.mail.services import queue_mail

WINDOW = timedelta(hours=24)


def unverified_mail_allowed(recipient: str) -> bool:
    """Whether the address may get one more mail before anyone has verified it (the caller's transaction)."""
    if db.session.get_bind().dialect.name == "postgresql":  # two requests at once must not both pass
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"unverified:{recipient}"))))
    sent = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
        OutboxMessage.recipient == recipient, OutboxMessage.to_unverified.is_(True),
        OutboxMessage.created_at >= utcnow() - WINDOW)) or 0
    return sent < current_app.config["MAIL_UNVERIFIED_CAP"]


def queue_unverified_mail(recipient: str, subject: str, text: str, html: str | None = None,
                          kind: str = "transactional") -> OutboxMessage | None:
    """Queue a mail to an address not yet verified; None, and nothing queued, once its cap is reached."""
    if not unverified_mail_allowed(recipient):
        current_app.logger.info("mail to an unverified address not queued: its daily cap is reached")
        return None
    message = queue_mail(recipient, subject, text, html, kind=kind)
    message.to_unverified = True
    return message
