"""Subscribers, their lists, the append-only event log, and the campaigns sent."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, append_only, new_public_id, utcnow
from app.extensions import db


class ChannelStatus(StrEnum):
    """Where a subscriber stands on one channel (e-mail or SMS)."""

    NONE = "none"
    PENDING = "pending"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


# A channel the subscriber asked for, whether confirmed yet or not.
CHANNEL_ON = (ChannelStatus.PENDING, ChannelStatus.CONFIRMED)


class ListStatus(StrEnum):
    """Where a subscriber stands on one list."""

    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"


class Subscriber(db.Model):
    """A person who asked for our newsletter: address and/or number, status and consent per channel."""

    __tablename__ = "newsletter_subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    email: Mapped[str | None] = mapped_column(sa.String(320), unique=True)
    email_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    phone_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # A new number for a subscriber whose SMS is confirmed: it replaces `phone` only once confirmed.
    pending_phone: Mapped[str | None] = mapped_column(sa.String(20))
    language: Mapped[str] = mapped_column(sa.String(2), default="fr")
    email_status: Mapped[str] = mapped_column(sa.String(15), default=ChannelStatus.PENDING)
    email_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_consent_source: Mapped[str | None] = mapped_column(sa.String(40))
    sms_status: Mapped[str] = mapped_column(sa.String(15), default=ChannelStatus.NONE)
    sms_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sms_consent_source: Mapped[str | None] = mapped_column(sa.String(40))
    sms_consent_policy: Mapped[int | None] = mapped_column()  # the policy version in force at SMS consent
    # The number was proven by its holder: a code sent to it typed back (`sms_code`) or START from it (`sms`).
    sms_proven_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sms_proof_source: Mapped[str | None] = mapped_column(sa.String(40))
    sms_opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sms_opt_out_source: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    subscriptions: Mapped[list["Subscription"]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", order_by="Subscription.list_slug")

    def subscription(self, slug: str) -> "Subscription | None":
        """This subscriber's row for one list, if any."""
        return next((s for s in self.subscriptions if s.list_slug == slug), None)

    def slugs_with(self, status: str) -> list[str]:
        """The lists in one status."""
        return [s.list_slug for s in self.subscriptions if s.status == status]


class Subscription(db.Model):
    """One subscriber on one list: pending until confirmed, when and how it was consented to."""

    __tablename__ = "newsletter_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(sa.ForeignKey("newsletter_subscribers.id", ondelete="CASCADE"))
    list_slug: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(15), default=ListStatus.PENDING)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_source: Mapped[str | None] = mapped_column(sa.String(40))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    subscriber: Mapped[Subscriber] = relationship(back_populates="subscriptions")

    __table_args__ = (
        sa.UniqueConstraint("subscriber_id", "list_slug", name="uq_newsletter_subscriptions_subscriber_list"),
        sa.Index("ix_newsletter_subscriptions_audience", "list_slug", "status", "subscriber_id"),
    )


@append_only()
class SubscriberEvent(db.Model):
    """One step in a subscriber's history: subscribe, confirm, unsubscribe, STOP, preference change."""

    __tablename__ = "newsletter_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        sa.ForeignKey("newsletter_subscribers.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(sa.String(30))
    channel: Mapped[str | None] = mapped_column(sa.String(10))
    list_slug: Mapped[str | None] = mapped_column(sa.String(40))
    source: Mapped[str] = mapped_column(sa.String(40))
    ip_prefix: Mapped[str | None] = mapped_column(sa.String(50))
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)


class PhoneProof(db.Model):
    """A 6-digit code sent to a number: valid 10 minutes, 5 tries; typed back, it proves the number."""

    __tablename__ = "newsletter_phone_proofs"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    subscriber_id: Mapped[int] = mapped_column(
        sa.ForeignKey("newsletter_subscribers.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(sa.String(20))
    phone_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))  # HMAC of the code, never the code
    # Whether a proof may change the subscriber: asked from a signed link or by the request that created them.
    applies: Mapped[bool] = mapped_column(default=False)
    ip_prefix: Mapped[str | None] = mapped_column(sa.String(50), index=True)
    # Keyed hash of the IPv6 /64 the code was asked from, or « no-address » when the client address was no IP.
    household: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    proven_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Campaign(db.Model):
    """One `flask newsletter send`: list, subject, how many were queued and how many the opt-out list held back."""

    __tablename__ = "newsletter_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_slug: Mapped[str] = mapped_column(sa.String(40))
    subject: Mapped[str] = mapped_column(sa.String(300))
    channel: Mapped[str] = mapped_column(sa.String(10), default="email", server_default="email")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recipients: Mapped[int] = mapped_column(default=0)
    suppressed: Mapped[int] = mapped_column(default=0)
    slot: Mapped[str] = mapped_column(sa.String(40), default="")  # where each reader's link token goes in the bodies

    bodies: Mapped[list["CampaignBody"]] = relationship(back_populates="campaign", cascade="all, delete-orphan")


class CampaignBody(db.Model):
    """A campaign's message in one language, stored once for all its readers: text, HTML and headers around the
    slot where each reader's signed link token is filled in at delivery."""

    __tablename__ = "newsletter_campaign_bodies"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("newsletter_campaigns.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(sa.String(2))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    headers: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    campaign: Mapped[Campaign] = relationship(back_populates="bodies")

    __table_args__ = (sa.UniqueConstraint("campaign_id", "language", name="uq_newsletter_campaign_bodies_language"),)
