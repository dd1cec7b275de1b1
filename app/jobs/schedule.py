"""When a job runs: every so many seconds, or every day at a time of day in Paris (daylight saving included)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class Every:
    """A fixed interval."""

    interval: timedelta

    def next_after(self, moment: datetime) -> datetime:
        """The next run after `moment`."""
        return moment + self.interval

    def __str__(self) -> str:
        return f"every {int(self.interval.total_seconds())} s"


@dataclass(frozen=True)
class DailyAt:
    """Once a day at a wall-clock time in Paris."""

    at: time

    def next_after(self, moment: datetime) -> datetime:
        """The first such time strictly after `moment`, in UTC."""
        local_day = moment.astimezone(PARIS).date()
        for offset in range(3):
            candidate = datetime.combine(local_day + timedelta(days=offset), self.at, tzinfo=PARIS)
            if candidate > moment:
                return candidate.astimezone(UTC)
        raise AssertionError("unreachable: a day always has the time")

    def __str__(self) -> str:
        return f"daily at {self.at:%H:%M} Paris"


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class WeeklyAt:
    """Once a week, on a day at a wall-clock time in Paris, as a setting writes it (« mon 04:00 »)."""

    setting: str

    def parsed(self) -> tuple[int, time]:
        """The weekday (0 is Monday) and the time of day the setting names."""
        day, _space, at = current_app.config[self.setting].strip().lower().partition(" ")
        return DAYS.index(day[:3]), time.fromisoformat(at.strip())

    def next_after(self, moment: datetime) -> datetime:
        """The first such time strictly after `moment`, in UTC."""
        weekday, at = self.parsed()
        local_day = moment.astimezone(PARIS).date()
        for offset in range(8):
            day = local_day + timedelta(days=offset)
            candidate = datetime.combine(day, at, tzinfo=PARIS)
            if day.weekday() == weekday and candidate > moment:
                return candidate.astimezone(UTC)
        raise AssertionError("unreachable: a week always has the day")

    def __str__(self) -> str:
        return f"weekly ({self.setting})"


@dataclass(frozen=True)
class Job:
    """A named task, its schedule, how long one run may hold the lease, and what it does (returns a report line)."""

    name: str
    when: Every | DailyAt | WeeklyAt
    run: Callable[[datetime], str]
    lease: timedelta = timedelta(hours=1)
