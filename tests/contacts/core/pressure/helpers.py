"""Builders and readers shared by the resolver's tests (tests/contacts/core/pressure/)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from contacts.core.pressure import (
    History,
    Item,
    PastCall,
    Resolution,
    Rules,
    resolve,
)
from contacts.core.pressure_audit import AUDIT_RULES

TODAY = date(2026, 11, 22)  # a Sunday


RULES = Rules()


NO_VIOLATIONS = dict.fromkeys(AUDIT_RULES, 0)


def day(text: str) -> date:
    return date.fromisoformat(text)


def call(
    touchpoint_id: int,
    due_on: str,
    *,
    code: str = "service_invite",
    department: str = "service",
    window_days: int = 14,
    window_start: str | None = None,
    window_end: str | None = None,
    customer_id: int = 1,
    priority: int = 50,
    is_requested: bool = False,
    is_essential: bool = False,
) -> Item:
    due = day(due_on)
    start = day(window_start) if window_start else due
    end = day(window_end) if window_end else due + timedelta(days=window_days)
    return Item(
        is_essential=is_essential,
        touchpoint_id=touchpoint_id,
        customer_id=customer_id,
        vehicle_id=10,
        code=code,
        department=department,
        channel="call",
        due_on=due,
        window_start=start,
        window_end=end,
        priority=priority,
        is_requested=is_requested,
    )


def message(
    touchpoint_id: int,
    due_on: str,
    *,
    channel: str = "sms",
    code: str = "tyre_season",
    window_days: int = 3,
    customer_id: int = 1,
    is_requested: bool = False,
    is_greeting: bool = False,
    may_go_on_days_off: bool | None = None,
) -> Item:
    due = day(due_on)
    return Item(
        is_greeting=is_greeting,
        # a birthday greeting's template has the setting on (migration 0017); other tests may set it
        may_go_on_days_off=is_greeting if may_go_on_days_off is None else may_go_on_days_off,
        touchpoint_id=touchpoint_id,
        customer_id=customer_id,
        vehicle_id=10,
        code=code,
        department="service",
        channel=channel,
        due_on=due,
        window_start=due,
        window_end=due + timedelta(days=window_days),
        is_requested=is_requested,
    )


def past_calls(*days: str, is_requested: bool = False) -> tuple[PastCall, ...]:
    return tuple(PastCall(day(text), is_requested=is_requested) for text in days)


def run(
    items: Sequence[Item],
    *,
    history: History | None = None,
    blocked: frozenset[str] = frozenset(),
    is_phone_reachable: bool = True,
    rules: Rules = RULES,
    today: date = TODAY,
    horizon_end: date | None = None,
    blocked_by_customer: dict[int, frozenset[str]] | None = None,
) -> Resolution:
    return resolve(
        items,
        history=history or History(),
        blocked_channels=blocked,
        is_phone_reachable=is_phone_reachable,
        rules=rules,
        today=today,
        horizon_end=horizon_end,
        blocked_channels_by_customer=blocked_by_customer,
    )


def outcome(resolution: Resolution, touchpoint_id: int) -> tuple[str, str, date | None]:
    (decision,) = [decision for decision in resolution.decisions if decision.touchpoint_id == touchpoint_id]
    return decision.outcome, decision.reason, decision.placed_on


def call_days(resolution: Resolution) -> list[tuple[str, date, tuple[int, ...]]]:
    return [
        (plan.key, plan.scheduled_on, tuple(item.touchpoint_id for item in plan.agenda))
        for plan in resolution.calls
    ]


def message_days(resolution: Resolution) -> list[tuple[int, date]]:
    return [(plan.touchpoint_id, plan.send_on) for plan in resolution.messages]
