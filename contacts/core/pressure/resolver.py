"""``resolve``: one household's touchpoints screened (do-not-contact, reachability, windows, horizon,
one greeting per person), then its calls placed and merged, then its messages, and the results in order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from operator import attrgetter, itemgetter
from typing import Final

from contacts.core.pressure.builders import _decision, _late, _message, _window_closed
from contacts.core.pressure.household import _Household
from contacts.core.pressure.merging import _call_plan, _CallDraft, _Entry, _place_calls
from contacts.core.pressure.rules import _DEFERRED_REASONS
from contacts.core.pressure.types import (
    CALL,
    CHANNELS,
    UNKNOWN_DEPARTMENT_PRIORITY,
    Decision,
    History,
    Item,
    MessagePlan,
    Resolution,
    Rules,
)


def _place_messages(
    entries: list[_Entry], household: _Household, decisions: list[Decision]
) -> list[MessagePlan]:
    entries.sort()
    plans: list[MessagePlan] = []
    for wish, _rank, end, touchpoint_id, start, item in entries:
        is_counted = not item.is_requested
        day = household.first_message_day(start, end, is_counted, item.may_go_on_days_off)
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
    decisions: list[Decision] = []
    requested_calls, essential_calls, calls, essential_messages, messages = _screen(
        items,
        blocked_channels=blocked_channels,
        blocked_channels_by_customer=blocked_channels_by_customer,
        is_phone_reachable=is_phone_reachable,
        department_priority=rules.department_priority,
        today_day=today.toordinal(),
        horizon_day=horizon_end.toordinal() if horizon_end is not None else None,
        decisions=decisions,
    )
    household = _Household(rules, history)
    drafts: list[_CallDraft] = []
    drafts_by_customer: dict[int, list[_CallDraft]] = {}
    # Requested calls first, then the program's essentials, then the rest: when the gaps and caps leave
    # room for only some, the essentials win (docs/program.md version 2).
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


def _screen(
    items: Iterable[Item],
    *,
    blocked_channels: frozenset[str],
    blocked_channels_by_customer: Mapping[int, frozenset[str]] | None,
    is_phone_reachable: bool,
    department_priority: Mapping[str, int],
    today_day: int,
    horizon_day: int | None,
    decisions: list[Decision],
) -> tuple[list[_Entry], list[_Entry], list[_Entry], list[_Entry], list[_Entry]]:
    """Step 1 of the package docstring: each touchpoint checked, suppressed or left pending (its
    decision appended), or else made an entry with its open window and wish day. The entries by kind:
    requested calls, essential calls, other calls, essential messages, other messages."""
    requested_calls: list[_Entry] = []
    calls: list[_Entry] = []
    essential_calls: list[_Entry] = []
    messages: list[_Entry] = []
    essential_messages: list[_Entry] = []
    seen_ids: set[int] = set()
    first_greeting = _first_greetings(items)
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
        suppression = _suppression(
            item,
            end,
            first_greeting,
            blocked_channels,
            blocked_channels_by_customer,
            is_phone_reachable,
            today_day,
        )
        if suppression is not None:
            decisions.append(suppression)
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
    return requested_calls, essential_calls, calls, essential_messages, messages


def _first_greetings(items: Iterable[Item]) -> dict[tuple[int, date], int]:
    """One greeting per person (docs/program.md version 2): a birthday is the customer's, not a car's, so of
    the greetings of one customer on one day only the lowest touchpoint id is placed."""
    first_greeting: dict[tuple[int, date], int] = {}
    for item in items:
        if item.is_greeting:
            key = (item.customer_id, item.due_on)
            if item.touchpoint_id < first_greeting.get(key, item.touchpoint_id + 1):
                first_greeting[key] = item.touchpoint_id
    return first_greeting


def _suppression(
    item: Item,
    end: int,
    first_greeting: dict[tuple[int, date], int],
    blocked_channels: frozenset[str],
    blocked_channels_by_customer: Mapping[int, frozenset[str]] | None,
    is_phone_reachable: bool,
    today_day: int,
) -> Decision | None:
    """Why a touchpoint is suppressed before any pressure (a second greeting, a blocked channel, an
    unreachable phone, a window that ended before today), or None."""
    touchpoint_id = item.touchpoint_id
    channel = item.channel
    if item.is_greeting and first_greeting[(item.customer_id, item.due_on)] != touchpoint_id:
        greeted = first_greeting[(item.customer_id, item.due_on)]
        return _decision(
            touchpoint_id, "suppressed", "one_greeting_per_person", None, f"greeted by {greeted}"
        )
    if channel in blocked_channels or (
        blocked_channels_by_customer
        and channel in blocked_channels_by_customer.get(item.customer_id, _NO_CHANNELS)
    ):
        return _decision(
            touchpoint_id, "suppressed", f"do_not_contact:{channel}", None, f"{channel} is blocked"
        )
    if channel == CALL and not is_phone_reachable:
        return _decision(touchpoint_id, "suppressed", "unreachable", None, "the phone is marked unreachable")
    if end < today_day:
        return _decision(
            touchpoint_id,
            "suppressed",
            "window_passed",
            None,
            f"the window ended on {item.window_end.isoformat()}",
        )
    return None


_NO_CHANNELS: Final[frozenset[str]] = frozenset()
_call_order: Final = itemgetter(0, 1)
_message_order: Final = attrgetter("send_on", "touchpoint_id")
_decision_order: Final = attrgetter("touchpoint_id")
