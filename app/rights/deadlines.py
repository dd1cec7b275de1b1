"""Deadlines in calendar months (GDPR Art. 12(3)): one month from receipt, extendable by two more."""

from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

PARIS = ZoneInfo("Europe/Paris")
MAX_EXTENSION_MONTHS = 2
DUE_SOON_DAYS = 7
UNCONFIRMED_LIFETIME = timedelta(days=30)


def local_date(moment: datetime) -> date:
    """The calendar day of a moment in Paris, where requests are received."""
    return moment.astimezone(PARIS).date()


def months_after(start: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has none (31 January -> 28/29 February)."""
    return start + relativedelta(months=months)


def due_date(received_at: datetime) -> date:
    """The answer is due one calendar month after the day of receipt."""
    return months_after(local_date(received_at), 1)


def extended_date(received_at: datetime, extra_months: int) -> date:
    """The deadline after an extension of 1 or 2 months, counted from receipt so month ends stay right."""
    if not 1 <= extra_months <= MAX_EXTENSION_MONTHS:
        raise ValueError(f"an extension is 1 to {MAX_EXTENSION_MONTHS} months")
    return months_after(local_date(received_at), 1 + extra_months)


class Urgency(StrEnum):
    """How close a deadline is."""

    OVERDUE = "overdue"
    SOON = "soon"  # due within 7 days
    OK = "ok"


def days_left(deadline: date, today: date) -> int:
    """Days until the deadline (negative once overdue)."""
    return (deadline - today).days


def urgency(deadline: date, today: date) -> Urgency:
    """Overdue, due soon (within 7 days) or fine."""
    left = days_left(deadline, today)
    if left < 0:
        return Urgency.OVERDUE
    return Urgency.SOON if left <= DUE_SOON_DAYS else Urgency.OK
