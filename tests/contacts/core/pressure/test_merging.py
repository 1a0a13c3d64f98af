"""Call touchpoints grouped into calls (contacts/core/pressure/merging.py), through ``resolve``: joining a
placed call, merging within ten days on the first day inside every window, the agenda's order.

Pure: no database. Runs under the project's pytest setup, or on its own with
``-p no:django --noconftest`` (tests/conftest.py imports Django models). Today is Sunday 2026-11-22
unless a test says otherwise.
"""

from __future__ import annotations

from contacts.core.pressure import (
    CallPlan,
    History,
    Rules,
)
from tests.contacts.core.pressure.helpers import (
    call,
    call_days,
    day,
    outcome,
    past_calls,
    run,
)


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
