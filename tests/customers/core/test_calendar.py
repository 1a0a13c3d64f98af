"""Pure tests for customers.core.calendar (no database)."""

from __future__ import annotations

from datetime import date, timedelta

from customers.core.calendar import add_months, first_day_when_months_reach, timedelta_days


def test_add_months_clamps_january_31_to_february_29_in_a_leap_year() -> None:
    # given
    day = date(2024, 1, 31)
    # when
    result = add_months(day, 1)
    # then
    assert result == date(2024, 2, 29)


def test_add_months_across_year_end_clamps_to_february_28() -> None:
    # given
    new_years_eve = date(2025, 12, 31)
    # when
    two_later = add_months(new_years_eve, 2)
    three_after_november_30 = add_months(date(2025, 11, 30), 3)
    # then
    assert two_later == date(2026, 2, 28)
    assert three_after_november_30 == date(2026, 2, 28)


def test_add_months_crosses_year_end_forwards_and_backwards() -> None:
    # given
    day = date(2025, 12, 31)
    # when
    forward = add_months(day, 1)
    backward = add_months(date(2026, 1, 15), -1)
    leap_day_next_year = add_months(date(2024, 2, 29), 12)
    # then
    assert forward == date(2026, 1, 31)
    assert backward == date(2025, 12, 15)
    assert leap_day_next_year == date(2025, 2, 28)


def test_add_months_negative_clamps_to_leap_february() -> None:
    # given
    day = date(2024, 3, 31)
    # when
    result = add_months(day, -1)
    # then
    assert result == date(2024, 2, 29)


def _first_day_by_search(target: date, months: int, after: date) -> date:
    """The definition, searched day by day (from a week before ``target`` less ``months``: adding months
    moves a day by at most 3 days more than the calendar month lengths, so no earlier day reaches it)."""
    day = max(after + timedelta(days=1), add_months(target, -months) - timedelta(days=7))
    while add_months(day, months) < target:
        day += timedelta(days=1)
    return day


def test_first_day_when_months_reach_is_the_first_day_after_whose_months_reach_the_target() -> None:
    # Every target day of 2027-2028 (month ends and leap days included), several horizons, the answer
    # both after ``after`` and clamped to the day after it.
    checked = 0
    for offset in range(0, 731, 1):
        target = date(2027, 1, 1) + timedelta(days=offset)
        for months in (0, 1, 12, 13, 37):
            for after in (add_months(target, -months) - timedelta(days=3), target - timedelta(days=40 * 31)):
                assert first_day_when_months_reach(target, months, after=after) == _first_day_by_search(
                    target, months, after
                ), (target, months, after)
                checked += 1
    assert checked == 731 * 5 * 2


def test_timedelta_days_is_timedelta_of_that_many_days() -> None:
    for n in (*range(-400, 401), 0.5, -2.25, 10_000):
        assert timedelta_days(n) == timedelta(days=n)
