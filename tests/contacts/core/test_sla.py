"""The hand-off SLA in working hours (contacts.core.sla): pure, on the dealership's wall clock."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contacts.core.sla import add_working_hours

OPENS, CLOSES = dt.time(9, 0), dt.time(20, 0)
HOLIDAY = dt.date(2026, 11, 4)


def wall(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A wall-clock moment of the dealership (naive: the core works on the local clock)."""
    return dt.datetime.combine(dt.date(year, month, day), dt.time(hour, minute))


def weekdays(day: dt.date) -> bool:
    return day.weekday() < 5 and day != HOLIDAY


def add(start: dt.datetime, hours: float) -> dt.datetime:
    return add_working_hours(start=start, hours=hours, opens=OPENS, closes=CLOSES, is_working_day=weekdays)


@pytest.mark.parametrize(("start", "hours", "expected"), [
    (wall(2026, 11, 23, 11, 0), 2, wall(2026, 11, 23, 13, 0)),  # inside the day
    (wall(2026, 11, 23, 19, 0), 2, wall(2026, 11, 24, 10, 0)),  # runs over the closing
    (wall(2026, 11, 23, 7, 30), 2, wall(2026, 11, 23, 11, 0)),  # before opening: from 9:00
    (wall(2026, 11, 23, 21, 0), 2, wall(2026, 11, 24, 11, 0)),  # after closing: next morning
    (wall(2026, 11, 27, 19, 0), 2, wall(2026, 11, 30, 10, 0)),  # Friday evening: over the weekend
    (wall(2026, 11, 28, 12, 0), 8, wall(2026, 11, 30, 17, 0)),  # Saturday: counts from Monday
    (wall(2026, 11, 3, 18, 0), 8, wall(2026, 11, 5, 15, 0)),    # over a public holiday
    (wall(2026, 11, 23, 9, 0), 11, wall(2026, 11, 23, 20, 0)),  # exactly one working day
    (wall(2026, 11, 23, 12, 0), 24, wall(2026, 11, 25, 14, 0)),  # cold: about two days
])
def test_adds_working_hours_on_working_days_only(start, hours, expected):
    assert add(start, hours) == expected


def test_a_working_day_that_closes_before_it_opens_is_refused():
    with pytest.raises(ValueError, match="close after"):
        add_working_hours(start=wall(2026, 11, 23, 9), hours=1, opens=CLOSES, closes=OPENS, is_working_day=weekdays)


@settings(max_examples=200, deadline=None)
@given(start=st.datetimes(min_value=wall(2026, 1, 1), max_value=wall(2027, 12, 31)),
       hours=st.integers(min_value=0, max_value=60))
def test_the_due_moment_is_inside_working_hours_and_never_before_the_start(start, hours):
    due = add(start, hours)
    assert due >= start
    assert weekdays(due.date())
    assert OPENS <= due.time() <= CLOSES
    # adding the hours in two parts gives the same moment (working time is additive)
    if hours >= 1:
        assert add(add(start, 1), hours - 1) == due
