"""The contact budget of one household while its touchpoints are placed: the calls and messages it
has (history and new), and the earliest allowed day of a window under the calendar, the same-day rule,
the gaps and the caps; also why a window holds no allowed day (``tally``) or why a placement is late
(``delay_code``)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Set as AbstractSet

from contacts.core.pressure.rules import (
    _CAP_30,
    _CAP_365,
    _FREE,
    _HOLIDAY,
    _MESSAGE_GAP,
    _MESSAGE_SAME_DAY,
    _MIN_GAP,
    _NO_DAYS,
    _RULE_NAMES,
    _SPAN_30,
    _SPAN_365,
    _WEEKEND,
    _binding_code,
    _calendar,
    _cap_blocked_until,
)
from contacts.core.pressure.types import History, Rules


class _Household:
    """The pressure state of one household while its touchpoints are placed."""

    __slots__ = (
        "holidays",
        "is_working",
        "call_gap",
        "message_gap",
        "cap_30",
        "cap_365",
        "counted_calls",
        "call_days",
        "call_days_blocking_messages",
        "counted_messages",
        "message_days_blocking_calls",
    )

    def __init__(self, rules: Rules, history: History) -> None:
        self.holidays, self.is_working = _calendar(rules.working_weekdays, rules.holidays)
        self.call_gap = rules.min_days_between_calls
        self.message_gap = rules.min_days_between_messages
        self.cap_30 = rules.max_calls_per_30_days
        self.cap_365 = rules.max_calls_per_365_days
        # Sorted ordinals of the calls the gap and the caps count (not requested ones).
        counted_calls: list[int] = []
        call_days: set[int] = set()
        for call in history.calls:
            day = call.on.toordinal()
            call_days.add(day)
            if not call.is_requested:
                counted_calls.append(day)
        counted_calls.sort()
        self.counted_calls = counted_calls
        self.call_days = call_days
        self.counted_messages = sorted([day.toordinal() for day in history.message_dates])
        self.call_days_blocking_messages: AbstractSet[int] = _NO_DAYS
        self.message_days_blocking_calls: AbstractSet[int] = _NO_DAYS
        if rules.no_message_on_call_day:
            self.call_days_blocking_messages = self.call_days
            if self.counted_messages:
                self.message_days_blocking_calls = set(self.counted_messages)

    # -- calls

    def call_blocker(self, day: int, is_counted: bool) -> int:
        if day in self.holidays:
            return _HOLIDAY
        if not self.is_working[day % 7]:
            return _WEEKEND
        if day in self.message_days_blocking_calls:
            return _MESSAGE_SAME_DAY
        if not is_counted:
            return _FREE
        counted = self.counted_calls
        index = bisect_left(counted, day)
        gap = self.call_gap
        if (index and day - counted[index - 1] < gap) or (
            index < len(counted) and counted[index] - day < gap
        ):
            return _MIN_GAP
        size = len(counted)
        cap_30 = self.cap_30
        if (
            size >= cap_30
            and bisect_right(counted, day + _SPAN_30, index) - bisect_left(counted, day - _SPAN_30, 0, index)
            >= cap_30
            and _cap_blocked_until(counted, index, day, cap_30, _SPAN_30) >= 0
        ):
            return _CAP_30
        if size >= self.cap_365 and _cap_blocked_until(counted, index, day, self.cap_365, _SPAN_365) >= 0:
            return _CAP_365
        return _FREE

    def first_call_day(self, low: int, high: int, is_counted: bool) -> int:
        """The earliest allowed call day in [low, high], or -1."""
        holidays = self.holidays
        is_working = self.is_working
        message_days = self.message_days_blocking_calls
        counted = self.counted_calls
        size = len(counted)
        gap = self.call_gap
        cap_30 = self.cap_30
        cap_365 = self.cap_365
        day = low
        while day <= high:
            if day in holidays or not is_working[day % 7] or day in message_days:
                day += 1
                continue
            if is_counted:
                index = bisect_left(counted, day)
                # Inside the gap of a call: jump straight past it.
                if index and day - counted[index - 1] < gap:
                    day = counted[index - 1] + gap
                    continue
                if index < size and counted[index] - day < gap:
                    day = counted[index] + gap
                    continue
                # The caps, the 30-day one with its cheap count inline (``_cap_blocked_until`` starts
                # with the same): fewer than ``cap`` calls within the span of the day fill no window.
                # A capped day jumps past the calls that fill the window.
                if (
                    size >= cap_30
                    and bisect_right(counted, day + _SPAN_30, index)
                    - bisect_left(counted, day - _SPAN_30, 0, index)
                    >= cap_30
                ):
                    blocked_until = _cap_blocked_until(counted, index, day, cap_30, _SPAN_30)
                    if blocked_until >= 0:
                        day = blocked_until + 1
                        continue
                if size >= cap_365:
                    blocked_until = _cap_blocked_until(counted, index, day, cap_365, _SPAN_365)
                    if blocked_until >= 0:
                        day = blocked_until + 1
                        continue
            return day
        return -1

    def add_call(self, day: int, is_counted: bool) -> None:
        if is_counted:
            insort(self.counted_calls, day)
        self.call_days.add(day)

    # -- messages

    def message_blocker(self, day: int, is_counted: bool) -> int:
        if day in self.holidays:
            return _HOLIDAY
        if not self.is_working[day % 7]:
            return _WEEKEND
        if day in self.call_days_blocking_messages:
            return _MESSAGE_SAME_DAY
        if is_counted:
            counted = self.counted_messages
            index = bisect_left(counted, day)
            gap = self.message_gap
            if (index and day - counted[index - 1] < gap) or (
                index < len(counted) and counted[index] - day < gap
            ):
                return _MESSAGE_GAP
        return _FREE

    def first_message_day(self, low: int, high: int, is_counted: bool, any_day: bool = False) -> int:
        """The earliest allowed message day in [low, high], or -1. ``any_day``: weekends and holidays
        allowed (the template's setting, Item.may_go_on_days_off)."""
        holidays = self.holidays
        is_working = self.is_working
        call_days = self.call_days_blocking_messages
        counted = self.counted_messages
        size = len(counted)
        gap = self.message_gap
        day = low
        while day <= high:
            if (not any_day and (day in holidays or not is_working[day % 7])) or day in call_days:
                day += 1
                continue
            if is_counted and size:
                index = bisect_left(counted, day)
                if index and day - counted[index - 1] < gap:
                    day = counted[index - 1] + gap
                    continue
                if index < size and counted[index] - day < gap:
                    day = counted[index] + gap
                    continue
            return day
        return -1

    def add_message(self, day: int, is_counted: bool) -> None:
        if is_counted:
            insort(self.counted_messages, day)

    # -- reasons

    def tally(self, low: int, high: int, is_call: bool, is_counted: bool) -> list[int]:
        """Days of [low, high] by the code of the first rule that blocks them (0: allowed); the same
        as asking ``call_blocker``/``message_blocker`` day by day, but the pressure rules are laid out
        once as blocked ranges (a window closing is worth a long look, and most of its days are in
        one gap or cap)."""
        tally = [0] * len(_RULE_NAMES)
        holidays = self.holidays
        is_working = self.is_working
        same_days = self.message_days_blocking_calls if is_call else self.call_days_blocking_messages
        pressure = self.pressure_codes(low, high, is_call) if is_counted else None
        for day in range(low, high + 1):
            if day in holidays:
                tally[_HOLIDAY] += 1
            elif not is_working[day % 7]:
                tally[_WEEKEND] += 1
            elif day in same_days:
                tally[_MESSAGE_SAME_DAY] += 1
            elif pressure is not None:
                tally[pressure[day - low]] += 1
            else:
                tally[_FREE] += 1
        return tally

    def pressure_codes(self, low: int, high: int, is_call: bool) -> list[int]:
        """For each day of [low, high], the first of the gap and cap rules that blocks it (0: none)."""
        size = high - low + 1
        codes = [_FREE] * size
        if is_call:
            counted, gap, gap_code = self.counted_calls, self.call_gap, _MIN_GAP
            # Later rules first, so that the earlier ones overwrite them where both block a day. A day
            # is capped when it and ``cap`` consecutive calls lie within the span: a run of ``cap``
            # calls no wider than the span blocks [its last - span, its first + span].
            for cap, span, code in ((self.cap_365, _SPAN_365, _CAP_365), (self.cap_30, _SPAN_30, _CAP_30)):
                if cap == 0:
                    codes = [code] * size
                    continue
                for first_index in range(len(counted) - cap + 1):
                    first = counted[first_index]
                    last = counted[first_index + cap - 1]
                    start = last - span if last - span > low else low
                    end = first + span if first + span < high else high
                    if last - first <= span and start <= end:
                        codes[start - low : end - low + 1] = [code] * (end - start + 1)
        else:
            counted, gap, gap_code = self.counted_messages, self.message_gap, _MESSAGE_GAP
        if gap > 0:
            for contact in counted[
                bisect_left(counted, low - gap + 1) : bisect_right(counted, high + gap - 1)
            ]:
                start = contact - gap + 1 if contact - gap + 1 > low else low
                end = contact + gap - 1 if contact + gap - 1 < high else high
                codes[start - low : end - low + 1] = [gap_code] * (end - start + 1)
        return codes

    def delay_code(self, low: int, high: int, is_call: bool, is_counted: bool) -> int:
        """The binding rule (see ``_binding_code``) that kept the touchpoint off [low, high]; the same
        answer as ``_binding_code(self.tally(...))``, in one pass that stops at the first allowed day."""
        holidays = self.holidays
        is_working = self.is_working
        blocker = self.call_blocker if is_call else self.message_blocker
        holiday_days = weekend_days = 0
        pressure: list[int] | None = None
        for day in range(low, high + 1):
            if day in holidays:
                holiday_days += 1
            elif not is_working[day % 7]:
                weekend_days += 1
            else:
                code = blocker(day, is_counted)
                if code == _FREE:
                    return _FREE
                if pressure is None:
                    pressure = [0] * len(_RULE_NAMES)
                pressure[code] += 1
        if pressure is not None:
            return _binding_code(pressure)
        return _HOLIDAY if holiday_days >= weekend_days else _WEEKEND
