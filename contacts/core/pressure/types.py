"""The resolver's inputs (``Rules``, ``Item``, ``History``) and outputs (``Resolution``: call plans,
message plans, one ``Decision`` per touchpoint), with the channel codes. Pure: standard library only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
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


# ---------------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True, slots=True)
class Rules:
    """Contact-pressure rules of one dealership (docs/program.md defaults). Build once per dealership and
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
    # A greeting (a birthday): one per person and day, whichever car it came from.
    is_greeting: bool = False
    # The template's setting: this message may go on a weekend or a public holiday (on for the birthday
    # greeting by default); off, it waits for a working day. Calls never go on those days.
    may_go_on_days_off: bool = False
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
