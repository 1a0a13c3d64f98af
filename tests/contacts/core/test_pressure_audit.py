"""The contact auditor (contacts/core/pressure_audit.py): examples, and properties against the resolver's
output and against brute force.

Pure: no database. Runs under the project's pytest setup, or on its own with
``-p no:django --noconftest`` (tests/conftest.py imports Django models). Today is Sunday 2026-11-22
unless a test says otherwise.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from contacts.core.pressure import (
    Rules,
)
from contacts.core.pressure_audit import AuditCall, AuditMessage, audit, audit_resolution
from tests.contacts.core.pressure.helpers import (
    NO_VIOLATIONS,
    RULES,
    TODAY,
    day,
)
from tests.contacts.core.pressure.strategies import (
    PROPERTY_SETTINGS,
    Case,
    cases,
)


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


def test_the_auditor_accepts_a_greeting_on_a_holiday_and_not_another_message() -> None:
    # given: two messages on a public holiday, one of them a greeting
    holiday = day("2026-12-08")
    messages = [
        AuditMessage(household_key="a", customer_id=1, channel="sms", on=holiday, may_go_on_days_off=True),
        AuditMessage(household_key="b", customer_id=2, channel="sms", on=holiday),
    ]
    # when
    counts = audit([], messages, rules=Rules(holidays=frozenset({holiday})), blocked_channels_by_customer={})
    # then
    assert counts["holiday"] == 1


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
