"""Deadlines are counted in calendar months from the day of receipt (GDPR Art. 12(3))."""

from datetime import UTC, date, datetime

import pytest

from app.rights.deadlines import due_date, extended_date, urgency


@pytest.mark.parametrize(("received", "due"), [
    (datetime(2027, 1, 31, 10, tzinfo=UTC), date(2027, 2, 28)),
    (datetime(2028, 1, 31, 10, tzinfo=UTC), date(2028, 2, 29)),
    (datetime(2027, 3, 31, 10, tzinfo=UTC), date(2027, 4, 30)),
    (datetime(2027, 5, 15, 10, tzinfo=UTC), date(2027, 6, 15)),
    (datetime(2027, 12, 31, 10, tzinfo=UTC), date(2028, 1, 31)),
])
def test_one_calendar_month_after_receipt(received, due):
    assert due_date(received) == due


def test_the_day_of_receipt_is_the_day_in_paris():
    late_evening_utc = datetime(2027, 1, 31, 23, 30, tzinfo=UTC)  # 1 February 00:30 in Paris
    assert due_date(late_evening_utc) == date(2027, 3, 1)


def test_an_extension_counts_from_receipt_so_month_ends_stay_right():
    received = datetime(2027, 1, 31, 10, tzinfo=UTC)
    assert extended_date(received, 1) == date(2027, 3, 31)
    assert extended_date(received, 2) == date(2027, 4, 30)
    with pytest.raises(ValueError):
        extended_date(received, 3)


def test_overdue_and_due_soon_are_marked():
    today = date(2027, 2, 20)
    assert urgency(date(2027, 2, 19), today) == "overdue"
    assert urgency(date(2027, 2, 27), today) == "soon"
    assert urgency(date(2027, 2, 28), today) == "ok"
