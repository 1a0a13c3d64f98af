"""The contact-pressure resolver and its auditor (contacts/pressure.py): examples, then properties.

Pure: no database. Runs under the project's pytest setup, or on its own with
``-p no:django --noconftest`` (tests/conftest.py imports Django models). Today is Sunday 2026-11-22
unless a test says otherwise.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Sequence
from datetime import date, timedelta

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contacts.core.pressure import (
    CallPlan,
    Decision,
    History,
    Item,
    MessagePlan,
    PastCall,
    Resolution,
    Rules,
    resolve,
)
from contacts.core.pressure.builders import _call, _decision, _message
from contacts.core.pressure.household import _Household
from contacts.core.pressure_audit import AUDIT_RULES, AuditCall, AuditMessage, audit, audit_resolution
from tests.strength import examples

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
) -> Item:
    due = day(due_on)
    return Item(
        is_greeting=is_greeting,
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


# ---------------------------------------------------------------------------------------------------
# Placing calls


def test_places_a_call_on_its_due_day() -> None:
    # given
    items = [call(1, "2026-11-24")]

    # when
    resolution = run(items)

    # then
    assert resolution.calls == (
        CallPlan(
            key="c:1",
            customer_id=1,
            scheduled_on=day("2026-11-24"),
            window_start=day("2026-11-24"),
            window_end=day("2026-12-08"),
            agenda=(items[0],),
            is_requested=False,
        ),
    )
    assert resolution.decisions == (Decision(1, "placed", "placed", day("2026-11-24"), "call c:1"),)
    assert resolution.messages == ()


def test_defers_a_call_due_on_a_saturday_to_monday() -> None:
    # given
    items = [call(1, "2026-11-28")]

    # when
    resolution = run(items)

    # then
    assert outcome(resolution, 1) == ("deferred", "deferred:weekend", day("2026-11-30"))


def test_defers_a_call_due_on_a_public_holiday_to_the_next_working_day() -> None:
    # given
    rules = Rules(holidays=frozenset({day("2026-12-08")}))
    items = [call(1, "2026-12-08")]

    # when
    resolution = run(items, rules=rules)

    # then
    assert outcome(resolution, 1) == ("deferred", "deferred:holiday", day("2026-12-09"))


def test_places_a_call_whose_window_opened_before_today_from_today() -> None:
    # given
    monday = day("2026-11-23")
    items = [call(1, "2026-11-10", window_end="2026-11-30")]

    # when
    resolution = run(items, today=monday)

    # then
    assert outcome(resolution, 1) == ("placed", "placed", monday)
    assert resolution.calls[0].window_start == day("2026-11-10")


def test_waits_seven_days_after_the_last_call() -> None:
    # given
    history = History(calls=past_calls("2026-11-20"))
    items = [call(1, "2026-11-24")]

    # when
    resolution = run(items, history=history)

    # then
    assert outcome(resolution, 1) == ("deferred", "deferred:min_gap", day("2026-11-27"))


def test_keeps_seven_days_before_a_call_already_issued_for_a_later_day() -> None:
    # given
    history = History(calls=past_calls("2026-11-30"))
    items = [call(1, "2026-11-24")]

    # when
    resolution = run(items, history=history)

    # then
    assert outcome(resolution, 1) == ("deferred", "deferred:min_gap", day("2026-12-07"))


def test_counts_a_call_whether_or_not_it_was_reached() -> None:
    # given
    history = History(calls=(PastCall(day("2026-11-20"), is_reached=False),))
    items = [call(1, "2026-11-24")]

    # when
    resolution = run(items, history=history)

    # then
    assert outcome(resolution, 1) == ("deferred", "deferred:min_gap", day("2026-11-27"))


def test_allows_at_most_two_calls_in_any_30_days() -> None:
    # given
    history = History(calls=past_calls("2026-11-02", "2026-11-16"))
    items = [call(1, "2026-11-24")]

    # when
    resolution = run(items, history=history)

    # then: 2026-12-02 is the first day whose 30-day window no longer holds 2 November
    assert outcome(resolution, 1) == ("deferred", "deferred:cap_30", day("2026-12-02"))


def test_allows_at_most_twelve_calls_in_any_365_days() -> None:
    # given: a call every 30 days, the first on 2025-12-10 and the twelfth on 2026-11-05
    history = History(
        calls=tuple(PastCall(day("2025-12-10") + timedelta(days=30 * number)) for number in range(12))
    )
    items = [call(1, "2026-11-26")]

    # when
    resolution = run(items, history=history)

    # then: the first day the 365-day window lets 2025-12-10 go
    assert outcome(resolution, 1) == ("deferred", "deferred:cap_365", day("2026-12-10"))


def test_a_requested_callback_ignores_the_gap_but_not_the_weekend() -> None:
    # given
    history = History(calls=past_calls("2026-11-20"))
    items = [
        call(1, "2026-11-23", code="callback", department="sales", window_days=2, is_requested=True),
        call(2, "2026-11-28", code="hot_handoff", department="sales", window_days=2, is_requested=True),
    ]

    # when
    resolution = run(items, history=history)

    # then
    assert outcome(resolution, 1) == ("placed", "placed", day("2026-11-23"))
    assert outcome(resolution, 2) == ("deferred", "deferred:weekend", day("2026-11-30"))
    assert [plan.is_requested for plan in resolution.calls] == [True, True]


def test_a_requested_callback_does_not_count_against_the_gap_of_other_calls() -> None:
    # given
    items = [
        call(1, "2026-11-23", code="callback", department="sales", window_days=0, is_requested=True),
        call(2, "2026-11-25", window_start="2026-11-24"),
    ]

    # when
    resolution = run(items)

    # then: the invite does not fit the callback's day, and the callback does not push it back
    assert call_days(resolution) == [
        ("c:1", day("2026-11-23"), (1,)),
        ("c:2", day("2026-11-24"), (2,)),
    ]


def test_a_touchpoint_joins_a_requested_callback_inside_its_window() -> None:
    # given
    items = [
        call(7, "2026-11-25", code="callback", department="sales", window_days=1, is_requested=True),
        call(3, "2026-11-24", code="insurance_renewal", department="insurance"),
    ]

    # when: sales ranks above insurance at this dealership (the agenda follows department priority)
    resolution = run(items, rules=Rules(department_priority={"sales": 1, "insurance": 2}))

    # then
    assert call_days(resolution) == [("c:3", day("2026-11-25"), (7, 3))]
    assert resolution.calls[0].is_requested is True
    assert outcome(resolution, 3) == ("deferred", "deferred:merge", day("2026-11-25"))
    assert outcome(resolution, 7) == ("merged", "merged_into:c:3", day("2026-11-25"))


def test_a_phone_that_is_unreachable_gets_no_calls_but_still_messages() -> None:
    # given
    items = [call(1, "2026-11-24"), message(2, "2026-11-24")]

    # when
    resolution = run(items, is_phone_reachable=False)

    # then
    assert outcome(resolution, 1) == ("suppressed", "unreachable", None)
    assert resolution.calls == ()
    assert message_days(resolution) == [(2, day("2026-11-24"))]


# ---------------------------------------------------------------------------------------------------
# Merging


def test_merges_anniversary_2_and_trade_in_valuation_due_the_same_day_into_one_call() -> None:
    # given: sale + 24 months, both on Tuesday 2026-12-15
    anniversary = call(36, "2026-12-15", code="anniversary_2", department="call_centre")
    trade_in = call(31, "2026-12-15", code="trade_in_valuation", department="trade_in")

    # when
    resolution = run([anniversary, trade_in])

    # then: one call, trade-in (priority 3) before the call-centre (7) on the agenda
    assert resolution.calls == (
        CallPlan(
            key="c:31",
            customer_id=1,
            scheduled_on=day("2026-12-15"),
            window_start=day("2026-12-15"),
            window_end=day("2026-12-29"),
            agenda=(trade_in, anniversary),
            is_requested=False,
        ),
    )
    assert outcome(resolution, 31) == ("placed", "placed", day("2026-12-15"))
    assert outcome(resolution, 36) == ("merged", "merged_into:c:31", day("2026-12-15"))


def test_merges_calls_within_ten_days_on_the_first_day_inside_both_windows() -> None:
    # given
    invite = call(1, "2026-11-24")
    insurance = call(2, "2026-12-01", code="insurance_renewal", department="insurance")

    # when
    resolution = run([invite, insurance])

    # then: [12-01, 12-08] is the shared window; the invite waits for it
    assert call_days(resolution) == [("c:1", day("2026-12-01"), (1, 2))]
    assert (resolution.calls[0].window_start, resolution.calls[0].window_end) == (
        day("2026-12-01"),
        day("2026-12-08"),
    )
    assert outcome(resolution, 1) == ("deferred", "deferred:merge", day("2026-12-01"))
    assert outcome(resolution, 2) == ("merged", "merged_into:c:1", day("2026-12-01"))


def test_does_not_merge_calls_more_than_ten_days_apart() -> None:
    # given
    items = [call(1, "2026-11-24"), call(2, "2026-12-07", code="insurance_renewal", department="insurance")]

    # when
    resolution = run(items)

    # then
    assert call_days(resolution) == [("c:1", day("2026-11-24"), (1,)), ("c:2", day("2026-12-07"), (2,))]


def test_does_not_merge_calls_whose_windows_do_not_meet() -> None:
    # given: six days apart, but the first window closes before the second opens
    items = [
        call(1, "2026-11-24", window_days=2),
        call(2, "2026-11-30", code="needs_check", department="sales"),
    ]

    # when
    resolution = run(items)

    # then
    assert call_days(resolution) == [("c:1", day("2026-11-24"), (1,)), ("c:2", day("2026-12-01"), (2,))]
    assert outcome(resolution, 2) == ("deferred", "deferred:min_gap", day("2026-12-01"))


def test_does_not_merge_the_calls_of_two_customers_of_one_household_but_spaces_them() -> None:
    # given: two customers sharing a phone
    items = [call(1, "2026-11-24", customer_id=100), call(2, "2026-11-24", customer_id=200)]

    # when
    resolution = run(items)

    # then
    assert call_days(resolution) == [("c:1", day("2026-11-24"), (1,)), ("c:2", day("2026-12-01"), (2,))]
    assert [plan.customer_id for plan in resolution.calls] == [100, 200]


def test_orders_the_agenda_by_department_then_priority_then_deadline_then_id() -> None:
    # given
    items = [
        call(5, "2026-11-24", code="oem_survey", department="manufacturer"),
        call(4, "2026-11-24", code="needs_check", department="sales", priority=2),
        call(3, "2026-11-24", code="next_car", department="sales", priority=1, window_days=10),
        call(2, "2026-11-24", code="test_drive", department="sales", priority=1, window_days=12),
        call(1, "2026-11-24", code="final_offer", department="sales", priority=1, window_days=12),
        call(6, "2026-11-24", code="accessories_call", department="unknown_department"),
    ]

    # when
    resolution = run(items)

    # then
    assert call_days(resolution) == [("c:1", day("2026-11-24"), (3, 1, 2, 4, 5, 6))]
    assert resolution.calls[0].window_end == day("2026-12-04")


def test_merges_a_later_touchpoint_into_a_call_the_gap_pushed_into_its_window() -> None:
    # given: the invite's wish day is inside the gap of a past call
    history = History(calls=past_calls("2026-11-19"))
    invite = call(1, "2026-11-24")
    warranty = call(2, "2026-11-26", code="warranty_extension")

    # when
    resolution = run([invite, warranty], history=history)

    # then
    assert call_days(resolution) == [("c:1", day("2026-11-26"), (1, 2))]
    assert outcome(resolution, 1) == ("deferred", "deferred:min_gap", day("2026-11-26"))
    assert outcome(resolution, 2) == ("merged", "merged_into:c:1", day("2026-11-26"))


def test_joins_a_call_already_placed_more_than_ten_days_after_the_first_touchpoints_date() -> None:
    # given: an issued call on 30 Nov pushes the invite to 7 Dec, inside the insurance window
    history = History(calls=past_calls("2026-11-30"))
    invite = call(1, "2026-11-24")
    insurance = call(2, "2026-12-05", code="insurance_renewal", department="insurance")

    # when
    resolution = run([invite, insurance], history=history)

    # then: one call, not a second one a week later
    assert call_days(resolution) == [("c:1", day("2026-12-07"), (1, 2))]
    assert outcome(resolution, 1) == ("deferred", "deferred:min_gap", day("2026-12-07"))
    assert outcome(resolution, 2) == ("merged", "merged_into:c:1", day("2026-12-07"))


# ---------------------------------------------------------------------------------------------------
# Messages


def test_waits_three_days_after_the_last_message() -> None:
    # given
    history = History(message_dates=(day("2026-11-21"),))
    items = [message(1, "2026-11-23")]

    # when
    resolution = run(items, history=history)

    # then
    assert outcome(resolution, 1) == ("deferred", "deferred:message_gap", day("2026-11-24"))


def test_spaces_two_new_messages_three_days_apart() -> None:
    # given
    items = [message(1, "2026-11-24", code="service_reminder"), message(2, "2026-11-24", channel="email")]

    # when
    resolution = run(items)

    # then
    assert message_days(resolution) == [(1, day("2026-11-24")), (2, day("2026-11-27"))]


def test_a_requested_message_ignores_the_message_gap() -> None:
    # given
    history = History(message_dates=(day("2026-11-23"),))
    items = [message(1, "2026-11-24", code="quote", is_requested=True)]

    # when
    resolution = run(items, history=history)

    # then
    assert outcome(resolution, 1) == ("placed", "placed", day("2026-11-24"))
    assert resolution.messages[0].is_requested is True


def test_moves_a_message_off_the_day_of_a_call() -> None:
    # given
    items = [call(1, "2026-11-24"), message(2, "2026-11-24")]

    # when
    resolution = run(items)

    # then
    assert outcome(resolution, 1) == ("placed", "placed", day("2026-11-24"))
    assert outcome(resolution, 2) == ("deferred", "deferred:message_same_day_as_call", day("2026-11-25"))
    assert resolution.messages == (
        MessagePlan(2, 1, "sms", day("2026-11-25"), day("2026-11-24"), day("2026-11-27"), False),
    )


def test_moves_a_call_off_the_day_of_a_message_already_scheduled() -> None:
    # given
    history = History(message_dates=(day("2026-11-24"),))
    items = [call(1, "2026-11-24")]

    # when
    resolution = run(items, history=history)

    # then
    assert outcome(resolution, 1) == ("deferred", "deferred:message_same_day_as_call", day("2026-11-25"))


def test_a_message_may_share_the_day_of_a_call_when_the_rule_is_off() -> None:
    # given
    rules = Rules(no_message_on_call_day=False)
    items = [call(1, "2026-11-24"), message(2, "2026-11-24")]

    # when
    resolution = run(items, rules=rules)

    # then
    assert outcome(resolution, 2) == ("placed", "placed", day("2026-11-24"))


# ---------------------------------------------------------------------------------------------------
# Suppressions


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


# ---------------------------------------------------------------------------------------------------
# Year end (Russia: 31 December 2026 is a day off, 1-8 January 2027 are holidays, 9-10 a weekend)

RUSSIA = Rules(holidays=frozenset(holidays.country_holidays("RU", years=[2026, 2027])))


def test_year_end_pushes_a_call_due_on_new_years_eve_to_the_first_working_day_of_january() -> None:
    # given
    items = [call(1, "2026-12-31", code="insurance_renewal", department="insurance")]

    # when
    resolution = run(items, rules=RUSSIA)

    # then
    assert outcome(resolution, 1) == ("deferred", "deferred:holiday", day("2027-01-11"))


def test_year_end_suppresses_a_message_whose_window_lies_inside_the_new_year_holidays() -> None:
    # given
    items = [message(1, "2026-12-31"), message(2, "2026-12-29", code="service_reminder")]

    # when
    resolution = run(items, rules=RUSSIA)

    # then
    assert outcome(resolution, 1) == ("suppressed", "window_closed:holiday", None)
    assert outcome(resolution, 2) == ("placed", "placed", day("2026-12-29"))


def test_year_end_merges_calls_across_new_year_onto_the_first_working_day_of_the_shared_window() -> None:
    # given: seven days apart across 1 January
    invite = call(1, "2026-12-29")
    insurance = call(2, "2027-01-05", code="insurance_renewal", department="insurance")

    # when
    resolution = run([invite, insurance], rules=RUSSIA)

    # then: [01-05, 01-12] is shared; 01-05..01-08 are holidays and 01-09/10 a weekend
    assert call_days(resolution) == [("c:1", day("2027-01-11"), (1, 2))]
    assert outcome(resolution, 1) == ("deferred", "deferred:merge", day("2027-01-11"))
    assert outcome(resolution, 2) == ("merged", "merged_into:c:1", day("2027-01-11"))


# ---------------------------------------------------------------------------------------------------
# Determinism and input checks


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


def test_rejects_negative_rules() -> None:
    # when / then
    with pytest.raises(ValueError, match="min_days_between_calls"):
        Rules(min_days_between_calls=-1)
    with pytest.raises(ValueError, match="working_weekdays"):
        Rules(working_weekdays=frozenset({7}))


def test_fast_builders_make_objects_equal_to_the_dataclass_constructors() -> None:
    # given
    item = message(1, "2026-11-24")
    on = day("2026-11-25")

    # when / then
    assert _decision(1, "deferred", "deferred:weekend", on, "d") == Decision(
        1, "deferred", "deferred:weekend", on, "d"
    )
    assert _call("c:1", 1, on, on, on, (item,), True) == CallPlan("c:1", 1, on, on, on, (item,), True)
    assert _message(item, on) == MessagePlan(1, 1, "sms", on, item.window_start, item.window_end, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        _decision(1, "placed", "placed", on, "").reason = "changed"


# ---------------------------------------------------------------------------------------------------
# The auditor


def test_audit_counts_each_rule_once_in_a_schedule_with_one_violation_of_each() -> None:
    # given: one household, a holiday on 25 December
    rules = Rules(holidays=frozenset({day("2026-12-25")}))
    calls = [
        AuditCall("h", 1, day("2026-11-23")),
        AuditCall("h", 1, day("2026-11-26")),  # three days after the first: min_gap
        AuditCall("h", 1, day("2026-12-07")),  # the third call in 30 days: cap_30 for all three
        AuditCall("h", 1, day("2027-01-09")),  # a Saturday
        AuditCall("h", 1, day("2027-01-20"), item_windows=((day("2027-01-10"), day("2027-01-19")),)),
    ]
    messages = [
        AuditMessage("h", 1, "sms", day("2026-11-23")),  # on the day of a call
        AuditMessage("h", 1, "sms", day("2026-11-24")),  # a day after a message: message_gap
        AuditMessage("h", 1, "email", day("2026-12-01"), window=(day("2026-12-02"), day("2026-12-04"))),
        AuditMessage("h", 2, "sms", day("2026-12-10")),  # customer 2 said no sms
        AuditMessage("h", 1, "sms", day("2026-12-25")),  # the holiday
    ]

    # when
    counts = audit(calls, messages, rules=rules, blocked_channels_by_customer={2: frozenset({"sms"})})

    # then
    assert counts == {
        "min_gap": 1,
        "cap_30": 3,
        "cap_365": 0,
        "outside_window": 2,
        "do_not_contact": 1,
        "weekend": 1,
        "holiday": 1,
        "message_gap": 1,
        "message_same_day_as_call": 1,
    }


def test_audit_exempts_requested_calls_from_the_gap_and_caps() -> None:
    # given
    calls = [AuditCall("h", 1, day("2026-11-23")), AuditCall("h", 1, day("2026-11-24"), is_requested=True)]

    # when
    counts = audit(calls, [], rules=RULES, blocked_channels_by_customer={})

    # then
    assert counts == NO_VIOLATIONS


def test_audit_does_not_blame_history_alone() -> None:
    # given: two past calls one day apart, a planned call well clear of both
    calls = [
        AuditCall("h", None, day("2026-11-02"), is_planned=False),
        AuditCall("h", None, day("2026-11-03"), is_planned=False),
        AuditCall("h", 1, day("2026-12-21")),
    ]

    # when
    counts = audit(calls, [], rules=RULES, blocked_channels_by_customer={})

    # then
    assert counts == NO_VIOLATIONS


def test_audit_keeps_households_apart() -> None:
    # given
    calls = [AuditCall("a", 1, day("2026-11-23")), AuditCall("b", 2, day("2026-11-24"))]

    # when
    counts = audit(calls, [], rules=RULES, blocked_channels_by_customer={})

    # then
    assert counts == NO_VIOLATIONS


# ---------------------------------------------------------------------------------------------------
# Properties

DEPARTMENTS = (
    "service",
    "sales",
    "trade_in",
    "insurance",
    "manufacturer",
    "parts",
    "call_centre",
    "body_shop",
)
REASON = re.compile(
    r"placed|merged_into:c:\d+|beyond_horizon|unreachable|window_passed|do_not_contact:(call|sms|email)"
    r"|deferred:(merge|holiday|weekend|message_same_day_as_call|min_gap|cap_30|cap_365|message_gap)"
    r"|window_closed:(holiday|weekend|message_same_day_as_call|min_gap|cap_30|cap_365|message_gap)"
)


@dataclasses.dataclass(frozen=True)
class Case:
    items: list[Item]
    history: History
    rules: Rules
    blocked: frozenset[str]
    blocked_by_customer: dict[int, frozenset[str]]
    is_phone_reachable: bool

    def resolve(self, items: Sequence[Item] | None = None) -> Resolution:
        return resolve(
            self.items if items is None else items,
            history=self.history,
            blocked_channels=self.blocked,
            is_phone_reachable=self.is_phone_reachable,
            rules=self.rules,
            today=TODAY,
            blocked_channels_by_customer=self.blocked_by_customer,
        )

    def blocked_for(self, customer_id: int) -> frozenset[str]:
        return self.blocked | self.blocked_by_customer.get(customer_id, frozenset())


def offsets(low: int, high: int) -> st.SearchStrategy[date]:
    return st.integers(low, high).map(lambda offset: TODAY + timedelta(days=offset))


@st.composite
def cases(draw: st.DrawFn) -> Case:
    rules = Rules(
        min_days_between_calls=draw(st.integers(0, 10)),
        min_days_between_messages=draw(st.integers(0, 5)),
        max_calls_per_30_days=draw(st.integers(0, 4)),
        max_calls_per_365_days=draw(st.integers(0, 14)),
        merge_window_days=draw(st.integers(0, 14)),
        working_weekdays=draw(st.frozensets(st.integers(0, 6), min_size=1)),
        holidays=draw(st.frozensets(offsets(-30, 150), max_size=20)),
        no_message_on_call_day=draw(st.booleans()),
    )
    customers = draw(st.lists(st.integers(1, 3), min_size=1, max_size=2, unique=True))
    count = draw(st.integers(0, 16))
    ids = draw(st.lists(st.integers(1, 10_000), min_size=count, max_size=count, unique=True))
    items = []
    for touchpoint_id in ids:
        channel = draw(st.sampled_from(("call", "call", "call", "sms", "email")))
        start = draw(offsets(-20, 100))
        end = start + timedelta(days=draw(st.integers(0, 21)))
        due_on = start + timedelta(days=draw(st.integers(-3, (end - start).days + 3)))
        items.append(
            Item(
                touchpoint_id=touchpoint_id,
                customer_id=draw(st.sampled_from(customers)),
                vehicle_id=draw(st.integers(1, 3)),
                code="touchpoint",
                department=draw(st.sampled_from(DEPARTMENTS)),
                channel=channel,
                due_on=due_on,
                window_start=start,
                window_end=end,
                priority=draw(st.integers(0, 3)),
                is_requested=draw(st.integers(0, 7)) == 0,
            )
        )
    history = History(
        calls=tuple(
            PastCall(on, is_reached=draw(st.booleans()), is_requested=draw(st.integers(0, 5)) == 0)
            for on in draw(st.lists(offsets(-400, 60), max_size=14))
        ),
        message_dates=tuple(draw(st.lists(offsets(-30, 30), max_size=6))),
    )
    channels = st.frozensets(st.sampled_from(("call", "sms", "email")), max_size=2)
    blocked = draw(st.one_of(st.just(frozenset()), channels))
    blocked_by_customer = draw(st.dictionaries(st.sampled_from(customers), channels, max_size=1))
    return Case(items, history, rules, blocked, blocked_by_customer, draw(st.integers(0, 9)) > 0)


PROPERTY_SETTINGS = settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def counted_call_days(case: Case, resolution: Resolution) -> list[date]:
    return sorted(
        [past.on for past in case.history.calls if not past.is_requested]
        + [plan.scheduled_on for plan in resolution.calls if not plan.is_requested]
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


@PROPERTY_SETTINGS
@given(cases())
def test_the_auditor_finds_nothing_wrong_with_the_resolvers_output(case: Case) -> None:
    # when
    resolution = case.resolve()
    counts = audit_resolution(
        resolution,
        history=case.history,
        rules=case.rules,
        blocked_channels=case.blocked,
        blocked_channels_by_customer=case.blocked_by_customer,
    )

    # then
    assert counts == NO_VIOLATIONS


@PROPERTY_SETTINGS
@given(
    st.lists(st.tuples(st.integers(0, 120), st.booleans(), st.booleans()), max_size=12),
    st.integers(0, 9),
    st.integers(0, 4),
)
def test_the_auditor_counts_gap_and_cap_violations_like_brute_force(
    raw_calls: list[tuple[int, bool, bool]], gap: int, cap: int
) -> None:
    # given
    rules = Rules(min_days_between_calls=gap, max_calls_per_30_days=cap)
    calls = [
        AuditCall("h", 1, TODAY + timedelta(days=offset), is_requested=is_requested, is_planned=is_planned)
        for offset, is_planned, is_requested in raw_calls
    ]

    # when
    counts = audit(calls, [], rules=rules, blocked_channels_by_customer={})

    # then
    counted = [call for call in calls if not call.is_requested]
    close_pairs = sum(
        1
        for index, first in enumerate(counted)
        for second in counted[index + 1 :]
        if abs((first.on - second.on).days) < gap and (first.is_planned or second.is_planned)
    )
    crowded = sum(
        1
        for call in counted
        if call.is_planned
        and any(
            sum(1 for other in counted if 0 <= (other.on - call.on).days + shift < 30) > cap
            for shift in range(30)
        )
    )
    assert (counts["min_gap"], counts["cap_30"]) == (close_pairs, crowded)


@PROPERTY_SETTINGS
@given(cases(), st.integers(-5, 120), st.integers(0, 40), st.booleans(), st.booleans())
def test_the_tally_of_a_window_agrees_with_the_rules_asked_day_by_day(
    case: Case, start_offset: int, length: int, is_call: bool, is_counted: bool
) -> None:
    # given: a household with the case's history
    household = _Household(case.rules, case.history)
    low = TODAY.toordinal() + start_offset
    high = low + length
    blocker = household.call_blocker if is_call else household.message_blocker

    # when
    tally = household.tally(low, high, is_call, is_counted)

    # then
    expected = [0] * len(tally)
    for ordinal in range(low, high + 1):
        expected[blocker(ordinal, is_counted)] += 1
    assert tally == expected


def test_a_greeting_goes_on_a_weekend_or_holiday_and_other_messages_wait_for_a_working_day() -> None:
    # given: Saturday 2026-11-28; a birthday greeting due that day, a tyre-season message due that day
    # (another household), and a greeting on 8 December, a holiday here (PROGRAM.md version 2)
    rules = Rules(holidays=frozenset({day("2026-12-08")}))
    greetings = [
        message(1, "2026-11-28", code="birthday", window_days=0, is_greeting=True),
        message(3, "2026-12-08", code="birthday", window_days=0, is_greeting=True),
    ]
    other = [message(2, "2026-11-28", code="tyre_season")]
    # when
    greeted, informed = run(greetings, rules=rules), run(other, rules=rules)
    # then
    assert dict(message_days(greeted)) == {1: day("2026-11-28"), 3: day("2026-12-08")}
    assert dict(message_days(informed)) == {2: day("2026-11-30")}
    assert outcome(informed, 2)[0:2] == ("deferred", "deferred:weekend")


def test_the_auditor_accepts_a_greeting_on_a_holiday_and_not_another_message() -> None:
    # given: two messages on a public holiday, one of them a greeting
    holiday = day("2026-12-08")
    messages = [
        AuditMessage(household_key="a", customer_id=1, channel="sms", on=holiday, is_greeting=True),
        AuditMessage(household_key="b", customer_id=2, channel="sms", on=holiday),
    ]
    # when
    counts = audit([], messages, rules=Rules(holidays=frozenset({holiday})), blocked_channels_by_customer={})
    # then
    assert counts["holiday"] == 1


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


def test_the_auditor_judges_a_refusal_from_its_day_on_and_not_the_carrying_on_of_a_call() -> None:
    # given: a customer who refused calls on 25.11 (on a call that day); a call before, that call, and
    # one after; and a retry of a call moved past its touchpoint's window, on a message day
    refused = day("2026-11-25")
    calls = [
        AuditCall(household_key="a", customer_id=1, on=day("2026-11-10")),
        AuditCall(household_key="a", customer_id=1, on=refused),
        AuditCall(household_key="a", customer_id=1, on=day("2026-12-07")),
        AuditCall(household_key="b", customer_id=2, on=day("2026-11-27"), is_continuation=True,
                  item_windows=((day("2026-11-10"), day("2026-11-24")),)),
    ]
    messages = [AuditMessage(household_key="b", customer_id=2, channel="sms", on=day("2026-11-27"))]
    # when
    counts = audit(calls, messages, rules=Rules(min_days_between_calls=0, max_calls_per_30_days=5),
                   blocked_channels_by_customer={1: frozenset({"call"})}, refused_on={(1, "call"): refused})
    # then: only the call after the day of the refusal breaks it; the retry breaks no window, no message day
    assert counts["do_not_contact"] == 1
    assert counts["outside_window"] == 0
    assert counts["message_same_day_as_call"] == 0
