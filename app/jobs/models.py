"""One row per scheduled job: when it runs next, who holds it now (a lease), and how its last run went."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime
from app.extensions import db


class ScheduledJob(db.Model):
    """A job's schedule state; the lease lets one scheduler run it while the others skip it."""

    __tablename__ = "scheduled_jobs"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(sa.String(80))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_ok: Mapped[bool | None] = mapped_column()
    last_result: Mapped[str | None] = mapped_column(sa.String(300))
    failures: Mapped[int] = mapped_column(default=0)
