"""Each audience file written, and who is in which platform's audience (so they can be taken out again)."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, utcnow
from app.extensions import db


class AudienceExport(db.Model):
    """One file written: who wrote it, when, for which platform and list, how many people, its checksum."""

    __tablename__ = "audience_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    made_by: Mapped[str] = mapped_column(sa.String(120))
    platform: Mapped[str] = mapped_column(sa.String(10))
    list_slug: Mapped[str] = mapped_column(sa.String(40))
    removals: Mapped[bool] = mapped_column(default=False)
    count: Mapped[int] = mapped_column(default=0)
    checksum: Mapped[str] = mapped_column(sa.String(64))  # SHA-256 of the file


class AudienceMember(db.Model):
    """Someone sent to a platform's audience for a list, as the platform received them (hashed), until taken out."""

    __tablename__ = "audience_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(10))
    list_slug: Mapped[str] = mapped_column(sa.String(40))
    person_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)  # our keyed hash; None once erased
    email_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    phone_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    exported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("platform", "list_slug", "person_hash"),)
