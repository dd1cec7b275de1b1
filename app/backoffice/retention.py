"""Retention of the journal of staff reads: one year, then deleted."""

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.backoffice.models import StaffRead
from app.retention.register import P6_STAFF_ACCESS, Action, Outcome, Rule
from app.retention.runner import bulk

READS_RETENTION = timedelta(days=365)


def delete_old_reads(now: datetime) -> Outcome:
    """Reads of requests, packages and exports older than a year."""
    return bulk(sa.delete(StaffRead).where(StaffRead.occurred_at < now - READS_RETENTION))


# What the back-office adds to the retention register (registered in create_app).
RULES = (
    Rule("journal_consultations", ("staff_reads",), _l("Journal des consultations de l’équipe (qui a lu quoi, quand)"),
         READS_RETENTION, _l("1 an"), _l("la consultation"), Action.DELETE, (P6_STAFF_ACCESS,), delete_old_reads),
)
