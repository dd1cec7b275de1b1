"""The journal of staff reads (who looked at which request or exported which data, and when: CNIL journalisation),
and the consent weeks the dashboard keeps."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, append_only, utcnow
from app.extensions import db


class Read(StrEnum):
    """What a staff member read."""

    QUEUE = "queue"  # the list of requests (names and addresses), with its filters
    REQUEST = "request"  # one request's page
    PACKAGE = "package"  # a data package built from everything held on a person
    JOURNAL = "journal"  # this journal, read by the dpo
    EXPORT = "export"  # the journal exported by `flask audit export`


@append_only()
class StaffRead(db.Model):
    """One read; never changed, never deleted one by one."""

    __tablename__ = "staff_reads"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    staff_email: Mapped[str] = mapped_column(sa.String(320), index=True)
    what: Mapped[str] = mapped_column(sa.String(20))
    target: Mapped[str] = mapped_column(sa.String(200))


class ConsentWeek(db.Model):
    """One finished week (Monday 00:00 UTC onwards) of consent records, counted for the dashboard: the proof is
    append-only, so a past week never changes and the dashboard need not read its records again."""

    __tablename__ = "dashboard_consent_weeks"

    week_start: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    choices: Mapped[int] = mapped_column(default=0)
    gpc: Mapped[int] = mapped_column(default=0)
    accepted: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # choices accepting each category, by key
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def counts(self, keys: list[str]) -> dict[str, int]:
        """The week as the dashboard's series reads it."""
        return {"choices": self.choices, "gpc": self.gpc, **{key: self.accepted.get(key, 0) for key in keys}}
