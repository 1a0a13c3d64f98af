"""The customer's habit: a customer who consistently comes late (or early) moves the due date (pure, stdlib only).

docs/forecast.md describes the rule in plain words.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from customers.core.calendar import timedelta_days
from customers.core.due_dates import MaintenanceDue

__all__ = [
    "HABIT_CONSISTENT_VISITS",
    "HABIT_MAX_SHIFT_DAYS",
    "HABIT_MAX_WIDENING_DAYS",
    "HABIT_MIN_SHIFT_DAYS",
    "HABIT_RECENT_VISITS",
    "adjust_for_habit",
    "habit_shift_days",
]

HABIT_MAX_SHIFT_DAYS = 60

#: The habit moves the point date only when this many of the latest visits were off the same way.
HABIT_CONSISTENT_VISITS = 3

#: A habit smaller than this is within the forecast's own error: the point stays.
HABIT_MIN_SHIFT_DAYS = 10

#: The habit is read from this many latest visits (older ones describe an older habit).
HABIT_RECENT_VISITS = 5

#: Past visits widen the interval by at most this many days beyond the rate's own range.
HABIT_MAX_WIDENING_DAYS = 45


def habit_shift_days(past_errors: Sequence[int]) -> int:
    """How many days this customer comes after (+) or before (-) the predicted day, when consistent.

    ``past_errors``: actual minus predicted day of the vehicle's earlier maintenance visits, oldest
    first. The shift is the median of the latest ``HABIT_RECENT_VISITS`` when the latest
    ``HABIT_CONSISTENT_VISITS`` were all late or all early; else 0 (one late visit is not a habit,
    and part of an earlier error is the rate estimate's, not the customer's).
    """
    latest = list(past_errors[-HABIT_CONSISTENT_VISITS:])
    if len(latest) < HABIT_CONSISTENT_VISITS:
        return 0
    if not (all(e > 0 for e in latest) or all(e < 0 for e in latest)):
        return 0
    shift = round(_median(past_errors[-HABIT_RECENT_VISITS:]))
    if abs(shift) < HABIT_MIN_SHIFT_DAYS:
        return 0
    return max(-HABIT_MAX_SHIFT_DAYS, min(HABIT_MAX_SHIFT_DAYS, shift))


def _median(values: Sequence[int]) -> float:
    """``statistics.median`` (the mean of the middle two of an even count), without its overhead."""
    ordered = sorted(values)
    n = len(ordered)
    half = n // 2
    return ordered[half] if n % 2 else (ordered[half - 1] + ordered[half]) / 2


def adjust_for_habit(
    due: MaintenanceDue, past_errors: Sequence[int], *, today: date, shift: int | None = None
) -> MaintenanceDue:
    """Move a predicted due date by the customer's consistent habit and widen its interval honestly.

    The point moves by ``habit_shift_days`` (0 unless the latest visits were consistently off one
    way). The interval is the rate's range moved with the point, widened to cover how far the latest
    visits fell from the shifted point, by at most ``HABIT_MAX_WIDENING_DAYS``: it follows the
    customer's recent behaviour and does not grow with every past error.
    """
    if not past_errors:
        return due
    if shift is None:
        shift = habit_shift_days(past_errors)
    residuals = [e - shift for e in past_errors[-HABIT_RECENT_VISITS:]]
    early = max(-HABIT_MAX_WIDENING_DAYS, min(0, min(residuals)))
    late = min(HABIT_MAX_WIDENING_DAYS, max(0, max(residuals)))
    moved = timedelta_days(shift)
    due_on = due.due_on + moved
    return MaintenanceDue(
        due_on, due.driver, due.due_odometer_km, due.interval_number,
        min(due.earliest_on + moved, due_on + timedelta_days(early)),
        max(due.latest_on + moved, due_on + timedelta_days(late)),
        due_on < today,
    )
