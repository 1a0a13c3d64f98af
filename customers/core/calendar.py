"""Calendar arithmetic shared by the forecast and the plan engine (pure, stdlib only).

Units: ``MONTH_DAYS`` = 30.4375 days is the mean month used to turn km per month into days.
"""

from __future__ import annotations

from datetime import date, timedelta

__all__ = [
    "MONTH_DAYS", "add_months", "advance_months", "days_in_month", "first_day_when_months_reach", "is_leap", "timedelta_days",
]

MONTH_DAYS = 30.4375
_WHOLE_EPS = 1e-9
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_ONE_DAY = timedelta(days=1)
#: ``timedelta(days=n)`` for whole n, |n| <= 366: building a timedelta costs several times adding one.
_DAYS: dict[float, timedelta] = {n: timedelta(days=n) for n in range(-366, 367)}


def timedelta_days(n: float) -> timedelta:
    """``timedelta(days=n)``, from a table for a whole |n| <= 366."""
    known = _DAYS.get(n)
    return timedelta(days=n) if known is None else known


def is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year: int, month: int) -> int:
    if month == 2 and is_leap(year):
        return 29
    return _DAYS_IN_MONTH[month]


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, the day clamped to the month's end.

    2024-01-31 + 1 = 2024-02-29; 2024-02-29 + 12 = 2025-02-28; ``months`` may be negative.
    """
    m0 = day.month - 1 + months
    year = day.year + m0 // 12
    month = m0 % 12 + 1
    dom = day.day
    if dom > 28:
        last = days_in_month(year, month)
        if dom > last:
            dom = last
    return date(year, month, dom)


def advance_months(anchor: date, months: float) -> date:
    """``anchor`` + a (fractional) number of months.

    Whole months (within 1e-9) go by ``add_months``; otherwise whole months by ``add_months`` plus
    ``floor(fraction x 30.4375)`` days, never past the next whole month's date.
    """
    if months <= _WHOLE_EPS:
        return anchor
    whole = int(months)
    frac = months - whole
    if frac <= _WHOLE_EPS:
        return add_months(anchor, whole)
    if frac >= 1.0 - _WHOLE_EPS:
        return add_months(anchor, whole + 1)
    base = add_months(anchor, whole)
    extra = int(frac * MONTH_DAYS)
    result = base + _DAYS[extra]
    if extra >= 28:  # consecutive whole-month dates are at least 28 days apart
        cap = add_months(anchor, whole + 1)
        if result > cap:
            return cap
    return result


def first_day_when_months_reach(target: date, months: int, *, after: date) -> date:
    """The first day d > ``after`` with ``add_months(d, months) >= target`` (``add_months`` is monotone)."""
    one = _ONE_DAY
    day = add_months(target, -months)
    if target.day <= 28:  # nothing clamped: add_months(day, months) is ``target``, a day earlier gives less
        return max(day, after + one)
    while day > after and add_months(day - one, months) >= target:
        day -= one
    while add_months(day, months) < target:
        day += one
    return max(day, after + one)
