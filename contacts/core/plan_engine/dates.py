"""Calendar helpers of the plan engine: whole months between two dates, a month-day in a given year
(clamped), and season dates normalised. Pure: standard library and ``customers.core.calendar`` only."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from customers.core.calendar import add_months, days_in_month

MonthDay = tuple[int, int]


def _months_between(start: date, end: date) -> int:
    """Whole calendar months from ``start`` to ``end`` (the largest m with start + m months <= end)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if add_months(start, months) > end:
        months -= 1
    return months


def _on_month_day(year: int, month: int, day: int) -> date:
    """The month-day in ``year``, clamped (29 February -> 28 February in a common year)."""
    if day > 28:
        day = min(day, days_in_month(year, month))
    return date(year, month, day)


def parse_season_dates(values: Iterable[object]) -> tuple[MonthDay, ...]:
    """Normalise season dates, sorted: ``"03-20"``, ``("03-20",)``, ``(3, 20)``, ``[3, 20]`` -> ``(3, 20)``.

    Raises ``ValueError`` for anything that is not a valid month-day (29 February is allowed).
    """
    result: list[MonthDay] = []
    for value in values:
        item: object = value
        if isinstance(item, list | tuple) and len(item) == 1:
            item = item[0]
        if isinstance(item, str):
            parts = item.strip().split("-")
            if len(parts) != 2 or not all(p.isdigit() for p in parts):
                raise ValueError(f"season date must be MM-DD, got {value!r}")
            month, day = int(parts[0]), int(parts[1])
        elif (
            isinstance(item, list | tuple)
            and len(item) == 2
            and all(isinstance(p, int) and not isinstance(p, bool) for p in item)
        ):
            month, day = int(item[0]), int(item[1])
        else:
            raise ValueError(f"season date must be MM-DD or (month, day), got {value!r}")
        # 2000 is a leap year: 29 February is a valid month-day (clamped in common years).
        if not 1 <= month <= 12 or not 1 <= day <= days_in_month(2000, month):
            raise ValueError(f"no such month-day: {value!r}")
        result.append((month, day))
    if not result:
        raise ValueError("at least one season date is needed")
    if len(set(result)) != len(result):
        raise ValueError(f"duplicate season dates: {result!r}")
    return tuple(sorted(result))
