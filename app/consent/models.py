"""Consent proof: an append-only record per choice, and links from a consent id to a person."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, append_only, utcnow
from app.extensions import db


@append_only()
class ConsentRecord(db.Model):
    """One choice as it was made: pseudonymous, never updated, never deleted by the application."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    choices: Mapped[dict] = mapped_column(sa.JSON)
    register_version: Mapped[str] = mapped_column(sa.String(40))
    policy_version: Mapped[int | None] = mapped_column()
    action: Mapped[str] = mapped_column(sa.String(30))
    withdrawal: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(sa.String(20))
    channel: Mapped[str] = mapped_column(sa.String(10))
    ip_prefix: Mapped[str | None] = mapped_column(sa.String(50))
    browser: Mapped[str | None] = mapped_column(sa.String(60))


class ConsentSubject(db.Model):
    """A consent id known to belong to a person (keyed hash of their e-mail), for access requests."""

    __tablename__ = "consent_subjects"

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    email_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("consent_id", "email_hash", name="uq_consent_subjects_consent_id_email"),)
