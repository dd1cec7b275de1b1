"""One row per opted-out (or restricted) address or number and channel, keyed by an HMAC, never in clear."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, utcnow
from app.extensions import db


class Channel(StrEnum):
    """Where we might write to someone."""

    EMAIL = "email"
    SMS = "sms"
    CALL = "call"  # « appel »: telephone canvassing, keyed by the E.164 number
    POST = "post"  # « courrier »: postal mail, keyed by the normalised postal address


class Reason(StrEnum):
    """Why an identifier is on the list: the person said no, or processing is restricted under a rights request."""

    OPT_OUT = "opt_out"
    RESTRICTION = "restriction"


class Suppression(db.Model):
    """An address (e-mail, post) or number (SMS, call) that must receive no marketing, and why."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(10))
    identifier_hash: Mapped[str] = mapped_column(sa.String(64))
    reason: Mapped[str] = mapped_column(sa.String(20), default=Reason.OPT_OUT)
    source: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        # Also the index of every lookup (channel and hash lead it).
        sa.UniqueConstraint("channel", "identifier_hash", "reason", name="uq_suppressions_channel_hash_reason"),
    )
