"""Pure tests for customers.core.calendar (no database)."""

from __future__ import annotations

from datetime import date

from customers.core.calendar import add_months


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
