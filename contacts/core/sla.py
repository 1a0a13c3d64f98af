"""The hand-off SLA: a number of working hours added to a moment, on the dealership's wall clock.

Pure: the caller gives the local wall-clock moment (naive), the working hours of a day and which days
are working days; the answer is a naive local moment, which the caller puts back in the dealership's
zone (contacts.calls.handoffs). A moment outside working hours counts from the next opening.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

# Further than a year of closed days means the calendar is broken: stop there rather than loop.
MAX_DAYS = 400


def add_working_hours(
    *, start: dt.datetime, hours: float, opens: dt.time, closes: dt.time, is_working_day: Callable[[dt.date], bool],
) -> dt.datetime:
    """``start`` plus ``hours`` of working time (``opens``..``closes`` on working days), all naive local."""
    if closes <= opens:
        raise ValueError("the working day must close after it opens")
    remaining = dt.timedelta(hours=hours)
    cursor = start
    for _day in range(MAX_DAYS):
        day = cursor.date()
        opening, closing = dt.datetime.combine(day, opens), dt.datetime.combine(day, closes)
        if is_working_day(day) and cursor < closing:
            cursor = max(cursor, opening)
            available = closing - cursor
            if remaining <= available:
                return cursor + remaining
            remaining -= available
        cursor = dt.datetime.combine(day + dt.timedelta(days=1), opens)
    return cursor
