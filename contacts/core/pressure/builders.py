"""The resolver's outputs built fast (``Decision``, ``CallPlan``, ``MessagePlan``), and the wording of
the decisions shared by calls and messages (a closed window, a late placement)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from contacts.core.pressure.rules import _RULE_NAMES, _binding_code
from contacts.core.pressure.types import CallPlan, Decision, Item, MessagePlan, Outcome

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


def _window_closed(item: Item, tally: list[int]) -> Decision:
    counts = ", ".join(f"{_RULE_NAMES[code]} {count}d" for code, count in enumerate(tally) if count)
    return _decision(
        item.touchpoint_id,
        "suppressed",
        f"window_closed:{_RULE_NAMES[_binding_code(tally)]}",
        None,
        f"no allowed day in the window; blocked days: {counts}",
    )


def _late(day: int, wish: int) -> str:
    return f"{day - wish} day(s) after {date.fromordinal(wish).isoformat()}"
