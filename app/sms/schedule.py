"""When a commercial SMS may leave: 08:00–20:00 Paris time, never on Sunday or a French public holiday."""

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
OPENS, CLOSES = time(8, 0), time(20, 0)


@lru_cache(maxsize=16)
def french_holidays(year: int):
    """France's public holidays of one year (metropolitan list of the `holidays` package)."""
    import holidays  # 11 MB of calendars, loaded when an SMS is scheduled, not in every web worker

    return holidays.France(years=year)


def allowed_day(day: date) -> bool:
    """Monday to Saturday, not a public holiday."""
    return day.weekday() != 6 and day not in french_holidays(day.year)


def next_allowed_slot(moment: datetime) -> datetime:
    """`moment` itself when a commercial SMS may leave then, else the next day's 08:00 Paris that may (in UTC)."""
    local = moment.astimezone(PARIS)
    if allowed_day(local.date()) and OPENS <= local.time() < CLOSES:
        return moment
    day = local.date() if local.time() < OPENS else local.date() + timedelta(days=1)
    while not allowed_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, OPENS, PARIS).astimezone(UTC)
