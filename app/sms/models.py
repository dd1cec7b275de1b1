"""The SMS outbox (one row per message, written in the caller's transaction) and the inbound messages seen."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, utcnow
from app.extensions import db


class SmsStatus(StrEnum):
    """Where an SMS stands: waiting (or retrying), handed to Twilio, delivered, given up on, or never sent."""

    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"  # never sent: the number was on the opt-out list at send time


class SmsKind(StrEnum):
    """Why we write: a code the person asked for (any hour) or marketing (quiet hours, opt-out list)."""

    TRANSACTIONAL = "transactional"
    MARKETING = "marketing"


class SmsMessage(db.Model):
    """An SMS waiting for delivery, handed over, delivered, or given up on with the reason kept."""

    __tablename__ = "sms_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(sa.String(20), default=SmsKind.TRANSACTIONAL)
    list_slug: Mapped[str | None] = mapped_column(sa.String(40))
    campaign_id: Mapped[int | None] = mapped_column(index=True)
    recipient: Mapped[str] = mapped_column(sa.String(20), index=True)  # E.164
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(12), default=SmsStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    error_code: Mapped[str | None] = mapped_column(sa.String(10))
    provider_sid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who is sending it (a worker's pass) and until when, renewed while it works: see app.claims.
    lease_owner: Mapped[str | None] = mapped_column(sa.String(80))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_sms_outbox_due", "status", "next_attempt_at"),)


class InboundSms(db.Model):
    """One inbound message handled (its MessageSid, so a replayed request changes nothing), without its text."""

    __tablename__ = "sms_inbound"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    phone_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)  # HMAC of the sender, never in clear
    keyword: Mapped[str | None] = mapped_column(sa.String(10))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
