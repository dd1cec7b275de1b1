"""What the dashboard keeps: the consent records of each finished week, counted once."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, utcnow
from app.extensions import db


class ConsentWeek(db.Model):
    """One finished week (Monday 00:00 UTC onwards) of consent records, counted: the proof is append-only, so a past
    week never changes and the dashboard need not read its records again."""

    __tablename__ = "dashboard_consent_weeks"

    week_start: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    choices: Mapped[int] = mapped_column(default=0)
    gpc: Mapped[int] = mapped_column(default=0)
    accepted: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # choices accepting each category, by key
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def counts(self, keys: list[str]) -> dict[str, int]:
        """The week as the dashboard's series reads it."""
        return {"choices": self.choices, "gpc": self.gpc, **{key: self.accepted.get(key, 0) for key in keys}}
