"""The journal of staff reads: who looked at which request, exported which data, and when (CNIL: journalisation)."""

from datetime import datetime
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
