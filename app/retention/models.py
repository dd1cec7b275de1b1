"""The audit of retention: one row per rule per run, what it matched and what it did."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, append_only, utcnow
from app.extensions import db


@append_only()
class RetentionRun(db.Model):
    """One rule applied once: when, as of which date, rows matched and acted on, whether it was a dry run."""

    __tablename__ = "retention_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(sa.String(40), index=True)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    dry_run: Mapped[bool] = mapped_column(default=False)
    matched: Mapped[int] = mapped_column(default=0)
    acted: Mapped[int] = mapped_column(default=0)
    ok: Mapped[bool] = mapped_column(default=True)
    error: Mapped[str | None] = mapped_column(sa.String(200))
    duration_ms: Mapped[int] = mapped_column(default=0)
