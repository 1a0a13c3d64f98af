"""Hypothesis properties of ``resolve`` (contacts/core/pressure/): one decision per touchpoint inside its
window, the gap, the caps, messages apart and off call days, do-not-contact, the calendar, determinism.

Pure: no database. Runs under the project's pytest setup, or on its own with
``-p no:django --noconftest`` (tests/conftest.py imports Django models). Today is Sunday 2026-11-22
unless a test says otherwise.
"""

from __future__ import annotations

import random
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from tests.contacts.core.pressure.helpers import (
    TODAY,
)
from tests.contacts.core.pressure.strategies import (
    PROPERTY_SETTINGS,
    REASON,
    Case,
    cases,
    counted_call_days,
)


@PROPERTY_SETTINGS
@given(cases())
def test_gives_every_touchpoint_exactly_one_decision_and_places_it_inside_its_window(case: Case) -> None:
    # when
    resolution = case.resolve()

    # then
    assert sorted(decision.touchpoint_id for decision in resolution.decisions) == sorted(
        item.touchpoint_id for item in case.items
    )
    placed_on = {decision.touchpoint_id: decision.placed_on for decision in resolution.decisions}
    for decision in resolution.decisions:
        assert REASON.fullmatch(decision.reason), decision
        assert (decision.placed_on is None) == (decision.outcome in ("suppressed", "pending"))
    scheduled = [item.touchpoint_id for plan in resolution.calls for item in plan.agenda]
    scheduled += [plan.touchpoint_id for plan in resolution.messages]
    assert sorted(scheduled) == sorted(key for key, on in placed_on.items() if on is not None)
    for plan in resolution.calls:
        assert plan.window_start <= plan.scheduled_on <= plan.window_end
        assert plan.key == f"c:{min(item.touchpoint_id for item in plan.agenda)}"
        for item in plan.agenda:
            assert item.window_start <= plan.scheduled_on <= item.window_end
            assert max(item.window_start, TODAY) <= plan.scheduled_on
            assert item.customer_id == plan.customer_id and item.channel == "call"
            assert placed_on[item.touchpoint_id] == plan.scheduled_on
    for message_plan in resolution.messages:
        assert message_plan.window_start <= message_plan.send_on <= message_plan.window_end
        assert TODAY <= message_plan.send_on
        assert placed_on[message_plan.touchpoint_id] == message_plan.send_on


@PROPERTY_SETTINGS
@given(cases())
def test_never_places_two_counted_calls_closer_than_the_gap_including_history(case: Case) -> None:
    # when
    resolution = case.resolve()

    # then
    gap = case.rules.min_days_between_calls
    planned = {plan.scheduled_on for plan in resolution.calls if not plan.is_requested}
    counted = counted_call_days(case, resolution)
    for first, second in zip(counted, counted[1:], strict=False):
        if first in planned or second in planned:
            assert (second - first).days >= gap, (first, second)


@PROPERTY_SETTINGS
@given(cases())
def test_never_exceeds_a_cap_in_any_rolling_window_holding_a_new_call(case: Case) -> None:
    # when
    resolution = case.resolve()

    # then: brute force over every window that holds a newly placed counted call
    counted = counted_call_days(case, resolution)
    for plan in resolution.calls:
        if plan.is_requested:
            continue
        for length, cap in ((30, case.rules.max_calls_per_30_days), (365, case.rules.max_calls_per_365_days)):
            for shift in range(length):
                first = plan.scheduled_on - timedelta(days=shift)
                last = first + timedelta(days=length - 1)
                assert sum(1 for on in counted if first <= on <= last) <= cap, (plan, length)


@PROPERTY_SETTINGS
@given(cases())
def test_keeps_messages_apart_and_off_call_days(case: Case) -> None:
    # when
    resolution = case.resolve()

    # then
    gap = case.rules.min_days_between_messages
    counted = sorted(
        [(on, False) for on in case.history.message_dates]
        + [(plan.send_on, True) for plan in resolution.messages if not plan.is_requested]
    )
    for (first, is_first_new), (second, is_second_new) in zip(counted, counted[1:], strict=False):
        if is_first_new or is_second_new:
            assert (second - first).days >= gap
    if case.rules.no_message_on_call_day:
        every_call_day = {past.on for past in case.history.calls} | {
            plan.scheduled_on for plan in resolution.calls
        }
        every_message_day = set(case.history.message_dates)
        assert not {plan.send_on for plan in resolution.messages} & every_call_day
        assert not {plan.scheduled_on for plan in resolution.calls} & every_message_day


@PROPERTY_SETTINGS
@given(cases())
def test_never_breaks_do_not_contact_nor_places_on_weekends_or_holidays(case: Case) -> None:
    # when
    resolution = case.resolve()

    # then
    contacts = [(plan.customer_id, "call", plan.scheduled_on) for plan in resolution.calls]
    contacts += [(plan.customer_id, plan.channel, plan.send_on) for plan in resolution.messages]
    for customer_id, channel, on in contacts:
        assert channel not in case.blocked_for(customer_id)
        assert on.weekday() in case.rules.working_weekdays
        assert on not in case.rules.holidays
    if not case.is_phone_reachable:
        assert resolution.calls == ()


@PROPERTY_SETTINGS
@given(cases(), st.randoms(use_true_random=False))
def test_is_deterministic_and_independent_of_the_input_order(case: Case, shuffler: random.Random) -> None:
    # given
    shuffled = list(case.items)
    shuffler.shuffle(shuffled)

    # when
    first = case.resolve()
    again = case.resolve()
    reordered = case.resolve(shuffled)

    # then
    assert first == again == reordered
