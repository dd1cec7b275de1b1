"""Published versions of the privacy policy, each kept for good."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, utcnow
from app.extensions import db


class PolicyVersion(db.Model):
    """One published version: number, date, publisher, summary of changes, French text and English translation."""

    __tablename__ = "policy_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    summary: Mapped[str] = mapped_column(sa.Text)
    text_fr: Mapped[str] = mapped_column(sa.Text)
    text_en: Mapped[str | None] = mapped_column(sa.Text)
    material: Mapped[bool] = mapped_column(default=False)
    published_by: Mapped[str | None] = mapped_column(sa.String(254))  # the staff member's address; None: the CLI
