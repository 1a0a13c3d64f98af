"""Why a day is not allowed: the rule codes of the hot loops, their names in reasons, the working
calendar of a rule set, the rolling-window caps, and the binding rule of a run of blocked days."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date
from functools import lru_cache
from typing import Final

# Why a day is not allowed. The index is the code used in the hot loops; the order is the check order
# of one day and the tie-break order when naming the binding rule.
_FREE: Final = 0
_HOLIDAY: Final = 1
_WEEKEND: Final = 2
_MESSAGE_SAME_DAY: Final = 3
_MIN_GAP: Final = 4
_CAP_30: Final = 5
_CAP_365: Final = 6
_MESSAGE_GAP: Final = 7
_RULE_NAMES: Final[tuple[str, ...]] = (
    "merge",
    "holiday",
    "weekend",
    "message_same_day_as_call",
    "min_gap",
    "cap_30",
    "cap_365",
    "message_gap",
)
_CALENDAR_CODES: Final = (_HOLIDAY, _WEEKEND)
_PRESSURE_CODES: Final = (_MESSAGE_SAME_DAY, _MIN_GAP, _CAP_30, _CAP_365, _MESSAGE_GAP)
# The rolling windows of the caps, as "last day - first day" in days.
_SPAN_30: Final = 29
_SPAN_365: Final = 364
_NO_DAYS: Final[frozenset[int]] = frozenset()
# Later than any date (date.max is ordinal 3,652,059): how long a cap of 0 blocks.
_FOREVER: Final = 10_000_000


@lru_cache(maxsize=64)
def _calendar(
    working_weekdays: frozenset[int], holidays: frozenset[date]
) -> tuple[frozenset[int], tuple[bool, ...]]:
    """Holiday ordinals, and whether a day is a working weekday indexed by ``ordinal % 7``.

    Cached: one dealership's rules come back for every household, and frozensets cache their hash.
    """
    # date.fromordinal(1) is a Monday, so weekday = (ordinal - 1) % 7 = (ordinal % 7 + 6) % 7.
    is_working_by_remainder = tuple((remainder + 6) % 7 in working_weekdays for remainder in range(7))
    return frozenset(day.toordinal() for day in holidays), is_working_by_remainder


def _cap_blocked_until(counted: list[int], index: int, day: int, cap: int, span: int) -> int:
    """-1 when a call on ``day`` (insertion point ``index`` in the sorted ``counted``) leaves every
    rolling window of ``span + 1`` days with at most ``cap`` calls; else the last day still blocked by
    the ``cap`` calls that fill a window with it (a scan may jump past them)."""
    if cap == 0:
        return _FOREVER
    size = len(counted)
    # Fast path: fewer than ``cap`` calls within ``span`` days of ``day``, both sides together.
    if bisect_right(counted, day + span, index) - bisect_left(counted, day - span, 0, index) < cap:
        return -1
    # Some run of ``cap`` consecutive calls that, with the new one, spans at most ``span`` days. Every
    # day from ``day`` to the run's first call + span lies within the span of the whole run.
    for before in range(cap + 1):
        first_index = index - before
        if first_index < 0:
            break
        after_end = index + cap - before
        if after_end > size:
            continue
        first = counted[first_index] if before else day
        last = counted[after_end - 1] if after_end > index else day
        if last - first <= span:
            return counted[first_index] + span
    return -1


def _binding_code(tally: list[int]) -> int:
    """``merge`` if a day was allowed, else the pressure rule that blocked most days, else the
    calendar rule that blocked most days; ties go to the earlier code."""
    if tally[_FREE]:
        return _FREE
    best_code, best_count = _FREE, 0
    for code in _PRESSURE_CODES:
        if tally[code] > best_count:
            best_code, best_count = code, tally[code]
    if best_count:
        return best_code
    for code in _CALENDAR_CODES:
        if tally[code] > best_count:
            best_code, best_count = code, tally[code]
    return best_code


_DEFERRED_REASONS: Final[tuple[str, ...]] = tuple(f"deferred:{name}" for name in _RULE_NAMES)
