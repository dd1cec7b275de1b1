"""When a job runs: every so many seconds, or every day at a time of day in Paris (daylight saving included)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

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


@dataclass(frozen=True)
class Job:
    """A named task, its schedule, how long one run may hold the lease, and what it does (returns a report line)."""

    name: str
    when: Every | DailyAt
    run: Callable[[datetime], str]
    lease: timedelta = timedelta(hours=1)
