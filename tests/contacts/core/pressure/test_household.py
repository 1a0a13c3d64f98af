"""A household's contact budget (contacts/core/pressure/household.py), through ``resolve``: the earliest
allowed day of a call or a message under the calendar, the same-day rule, the gaps and the caps; the
year end in Russia; the tally of a closed window.

Pure: no database. Runs under the project's pytest setup, or on its own with
``-p no:django --noconftest`` (tests/conftest.py imports Django models). Today is Sunday 2026-11-22
unless a test says otherwise.
"""

from __future__ import annotations

from datetime import timedelta

import holidays
from hypothesis import given
from hypothesis import strategies as st

from contacts.core.pressure import (
    CallPlan,
    Decision,
    History,
    MessagePlan,
    PastCall,
    Rules,
)
from contacts.core.pressure.household import _Household
from tests.contacts.core.pressure.helpers import (
    TODAY,
    call,
    call_days,
    day,
    message,
    message_days,
    outcome,
    past_calls,
    run,
)
from tests.contacts.core.pressure.strategies import (
    PROPERTY_SETTINGS,
    Case,
    cases,
)


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


def test_a_phone_that_is_unreachable_gets_no_calls_but_still_messages() -> None:
    # given
    items = [call(1, "2026-11-24"), message(2, "2026-11-24")]

    # when
    resolution = run(items, is_phone_reachable=False)

    # then
    assert outcome(resolution, 1) == ("suppressed", "unreachable", None)
    assert resolution.calls == ()
    assert message_days(resolution) == [(2, day("2026-11-24"))]


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
    # (another household), and a greeting on 8 December, a holiday here (docs/program.md version 2)
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


def test_a_message_follows_its_templates_days_off_setting_not_its_anchor() -> None:
    # given: Saturday 2026-11-28; two tyre-season messages (not greetings) due that day, in two households,
    # one whose template may go on weekends and holidays and one whose template may not
    allowed = [message(1, "2026-11-28", code="tyre_season", may_go_on_days_off=True)]
    kept = [message(2, "2026-11-28", code="tyre_season", may_go_on_days_off=False)]
    # when
    on_saturday, on_monday = run(allowed), run(kept)
    # then: the one with the setting goes on Saturday; the other waits for Monday
    assert dict(message_days(on_saturday)) == {1: day("2026-11-28")}
    assert dict(message_days(on_monday)) == {2: day("2026-11-30")}
    assert outcome(on_monday, 2)[0:2] == ("deferred", "deferred:weekend")
