"""``resolve`` (contacts/core/pressure/resolver.py): suppressions (do-not-contact, unreachable, passed and
closed windows, the horizon, one greeting per person), the essentials first, determinism and input checks.

Pure: no database. Runs under the project's pytest setup, or on its own with
``-p no:django --noconftest`` (tests/conftest.py imports Django models). Today is Sunday 2026-11-22
unless a test says otherwise.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from contacts.core.pressure import (
    Decision,
    History,
    Item,
    PastCall,
    Rules,
)
from tests.contacts.core.pressure.helpers import (
    call,
    call_days,
    day,
    message,
    message_days,
    outcome,
    past_calls,
    run,
)


@pytest.mark.parametrize(
    ("item", "channel"),
    [
        pytest.param(call(1, "2026-11-24"), "call", id="call"),
        pytest.param(message(1, "2026-11-24"), "sms", id="sms"),
        pytest.param(message(1, "2026-11-24", channel="email"), "email", id="email"),
    ],
)
def test_never_contacts_on_a_blocked_channel(item: Item, channel: str) -> None:
    # given
    blocked = frozenset({channel})

    # when
    resolution = run([item], blocked=blocked)

    # then
    assert outcome(resolution, 1) == ("suppressed", f"do_not_contact:{channel}", None)
    assert (resolution.calls, resolution.messages) == ((), ())


def test_a_customers_own_block_leaves_the_rest_of_the_household_alone() -> None:
    # given
    items = [
        message(1, "2026-11-24", channel="email", customer_id=100),
        message(2, "2026-11-27", channel="email", customer_id=200),
    ]

    # when
    resolution = run(items, blocked_by_customer={100: frozenset({"email"})})

    # then
    assert outcome(resolution, 1) == ("suppressed", "do_not_contact:email", None)
    assert message_days(resolution) == [(2, day("2026-11-27"))]


def test_do_not_contact_wins_over_every_other_reason() -> None:
    # given: a window that passed long ago, on a blocked channel, of an unreachable phone
    items = [call(1, "2026-10-01")]

    # when
    resolution = run(items, blocked=frozenset({"call"}), is_phone_reachable=False)

    # then
    assert outcome(resolution, 1) == ("suppressed", "do_not_contact:call", None)


def test_suppresses_a_touchpoint_whose_window_ended_before_today() -> None:
    # given
    items = [call(1, "2026-11-01", window_days=14)]

    # when
    resolution = run(items)

    # then
    assert resolution.decisions == (
        Decision(1, "suppressed", "window_passed", None, "the window ended on 2026-11-15"),
    )


def test_suppresses_a_birthday_greeting_that_falls_on_a_saturday() -> None:
    # given
    items = [message(1, "2026-11-28", code="birthday", window_days=0)]

    # when
    resolution = run(items)

    # then
    assert outcome(resolution, 1) == ("suppressed", "window_closed:weekend", None)
    assert resolution.decisions[0].detail == "no allowed day in the window; blocked days: weekend 1d"


def test_suppresses_a_message_whose_window_lies_inside_holidays() -> None:
    # given
    rules = Rules(holidays=frozenset({day("2026-12-08"), day("2026-12-09")}))
    items = [message(1, "2026-12-08", window_days=1)]

    # when
    resolution = run(items, rules=rules)

    # then
    assert outcome(resolution, 1) == ("suppressed", "window_closed:holiday", None)


def test_suppresses_a_call_when_the_gap_covers_its_whole_window() -> None:
    # given
    history = History(calls=past_calls("2026-11-23"))
    items = [call(1, "2026-11-24", window_days=3)]

    # when
    resolution = run(items, history=history)

    # then
    assert outcome(resolution, 1) == ("suppressed", "window_closed:min_gap", None)
    assert resolution.calls == ()


def test_suppresses_a_call_when_the_30_day_cap_covers_its_whole_window() -> None:
    # given
    history = History(calls=past_calls("2026-11-10", "2026-11-17"))
    items = [call(1, "2026-11-24", window_days=7)]

    # when
    resolution = run(items, history=history)

    # then
    assert outcome(resolution, 1) == ("suppressed", "window_closed:cap_30", None)


def test_counts_the_days_a_cap_blocks_up_to_the_edge_of_its_30_day_window() -> None:
    # given: two calls exactly 29 days apart fill the 30-day window from 1 to 30 November
    rules = Rules(min_days_between_calls=0)
    history = History(calls=past_calls("2026-11-01", "2026-11-30"))
    items = [call(1, "2026-11-23", window_end="2026-11-30")]

    # when
    resolution = run(items, history=history, rules=rules)

    # then
    assert resolution.decisions == (
        Decision(
            1,
            "suppressed",
            "window_closed:cap_30",
            None,
            "no allowed day in the window; blocked days: weekend 2d, cap_30 6d",
        ),
    )


def test_suppresses_a_call_when_the_365_day_cap_covers_its_whole_window() -> None:
    # given
    history = History(
        calls=tuple(PastCall(day("2025-12-10") + timedelta(days=30 * number)) for number in range(12))
    )
    items = [call(1, "2026-11-24")]

    # when
    resolution = run(items, history=history)

    # then
    assert outcome(resolution, 1) == ("suppressed", "window_closed:cap_365", None)


def test_suppresses_a_message_when_the_message_gap_covers_its_window() -> None:
    # given
    history = History(message_dates=(day("2026-11-23"),))
    items = [message(1, "2026-11-24", window_days=1)]

    # when
    resolution = run(items, history=history)

    # then
    assert outcome(resolution, 1) == ("suppressed", "window_closed:message_gap", None)


def test_suppresses_a_one_day_message_on_the_day_of_a_call() -> None:
    # given
    items = [call(1, "2026-11-24"), message(2, "2026-11-24", window_days=0)]

    # when
    resolution = run(items)

    # then
    assert outcome(resolution, 2) == ("suppressed", "window_closed:message_same_day_as_call", None)


def test_leaves_a_touchpoint_whose_window_opens_after_the_horizon_pending() -> None:
    # given
    items = [call(1, "2026-11-24"), call(2, "2027-03-01")]

    # when
    resolution = run(items, horizon_end=day("2027-02-20"))

    # then
    assert outcome(resolution, 2) == ("pending", "beyond_horizon", None)
    assert call_days(resolution) == [("c:1", day("2026-11-24"), (1,))]


def test_gives_the_same_resolution_for_any_order_of_the_input() -> None:
    # given
    items = [
        call(1, "2026-11-24"),
        call(2, "2026-11-24", code="trade_in_valuation", department="trade_in"),
        call(3, "2026-11-25", customer_id=2),
        message(4, "2026-11-24"),
        message(5, "2026-11-25", channel="email"),
    ]

    # when
    forward = run(items)
    backward = run(list(reversed(items)))

    # then
    assert forward == backward


@pytest.mark.parametrize(
    ("items", "error"),
    [
        pytest.param([call(1, "2026-11-24"), message(1, "2026-11-25")], "given twice", id="duplicate-id"),
        pytest.param(
            [dataclasses.replace(call(1, "2026-11-24"), channel="fax")], "unknown channel", id="channel"
        ),
        pytest.param(
            [call(1, "2026-11-24", window_end="2026-11-23")], "window ends before it starts", id="window"
        ),
    ],
)
def test_rejects_malformed_input(items: list[Item], error: str) -> None:
    # when / then
    with pytest.raises(ValueError, match=error):
        run(items)


def test_a_customer_with_two_cars_gets_one_birthday_greeting() -> None:
    # given: the plan gives each car its own birthday touchpoint on the same day, in any order
    items = [
        message(12, "2026-11-24", code="birthday", window_days=0, is_greeting=True),
        message(11, "2026-11-24", code="birthday", window_days=0, is_greeting=True),
    ]
    # when
    resolution = run(items)
    # then: one greeting (the lower touchpoint id), the other suppressed with its reason
    assert message_days(resolution) == [(11, day("2026-11-24"))]
    assert outcome(resolution, 12) == ("suppressed", "one_greeting_per_person", None)


@pytest.mark.parametrize("essential", [True, False])
def test_when_the_budget_allows_one_call_the_programs_essential_wins(essential: bool) -> None:
    # given: one call left in the household's 30 days; an offer to one member wished first, a service
    # invitation to another wished two days later (two customers: their calls cannot merge)
    rules = Rules(max_calls_per_30_days=1)
    items = [
        call(1, "2026-11-24", code="needs_check", department="sales", customer_id=1),
        call(2, "2026-11-26", window_days=5, customer_id=2, is_essential=essential),
    ]
    # when
    resolution = run(items, rules=rules)
    # then: the essential takes the call; without the flag, the earlier wish does
    placed = {item.touchpoint_id for plan in resolution.calls for item in plan.agenda}
    assert placed == ({2} if essential else {1})
    dropped = 1 if essential else 2
    assert outcome(resolution, dropped)[0] == "suppressed"
