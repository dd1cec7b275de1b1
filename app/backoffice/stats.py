"""The DPO's figures, each from one set-based query: open requests, answers on time, consent choices, opt-outs.

Weeks start on Monday at 00:00 UTC and months are UTC calendar months, on SQLite as on PostgreSQL.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from app.backoffice.models import ConsentWeek
from app.consent.models import ConsentRecord
from app.consent.services import GPC_SIGNAL, current_register
from app.extensions import db
from app.rights.models import OPEN_STATUSES, RightsRequest, Status
from app.suppression.models import Reason, Suppression

WEEKS, MONTHS = 12, 12
SOON_DAYS = 7
SETTLED = timedelta(hours=1)  # a week is counted for good an hour after it ends (late transactions)
# Where each opt-out came from (the opt-out list's `source`), grouped as the DPO reads them.
OPT_OUT_SOURCES = {
    "link": ("unsubscribe_page", "preference_centre", "mailto"),
    "one_click": ("one_click",),
    "stop": ("sms",),
    "staff": ("staff", "rights_request", "rectification"),
    "bounce": ("bounce", "complaint"),
}


@dataclass
class Series:
    """Rows of one chart: a label per period (or status) and a count per column."""

    columns: tuple[str, ...]
    rows: list[tuple[object, dict[str, int]]] = field(default_factory=list)

    def total(self, column: str) -> int:
        """The sum of one column over every row."""
        return sum(counts[column] for _, counts in self.rows)


def week_starts(now: datetime, weeks: int = WEEKS) -> list[date]:
    """The Mondays of the last `weeks` weeks, oldest first (the last one is this week)."""
    monday = now.astimezone(UTC).date() - timedelta(days=now.astimezone(UTC).weekday())
    return [monday - timedelta(weeks=weeks - 1 - index) for index in range(weeks)]


def month_starts(now: datetime, months: int = MONTHS) -> list[date]:
    """The first days of the last `months` months, oldest first (the last one is this month)."""
    year, month = now.astimezone(UTC).year, now.astimezone(UTC).month
    firsts = []
    for back in range(months - 1, -1, -1):
        index = year * 12 + month - 1 - back
        firsts.append(date(index // 12, index % 12 + 1, 1))
    return firsts


def midnight(day: date) -> datetime:
    """00:00 UTC of a day."""
    return datetime.combine(day, time(), tzinfo=UTC)


def is_postgresql() -> bool:
    """Whether the database is PostgreSQL (else SQLite)."""
    return db.engine.dialect.name == "postgresql"


def week_index(column, start: datetime) -> sa.ColumnElement[int]:
    """The number of whole weeks between `start` and a timestamp column (0 for the first week)."""
    if is_postgresql():
        seconds = sa.extract("epoch", column - sa.literal(start, sa.DateTime(timezone=True)))
        return sa.cast(sa.func.floor(seconds / 604800), sa.Integer)
    days = sa.func.julianday(column) - sa.func.julianday(start.strftime("%Y-%m-%d %H:%M:%S"))
    return sa.cast(days / 7, sa.Integer)  # never negative here: rows are filtered from `start` on


def month_label(column) -> sa.ColumnElement[str]:
    """A timestamp column's UTC month as `YYYY-MM`."""
    if is_postgresql():
        return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM")
    return sa.func.strftime("%Y-%m", column)


def day_of(column) -> sa.ColumnElement:
    """A timestamp column's UTC day, comparable with a date column."""
    if is_postgresql():
        return sa.cast(sa.func.timezone("UTC", column), sa.Date)
    return sa.func.date(column)


def counted(condition) -> sa.ColumnElement[int]:
    """COUNT of the rows where a condition holds."""
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def open_requests(today: date) -> Series:
    """Open requests per status: overdue, due within 7 days, due later."""
    deadline = sa.func.coalesce(RightsRequest.extended_to, RightsRequest.due_on)
    query = (sa.select(RightsRequest.status, counted(deadline < today), counted(
        sa.and_(deadline >= today, deadline <= today + timedelta(days=SOON_DAYS))),
        counted(deadline > today + timedelta(days=SOON_DAYS)))
             .where(RightsRequest.status.in_(OPEN_STATUSES)).group_by(RightsRequest.status))
    found = {status: (late, soon, later) for status, late, soon, later in db.session.execute(query)}
    series = Series(("overdue", "soon", "later"))
    for status in OPEN_STATUSES:
        late, soon, later = found.get(status, (0, 0, 0))
        series.rows.append((status, {"overdue": late, "soon": soon, "later": later}))
    return series


def answers_on_time(now: datetime) -> Series:
    """Requests answered (or refused) per month of the last 12, on time or late (after their deadline)."""
    firsts = month_starts(now)
    deadline = sa.func.coalesce(RightsRequest.extended_to, RightsRequest.due_on)
    month = month_label(RightsRequest.closed_at)
    query = (sa.select(month, counted(day_of(RightsRequest.closed_at) <= deadline),
                       counted(day_of(RightsRequest.closed_at) > deadline))
             .where(RightsRequest.status.in_((Status.ANSWERED, Status.REFUSED)),
                    RightsRequest.closed_at >= midnight(firsts[0]))
             .group_by(month))
    found = {label: (on_time, late) for label, on_time, late in db.session.execute(query)}
    series = Series(("on_time", "late"))
    for first in firsts:
        on_time, late = found.get(first.strftime("%Y-%m"), (0, 0))
        series.rows.append((first, {"on_time": on_time, "late": late}))
    return series


def consent_choices(now: datetime) -> Series:
    """Per week of the last 12: choices made, GPC signals, and how many choices accepted each optional category.

    Finished weeks are counted once and kept (`ConsentWeek`); only the weeks still under way are counted live.
    """
    starts = week_starts(now)
    keys = [category.key for category in current_register().optional]
    stored = finished_weeks(starts, now, keys)
    unfinished = [start for start in starts if start not in stored]
    live = count_consent_weeks(midnight(unfinished[0]), None, keys) if unfinished else {}
    series = Series(("choices", "gpc", *keys))
    empty = dict.fromkeys(series.columns, 0)
    series.rows = [(start, stored.get(start) or live.get(start) or dict(empty)) for start in starts]
    return series


def count_consent_weeks(since: datetime, until: datetime | None, keys: list[str]) -> dict[date, dict[str, int]]:
    """The consent records from `since` (a Monday) to `until`, counted per week in one query."""
    week = week_index(ConsentRecord.recorded_at, since)
    is_choice = ConsentRecord.action != GPC_SIGNAL
    accepted = [counted(sa.and_(is_choice, ConsentRecord.choices[key].as_boolean())) for key in keys]
    query = (sa.select(week, counted(is_choice), counted(ConsentRecord.action == GPC_SIGNAL), *accepted)
             .where(ConsentRecord.recorded_at >= since).group_by(week))
    if until is not None:
        query = query.where(ConsentRecord.recorded_at < until)
    columns = ("choices", "gpc", *keys)
    return {since.date() + timedelta(weeks=row[0]): dict(zip(columns, row[1:], strict=True))
            for row in db.session.execute(query)}


def finished_weeks(starts: list[date], now: datetime, keys: list[str]) -> dict[date, dict[str, int]]:
    """The counts of the weeks that ended (an hour ago at least), counting and keeping those not kept yet."""
    finished = [start for start in starts if midnight(start + timedelta(weeks=1)) <= now - SETTLED]
    kept = db.session.scalars(sa.select(ConsentWeek).where(ConsentWeek.week_start.in_(finished)))
    stored = {week.week_start: week.counts(keys) for week in kept}
    missing = [start for start in finished if start not in stored]
    if missing:
        counted_now = count_consent_weeks(midnight(missing[0]), midnight(missing[-1] + timedelta(weeks=1)), keys)
        for start in missing:
            counts = counted_now.get(start) or {"choices": 0, "gpc": 0, **dict.fromkeys(keys, 0)}
            keep_week(start, counts, keys)
            stored[start] = counts
    return stored


def keep_week(start: date, counts: dict[str, int], keys: list[str]) -> None:
    """Keep a finished week's counts (another request may have kept it first: then nothing changes)."""
    try:
        with db.session.begin_nested():
            db.session.add(ConsentWeek(week_start=start, choices=counts["choices"], gpc=counts["gpc"],
                                       accepted={key: counts[key] for key in keys}))
    except sa.exc.IntegrityError:
        pass


def opt_outs(now: datetime) -> Series:
    """Opt-outs entered on the list per week of the last 12, by where they came from."""
    starts = week_starts(now)
    week = week_index(Suppression.created_at, midnight(starts[0]))
    sums = [counted(Suppression.source.in_(sources)) for sources in OPT_OUT_SOURCES.values()]
    known = [source for sources in OPT_OUT_SOURCES.values() for source in sources]
    query = (sa.select(week, *sums, counted(Suppression.source.not_in(known)))
             .where(Suppression.reason == Reason.OPT_OUT, Suppression.created_at >= midnight(starts[0]))
             .group_by(week))
    found = {row[0]: row[1:] for row in db.session.execute(query)}
    series = Series((*OPT_OUT_SOURCES, "other"))
    for index, start in enumerate(starts):
        values = found.get(index, (0,) * len(series.columns))
        series.rows.append((start, dict(zip(series.columns, values, strict=True))))
    return series
