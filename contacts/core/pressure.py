"""Contact-pressure resolver: one household's touchpoints + contact history + rules -> call tasks,
messages and one machine-readable decision per touchpoint (PROGRAM.md, "Windows" and
"Contact-pressure defaults").

Pure core: standard library only, no Django, no clock (``today`` is passed in), deterministic and
independent of the input order. The caller builds the holiday set (the ``holidays`` package, the
dealership's country) and passes plain dates in ``Rules.holidays``.

The unit of resolution is a household: the customers who share a phone number. The caller passes all
touchpoints of all its customers in one call, and every pressure rule (call gap, call caps, message
gap, no message on a call day) is counted across the whole unit, all vehicles and all departments.
For a customer alone in a household this is exactly the per-customer rule of PROGRAM.md. Call
touchpoints are merged only within one customer (one agenda is about one person).

How the resolver places things, in this order:

1. Per touchpoint, before any pressure: a blocked channel (do-not-call/-sms/-email) suppresses it
   (``do_not_contact:<channel>``); an unreachable phone suppresses calls (``unreachable``); a window
   that ended before ``today`` suppresses it (``window_passed``); a window that starts before
   ``today`` is placed from ``today``. With ``horizon_end``, a touchpoint whose window opens after
   it is left ``pending`` (``beyond_horizon``) for a later run and constrains nothing.
2. Requested calls (a callback, a hot hand-off), then the other calls, then messages, each in the
   order (wish day, department priority, window end, touchpoint id). The wish day is ``due_on``
   clamped into the open part of the window. A call is placed at the earliest allowed day of its
   window (call early), so it may land before ``due_on`` when the window opens earlier.
3. Merging (documented choice). A call touchpoint first joins an already placed call of the same
   customer whose day lies inside its window and within ``merge_window_days`` of its wish day: that
   adds no call at all. Otherwise it leads a new call: the following unplaced call touchpoints of the
   same customer whose wish day is within ``merge_window_days`` of the lead's are taken in order,
   each only if the intersection of the windows taken so far and its own window still holds an
   allowed day; the call goes to the earliest allowed day of that intersection ("the earliest allowed
   date of the merged windows"). A touchpoint that does not fit is not merged; it is handled on its
   own later (placed or suppressed). So a placed day always lies inside the window of every item on
   the agenda, which is the invariant the product audits, and ``CallPlan.window_start``/``window_end``
   (the max of the window starts and the min of the window ends) is the range the queue may move the
   call in. A merged call may thus be later than its first touchpoint's date (``deferred:merge``),
   never outside its window.
   A non-requested touchpoint may join a requested call: it costs the customer no extra call, and the
   call stays requested (exempt from the gap and caps).
4. Requested calls ignore the call gap and caps and are not counted by them, but obey windows,
   do-not-contact, working days, holidays and the same-day rule. Requested messages likewise ignore
   and do not count for the message gap.
5. "Nothing on the same day as a call" is kept both ways: a new message avoids every call day (history
   and new), and a new call avoids the days of messages already sent or scheduled (``History``).

Reason codes (``Decision.reason``): ``placed``; ``merged_into:<call key>``; ``deferred:<rule>``;
``do_not_contact:<channel>``; ``unreachable``; ``window_passed``; ``window_closed:<rule>``;
``beyond_horizon``. Rules: ``holiday``, ``weekend``, ``message_same_day_as_call``, ``min_gap``,
``cap_30``, ``cap_365``, ``message_gap`` and, for deferrals only, ``merge`` (an allowed earlier day was
passed over so that one call covers several touchpoints). The rule named is the binding one: ``merge``
if an earlier day was allowed, else the pressure rule that blocked most days, else the calendar rule
that blocked most days (ties in the order just listed). Each day is checked calendar first, so a
weekend that is also inside the gap counts as ``weekend``.

History: pass one ``PastCall`` per call task (placed, or already issued for a future day: a re-run
around existing tasks then respects the gap); the retry attempts of one task are one call. Every call
counts, reached or not (``is_reached`` is informational). A requested past call does not count for the gap
and caps. The resolver never merges into history: leave touchpoints already covered by an issued
task out of ``items``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from operator import attrgetter, itemgetter
from typing import Final, Literal

from contacts.core.departments import DEPARTMENT_PRIORITY

CALL: Final = "call"
SMS: Final = "sms"
EMAIL: Final = "email"
CHANNELS: Final[frozenset[str]] = frozenset({CALL, SMS, EMAIL})

# The resolver's default department priority is the seeded program's (contacts.core.departments).
DEFAULT_DEPARTMENT_PRIORITY: Final[Mapping[str, int]] = DEPARTMENT_PRIORITY
# A department missing from Rules.department_priority sorts after every known one.
UNKNOWN_DEPARTMENT_PRIORITY: Final = 1_000

Outcome = Literal["placed", "merged", "deferred", "suppressed", "pending"]

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


# ---------------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True, slots=True)
class Rules:
    """Contact-pressure rules of one dealership (PROGRAM.md defaults). Build once per dealership and
    reuse it for all its households: the calendar is precomputed once per holiday set."""

    min_days_between_calls: int = 7
    min_days_between_messages: int = 3
    max_calls_per_30_days: int = 2
    max_calls_per_365_days: int = 12
    merge_window_days: int = 10
    # Lower sorts first.
    department_priority: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_DEPARTMENT_PRIORITY))
    # date.weekday() numbers: 0 = Monday.
    working_weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    holidays: frozenset[date] = frozenset()
    no_message_on_call_day: bool = True

    def __post_init__(self) -> None:
        for name in (
            "min_days_between_calls",
            "min_days_between_messages",
            "max_calls_per_30_days",
            "max_calls_per_365_days",
            "merge_window_days",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"Rules.{name} must not be negative")
        if not self.working_weekdays <= frozenset(range(7)):
            raise ValueError("Rules.working_weekdays holds date.weekday() numbers, 0-6")


@dataclass(frozen=True, slots=True)
class Item:
    """A touchpoint to place."""

    touchpoint_id: int
    customer_id: int
    vehicle_id: int | None
    code: str
    department: str
    channel: str  # "call" | "sms" | "email"
    due_on: date
    window_start: date
    window_end: date
    priority: int = 0
    # The customer asked for it (a callback, a hot hand-off): not budgeted against the gap and caps.
    is_requested: bool = False
    reason: str = ""
    # A greeting (a birthday message) may go on a weekend or a public holiday; other contacts may not.
    is_greeting: bool = False
    # One of the program's essentials: when the budget forces a choice, placed before the others.
    is_essential: bool = False


@dataclass(frozen=True, slots=True)
class PastCall:
    """A call placed or already issued for a future day (one per call task)."""

    on: date
    is_reached: bool = False
    is_requested: bool = False


@dataclass(frozen=True, slots=True)
class History:
    """What the household already had, or already has scheduled."""

    calls: tuple[PastCall, ...] = ()
    message_dates: tuple[date, ...] = ()


# ---------------------------------------------------------------------------------------------------
# Outputs


@dataclass(frozen=True, slots=True)
class CallPlan:
    """One call task: the agenda of merged touchpoints of one customer."""

    key: str  # "c:<lowest touchpoint id on the agenda>", stable across re-runs
    customer_id: int
    scheduled_on: date
    # The range the call may move in without leaving any agenda item's window.
    window_start: date
    window_end: date
    agenda: tuple[Item, ...]  # by department priority, priority, window end, touchpoint id
    is_requested: bool


@dataclass(frozen=True, slots=True)
class MessagePlan:
    touchpoint_id: int
    customer_id: int
    channel: str
    send_on: date
    window_start: date
    window_end: date
    is_requested: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """What happened to one touchpoint. ``placed_on`` is set for placed, merged and deferred."""

    touchpoint_id: int
    outcome: Outcome
    reason: str
    placed_on: date | None
    detail: str


@dataclass(frozen=True, slots=True)
class Resolution:
    calls: tuple[CallPlan, ...]  # by (scheduled_on, key)
    messages: tuple[MessagePlan, ...]  # by (send_on, touchpoint_id)
    decisions: tuple[Decision, ...]  # one per input item, by touchpoint_id


# Building the outputs fast. A frozen dataclass's __init__ pays one object.__setattr__ call per field
# (0.6 µs for a Decision, the largest single cost of resolving a touchpoint); writing the slots through
# their descriptors builds the very same object in about half the time. Only the resolver uses these
# builders; test_fast_builders_make_objects_equal_to_the_dataclass_constructors keeps them in step.
_new_object = object.__new__


def _slot_setter(cls: type, name: str) -> Callable[[object, object], None]:
    setter: Callable[[object, object], None] = cls.__dict__[name].__set__
    return setter


_set_decision_touchpoint_id = _slot_setter(Decision, "touchpoint_id")
_set_decision_outcome = _slot_setter(Decision, "outcome")
_set_decision_reason = _slot_setter(Decision, "reason")
_set_decision_placed_on = _slot_setter(Decision, "placed_on")
_set_decision_detail = _slot_setter(Decision, "detail")
_set_call_key = _slot_setter(CallPlan, "key")
_set_call_customer_id = _slot_setter(CallPlan, "customer_id")
_set_call_scheduled_on = _slot_setter(CallPlan, "scheduled_on")
_set_call_window_start = _slot_setter(CallPlan, "window_start")
_set_call_window_end = _slot_setter(CallPlan, "window_end")
_set_call_agenda = _slot_setter(CallPlan, "agenda")
_set_call_is_requested = _slot_setter(CallPlan, "is_requested")
_set_message_touchpoint_id = _slot_setter(MessagePlan, "touchpoint_id")
_set_message_customer_id = _slot_setter(MessagePlan, "customer_id")
_set_message_channel = _slot_setter(MessagePlan, "channel")
_set_message_send_on = _slot_setter(MessagePlan, "send_on")
_set_message_window_start = _slot_setter(MessagePlan, "window_start")
_set_message_window_end = _slot_setter(MessagePlan, "window_end")
_set_message_is_requested = _slot_setter(MessagePlan, "is_requested")


def _decision(
    touchpoint_id: int, outcome: Outcome, reason: str, placed_on: date | None, detail: str
) -> Decision:
    decision: Decision = _new_object(Decision)
    _set_decision_touchpoint_id(decision, touchpoint_id)
    _set_decision_outcome(decision, outcome)
    _set_decision_reason(decision, reason)
    _set_decision_placed_on(decision, placed_on)
    _set_decision_detail(decision, detail)
    return decision


def _call(
    key: str,
    customer_id: int,
    scheduled_on: date,
    window_start: date,
    window_end: date,
    agenda: tuple[Item, ...],
    is_requested: bool,
) -> CallPlan:
    call: CallPlan = _new_object(CallPlan)
    _set_call_key(call, key)
    _set_call_customer_id(call, customer_id)
    _set_call_scheduled_on(call, scheduled_on)
    _set_call_window_start(call, window_start)
    _set_call_window_end(call, window_end)
    _set_call_agenda(call, agenda)
    _set_call_is_requested(call, is_requested)
    return call


def _message(item: Item, send_on: date) -> MessagePlan:
    message: MessagePlan = _new_object(MessagePlan)
    _set_message_touchpoint_id(message, item.touchpoint_id)
    _set_message_customer_id(message, item.customer_id)
    _set_message_channel(message, item.channel)
    _set_message_send_on(message, send_on)
    _set_message_window_start(message, item.window_start)
    _set_message_window_end(message, item.window_end)
    _set_message_is_requested(message, item.is_requested)
    return message


# ---------------------------------------------------------------------------------------------------
# The resolver


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


# A touchpoint still to place, in ordinals: (wish, department rank, window end, touchpoint id,
# open window start, item). Plain tuples sort in the processing order without a key function, and the
# touchpoint id is unique, so the item itself is never compared.
_Entry = tuple[int, int, int, int, int, Item]
_NO_DAYS: Final[frozenset[int]] = frozenset()
# Later than any date (date.max is ordinal 3,652,059): how long a cap of 0 blocks.
_FOREVER: Final = 10_000_000
# _CallDraft.key_delay_code of a key touchpoint placed on or before its wish day.
_NOT_LATE: Final = -1


class _CallDraft:
    __slots__ = ("customer_id", "day", "entries", "key_id", "key_delay_code")

    def __init__(
        self, customer_id: int, day: int, entries: list[_Entry], key_id: int, key_delay_code: int
    ) -> None:
        self.customer_id = customer_id
        self.day = day
        self.entries = entries
        # The call's key touchpoint (the lowest id) and the code of the rule that placed it after its
        # wish day (_NOT_LATE when it is not late). Only the key reports why it is late; the others
        # are merged into it.
        self.key_id = key_id
        self.key_delay_code = key_delay_code


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
        allowed (a greeting)."""
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


def _window_closed(item: Item, tally: list[int]) -> Decision:
    counts = ", ".join(f"{_RULE_NAMES[code]} {count}d" for code, count in enumerate(tally) if count)
    return _decision(
        item.touchpoint_id,
        "suppressed",
        f"window_closed:{_RULE_NAMES[_binding_code(tally)]}",
        None,
        f"no allowed day in the window; blocked days: {counts}",
    )


def _place_calls(
    entries: list[_Entry],
    household: _Household,
    *,
    is_counted: bool,
    merge_window_days: int,
    drafts_by_customer: dict[int, list[_CallDraft]],
    drafts: list[_CallDraft],
    decisions: list[Decision],
) -> None:
    entries.sort()
    count = len(entries)
    is_done = [False] * count
    for index in range(count):
        if is_done[index]:
            continue
        is_done[index] = True
        lead = entries[index]
        wish, _rank, end, touchpoint_id, start, item = lead
        customer_id = item.customer_id
        customer_drafts = drafts_by_customer.get(customer_id)
        if customer_drafts is None:
            customer_drafts = drafts_by_customer[customer_id] = []

        # Join a call of this customer already placed inside the window: it costs no extra call.
        joined: _CallDraft | None = None
        for draft in customer_drafts:
            day = draft.day
            if (
                start <= day <= end
                and -merge_window_days <= day - wish <= merge_window_days
                and (joined is None or day < joined.day)
            ):
                joined = draft
        if joined is not None:
            joined.entries.append(lead)
            if touchpoint_id < joined.key_id:
                joined.key_id = touchpoint_id
                joined.key_delay_code = _FREE if joined.day > wish else _NOT_LATE
            continue

        low, high = start, end
        day = household.first_call_day(low, high, is_counted)
        if day < 0:
            decisions.append(_window_closed(item, household.tally(low, high, True, is_counted)))
            continue

        members = [lead]
        wish_limit = wish + merge_window_days
        for follower_index in range(index + 1, count):
            follower = entries[follower_index]
            if follower[0] > wish_limit:
                break
            if is_done[follower_index] or follower[5].customer_id != customer_id:
                continue
            new_low = low if low > follower[4] else follower[4]
            new_high = high if high < follower[2] else follower[2]
            # [low, day - 1] holds no allowed day, so a window ending before ``day`` cannot fit.
            if new_low > new_high or day > new_high:
                continue
            if day < new_low:
                new_day = household.first_call_day(new_low, new_high, is_counted)
                if new_day < 0:
                    continue
                day = new_day
            low, high = new_low, new_high
            is_done[follower_index] = True
            members.append(follower)

        key_member = min(members, key=_touchpoint_id_of) if len(members) > 1 else lead
        key_delay_code = _NOT_LATE
        if day > key_member[0]:
            key_delay_code = household.delay_code(key_member[0], day - 1, True, is_counted)
        household.add_call(day, is_counted)
        draft = _CallDraft(customer_id, day, members, key_member[3], key_delay_code)
        customer_drafts.append(draft)
        drafts.append(draft)


def _place_messages(
    entries: list[_Entry], household: _Household, decisions: list[Decision]
) -> list[MessagePlan]:
    entries.sort()
    plans: list[MessagePlan] = []
    for wish, _rank, end, touchpoint_id, start, item in entries:
        is_counted = not item.is_requested
        day = household.first_message_day(start, end, is_counted, item.is_greeting)
        if day < 0:
            decisions.append(_window_closed(item, household.tally(start, end, False, is_counted)))
            continue
        send_on = date.fromordinal(day)
        if day > wish:
            code = household.delay_code(wish, day - 1, False, is_counted)
            decisions.append(
                _decision(
                    touchpoint_id,
                    "deferred",
                    _DEFERRED_REASONS[code],
                    send_on,
                    f"{item.channel}, {_late(day, wish)}",
                )
            )
        else:
            decisions.append(_decision(touchpoint_id, "placed", "placed", send_on, item.channel))
        household.add_message(day, is_counted)
        plans.append(_message(item, send_on))
    return plans


def _late(day: int, wish: int) -> str:
    return f"{day - wish} day(s) after {date.fromordinal(wish).isoformat()}"


def _call_plan(draft: _CallDraft, decisions: list[Decision]) -> tuple[int, int, CallPlan]:
    """The plan of one call, its decisions appended, and its sort key (day, key id) in front."""
    day = draft.day
    scheduled_on = date.fromordinal(day)
    code = draft.key_delay_code
    key_id = draft.key_id
    key = f"c:{key_id}"
    entries = draft.entries
    if len(entries) == 1:
        wish, _rank, _end, _touchpoint_id, _start, item = entries[0]
        if code == _NOT_LATE:
            decisions.append(_decision(key_id, "placed", "placed", scheduled_on, f"call {key}"))
        else:
            reason = _DEFERRED_REASONS[code]
            decisions.append(
                _decision(key_id, "deferred", reason, scheduled_on, f"call {key}, {_late(day, wish)}")
            )
        plan = _call(
            key,
            draft.customer_id,
            scheduled_on,
            item.window_start,
            item.window_end,
            (item,),
            item.is_requested,
        )
        return day, key_id, plan

    # Agenda order: department priority, priority, window end, touchpoint id (unique, so the item
    # itself is never compared).
    ordered = sorted(
        [(entry[1], entry[5].priority, entry[2], entry[3], entry[0], entry[5]) for entry in entries]
    )
    agenda = tuple([row[5] for row in ordered])
    merged_reason = f"merged_into:{key}"
    merged_detail = f"on call {key} with {len(entries) - 1} other(s)"
    window_start = agenda[0].window_start
    window_end = agenda[0].window_end
    is_requested = False
    for _rank, _priority, _end, touchpoint_id, wish, _item in ordered:
        if touchpoint_id != key_id:
            decisions.append(_decision(touchpoint_id, "merged", merged_reason, scheduled_on, merged_detail))
            continue
        if code == _NOT_LATE:
            decisions.append(_decision(touchpoint_id, "placed", "placed", scheduled_on, f"call {key}"))
        else:
            reason = _DEFERRED_REASONS[code]
            decisions.append(
                _decision(touchpoint_id, "deferred", reason, scheduled_on, f"call {key}, {_late(day, wish)}")
            )
    for item in agenda:
        if item.window_start > window_start:
            window_start = item.window_start
        if item.window_end < window_end:
            window_end = item.window_end
        is_requested = is_requested or item.is_requested
    plan = _call(key, draft.customer_id, scheduled_on, window_start, window_end, agenda, is_requested)
    return day, key_id, plan


def resolve(
    items: Iterable[Item],
    *,
    history: History,
    blocked_channels: frozenset[str],
    is_phone_reachable: bool,
    rules: Rules,
    today: date,
    horizon_end: date | None = None,
    blocked_channels_by_customer: Mapping[int, frozenset[str]] | None = None,
) -> Resolution:
    """Place one household's touchpoints under the contact-pressure rules.

    ``blocked_channels`` applies to every customer of the household (a do-not-call on the shared
    phone); ``blocked_channels_by_customer`` adds one customer's own blocks (a do-not-email).
    Raises ValueError on a duplicate touchpoint id, an unknown channel or a window that ends before
    it starts.
    """
    today_day = today.toordinal()
    horizon_day = horizon_end.toordinal() if horizon_end is not None else None
    department_priority = rules.department_priority
    decisions: list[Decision] = []
    requested_calls: list[_Entry] = []
    calls: list[_Entry] = []
    essential_calls: list[_Entry] = []
    messages: list[_Entry] = []
    essential_messages: list[_Entry] = []
    seen_ids: set[int] = set()
    # One greeting per person (PROGRAM.md version 2): a birthday is the customer's, not a car's, so of
    # the greetings of one customer on one day only the lowest touchpoint id is placed.
    first_greeting: dict[tuple[int, date], int] = {}
    for item in items:
        if item.is_greeting:
            key = (item.customer_id, item.due_on)
            if item.touchpoint_id < first_greeting.get(key, item.touchpoint_id + 1):
                first_greeting[key] = item.touchpoint_id

    for item in items:
        touchpoint_id = item.touchpoint_id
        if touchpoint_id in seen_ids:
            raise ValueError(f"touchpoint {touchpoint_id} is given twice")
        seen_ids.add(touchpoint_id)
        channel = item.channel
        if channel not in CHANNELS:
            raise ValueError(f"touchpoint {touchpoint_id}: unknown channel {channel!r}")
        start = item.window_start.toordinal()
        end = item.window_end.toordinal()
        if end < start:
            raise ValueError(f"touchpoint {touchpoint_id}: window ends before it starts")
        if item.is_greeting and first_greeting[(item.customer_id, item.due_on)] != touchpoint_id:
            greeted = first_greeting[(item.customer_id, item.due_on)]
            decisions.append(
                _decision(touchpoint_id, "suppressed", "one_greeting_per_person", None, f"greeted by {greeted}")
            )
            continue

        if channel in blocked_channels or (
            blocked_channels_by_customer
            and channel in blocked_channels_by_customer.get(item.customer_id, _NO_CHANNELS)
        ):
            decisions.append(
                _decision(
                    touchpoint_id, "suppressed", f"do_not_contact:{channel}", None, f"{channel} is blocked"
                )
            )
            continue
        if channel == CALL and not is_phone_reachable:
            decisions.append(
                _decision(touchpoint_id, "suppressed", "unreachable", None, "the phone is marked unreachable")
            )
            continue
        if end < today_day:
            decisions.append(
                _decision(
                    touchpoint_id,
                    "suppressed",
                    "window_passed",
                    None,
                    f"the window ended on {item.window_end.isoformat()}",
                )
            )
            continue
        if start < today_day:
            start = today_day
        if horizon_day is not None and start > horizon_day:
            decisions.append(
                _decision(
                    touchpoint_id, "pending", "beyond_horizon", None, "the window opens after the horizon"
                )
            )
            continue
        wish = item.due_on.toordinal()
        if wish < start:
            wish = start
        elif wish > end:
            wish = end
        entry = (
            wish,
            department_priority.get(item.department, UNKNOWN_DEPARTMENT_PRIORITY),
            end,
            touchpoint_id,
            start,
            item,
        )
        if channel != CALL:
            (essential_messages if item.is_essential else messages).append(entry)
        elif item.is_requested:
            requested_calls.append(entry)
        else:
            (essential_calls if item.is_essential else calls).append(entry)

    household = _Household(rules, history)
    drafts: list[_CallDraft] = []
    drafts_by_customer: dict[int, list[_CallDraft]] = {}
    # Requested calls first, then the program's essentials, then the rest: when the gaps and caps leave
    # room for only some, the essentials win (PROGRAM.md version 2).
    for entries, is_counted in ((requested_calls, False), (essential_calls, True), (calls, True)):
        if entries:
            _place_calls(
                entries,
                household,
                is_counted=is_counted,
                merge_window_days=rules.merge_window_days,
                drafts_by_customer=drafts_by_customer,
                drafts=drafts,
                decisions=decisions,
            )
    message_plans = _place_messages(essential_messages, household, decisions) if essential_messages else []
    if messages:
        message_plans += _place_messages(messages, household, decisions)

    ordered_calls = [_call_plan(draft, decisions) for draft in drafts]
    ordered_calls.sort(key=_call_order)
    message_plans.sort(key=_message_order)
    decisions.sort(key=_decision_order)
    return Resolution(
        tuple([plan for _day, _key_id, plan in ordered_calls]), tuple(message_plans), tuple(decisions)
    )


_NO_CHANNELS: Final[frozenset[str]] = frozenset()
_DEFERRED_REASONS: Final[tuple[str, ...]] = tuple(f"deferred:{name}" for name in _RULE_NAMES)
_call_order: Final = itemgetter(0, 1)
_touchpoint_id_of: Final = itemgetter(3)
_message_order: Final = attrgetter("send_on", "touchpoint_id")
_decision_order: Final = attrgetter("touchpoint_id")
