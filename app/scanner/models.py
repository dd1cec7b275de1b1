"""Each cookie scan's report, kept for the dashboard's trend and to tell new findings from known ones."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime
from app.extensions import db


class CookieScan(db.Model):
    """One scan: when, how many findings, and the whole report (states, cookies, hosts, findings) as JSON."""

    __tablename__ = "cookie_scans"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    findings: Mapped[int] = mapped_column(default=0)
    report: Mapped[dict] = mapped_column(sa.JSON)
