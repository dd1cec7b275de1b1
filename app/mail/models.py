"""The outbox: one row per message, written in the same transaction as the change that caused it."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, utcnow
from app.extensions import db


class OutboxStatus(StrEnum):
    """Where a message stands: waiting (or retrying), delivered, given up on, or cancelled before delivery."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"  # never sent: the person left the list before delivery


class OutboxMessage(db.Model):
    """An e-mail waiting for delivery, delivered, or given up on with the reason kept."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(sa.String(40), default="transactional")
    list_slug: Mapped[str | None] = mapped_column(sa.String(40))  # the list of a marketing message
    recipient: Mapped[str] = mapped_column(sa.String(320), index=True)
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    headers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    message_id: Mapped[str] = mapped_column(sa.String(200), unique=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The relay's answer to the message (Postfix: `2.0.0 Ok: queued as 4dQ1…`, its queue id), to trace it there.
    provider_id: Mapped[str | None] = mapped_column(sa.String(200))
    # Who is sending it (a worker's pass) and until when, renewed while it works: see app.claims.
    lease_owner: Mapped[str | None] = mapped_column(sa.String(80))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A message written once for many readers (a campaign's): the id of that shared body, kept by the feature that
    # wrote it, and this recipient's own part of it; the body columns stay empty (see services.message_content).
    template_id: Mapped[int | None] = mapped_column()
    template_fill: Mapped[str | None] = mapped_column(sa.String(200))
    # Sent to an address nobody had verified (a form's acknowledgement, a confirmation link): counted per recipient.
    to_unverified: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # A form's reply (acknowledgement, confirmation, fresh link), verified address or not: counted per recipient.
    form_reply: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at"),)


class SoftBounce(db.Model):
    """One temporary failure reported for an address (kept 30 days): five within 30 days count as a hard bounce."""

    __tablename__ = "mail_soft_bounces"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_hash: Mapped[str] = mapped_column(sa.String(64), index=True)  # HMAC of the address, never in clear
    report_hash: Mapped[str] = mapped_column(sa.String(64))  # SHA-256 of the report: read twice, counted once
    status: Mapped[str] = mapped_column(sa.String(20), default="")  # the DSN's status code, e.g. 4.2.2
    bounced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("address_hash", "report_hash"),)


class MailBlock(db.Model):
    """One refusal about us, not the mailbox (5.7.x, a blocklist, a policy), by receiving domain (kept 30 days):
    past MAIL_BLOCK_THRESHOLD in 24 hours, marketing to that domain waits."""

    __tablename__ = "mail_blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(sa.String(255), index=True)
    report_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)  # a report read twice is counted once
    status: Mapped[str] = mapped_column(sa.String(20), default="")
    blocked_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True, default=utcnow)
