"""Record and read the journal of staff reads."""

import csv
import io
from datetime import datetime

import sqlalchemy as sa

from app.backoffice.models import Read, StaffRead
from app.extensions import db
from app.spreadsheet import safe_row

JOURNAL_PAGE = 500
CLI_ACTOR = "flask audit export"


def add_read(staff_email: str, what: Read, target: str) -> None:
    """One read in the journal, in the caller's transaction (an action that reads, such as a data package)."""
    db.session.add(StaffRead(staff_email=staff_email, what=what, target=target[:200]))


def record_read(staff_email: str, what: Read, target: str) -> None:
    """One read in the journal; commits (a page that only reads is a user action of its own)."""
    add_read(staff_email, what, target)
    db.session.commit()


def reads_since(since: datetime | None = None, limit: int | None = None) -> list[StaffRead]:
    """The journal, newest first, from a date on."""
    query = sa.select(StaffRead).order_by(StaffRead.occurred_at.desc(), StaffRead.id.desc())
    if since is not None:
        query = query.where(StaffRead.occurred_at >= since)
    return list(db.session.scalars(query.limit(limit)))


def export_csv(since: datetime) -> str:
    """The journal since a date as CSV (oldest first); the export itself goes in the journal."""
    rows = list(reversed(reads_since(since)))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["occurred_at", "staff_email", "what", "target"])
    for row in rows:
        when = row.occurred_at.isoformat(timespec="seconds")
        writer.writerow(safe_row([when, row.staff_email, row.what, row.target]))
    record_read(CLI_ACTOR, Read.EXPORT, f"since {since.date().isoformat()}: {len(rows)} rows")
    return out.getvalue()
