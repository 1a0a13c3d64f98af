"""``plan_vehicle`` (contacts/core/plan_engine/plan.py): docs/program.md's reference vehicle, the
templates' conditions, cycles, after the cycle and the horizon. No database, no Django."""

from __future__ import annotations

import dataclasses

from contacts.core.plan_engine import (
    SaleFact,
    cycle_sale,
    plan_vehicle,
    reference_vehicle_facts,
    warranty_end,
)
from contacts.core.program import (
    CONDITIONAL_CODES,
    DEFAULT_PROGRAM,
)
from tests.contacts.core.plan_engine.helpers import D, _codes, _facts, _tpl, _triples

# The 36 touchpoints of docs/program.md's table for the reference vehicle, in plan order.
REFERENCE_36 = [
    ("thank_you", 1, D(2025, 1, 16)),
    ("first_weeks", 1, D(2025, 1, 29)),
    ("dealer_csi", 1, D(2025, 2, 14)),
    ("oem_survey", 1, D(2025, 3, 1)),
    ("tyre_season", 1, D(2025, 3, 10)),
    ("accessories", 1, D(2025, 3, 16)),
    ("birthday", 1, D(2025, 6, 20)),
    ("tyre_season", 2, D(2025, 9, 25)),
    ("service_invite", 1, D(2025, 10, 25)),
    ("service_reminder", 1, D(2025, 11, 12)),
    ("post_service_csi", 1, D(2025, 11, 18)),
    ("insurance_renewal", 1, D(2025, 12, 16)),
    ("anniversary_1", 1, D(2026, 1, 15)),
    ("tyre_season", 3, D(2026, 3, 10)),
    ("birthday", 2, D(2026, 6, 20)),
    ("needs_check", 1, D(2026, 7, 15)),
    ("service_invite", 2, D(2026, 8, 25)),
    ("service_reminder", 2, D(2026, 9, 12)),
    ("post_service_csi", 2, D(2026, 9, 18)),
    ("tyre_season", 4, D(2026, 9, 25)),
    ("insurance_renewal", 2, D(2026, 12, 16)),
    ("trade_in_valuation", 1, D(2027, 1, 15)),
    ("anniversary_2", 1, D(2027, 1, 15)),
    ("tyre_season", 5, D(2027, 3, 10)),
    ("new_models", 1, D(2027, 4, 15)),
    ("birthday", 3, D(2027, 6, 20)),
    ("service_invite", 3, D(2027, 6, 24)),
    ("service_reminder", 3, D(2027, 7, 12)),
    ("next_car", 1, D(2027, 7, 15)),
    ("post_service_csi", 3, D(2027, 7, 18)),
    ("tyre_season", 6, D(2027, 9, 25)),
    ("test_drive", 1, D(2027, 10, 15)),
    ("warranty_extension", 1, D(2027, 10, 17)),
    ("final_offer", 1, D(2027, 12, 15)),
    ("warranty_last_check", 1, D(2027, 12, 16)),
    ("insurance_renewal", 3, D(2027, 12, 16)),
]


def test_reference_vehicle_yields_exactly_the_36_touchpoints_of_the_program_table() -> None:
    # given
    facts = reference_vehicle_facts()
    # when
    plan = plan_vehicle(DEFAULT_PROGRAM, facts)
    # then
    assert _triples(plan) == REFERENCE_36
    assert len(plan) == 36
    assert sum(tp.channel == "call" for tp in plan) == 21
    assert sum(tp.channel in ("sms", "email") for tp in plan) == 15
    assert all(D(2025, 1, 15) <= tp.due_on < D(2028, 1, 15) for tp in plan)
    assert {tp.cycle_start for tp in plan} == {D(2025, 1, 15)}
    assert {tp.phase for tp in plan} == {"cycle"}
    assert not _codes(plan) & CONDITIONAL_CODES


def test_reference_vehicle_plan_is_the_same_36_whatever_day_inside_the_cycle_it_is_planned_on() -> None:
    # given
    days = [D(2025, 6, 1), D(2026, 2, 1), D(2026, 11, 22), D(2027, 8, 1)]
    # when
    plans = [plan_vehicle(DEFAULT_PROGRAM, reference_vehicle_facts(day)) for day in days]
    # then
    for plan in plans:
        assert _triples([tp for tp in plan if tp.phase == "cycle"]) == REFERENCE_36


def test_reference_vehicle_planned_late_in_the_cycle_adds_after_cycle_touchpoints_a_year_ahead() -> None:
    # given
    facts = reference_vehicle_facts(D(2027, 12, 1))
    # when
    plan = plan_vehicle(DEFAULT_PROGRAM, facts)
    # then
    after = [tp for tp in plan if tp.phase == "after_cycle"]
    assert _triples(after) == [
        ("tyre_season", 7, D(2028, 3, 10)),
        ("service_invite", 4, D(2028, 4, 24)),
        ("service_reminder", 4, D(2028, 5, 12)),
        ("birthday", 4, D(2028, 6, 20)),
        ("tyre_season", 8, D(2028, 9, 25)),
    ]
    assert len(plan) == 41


def test_service_invite_window_runs_from_due_minus_21_to_due_minus_7_days() -> None:
    # given
    facts = reference_vehicle_facts()
    # when
    invite = next(tp for tp in plan_vehicle(DEFAULT_PROGRAM, facts) if tp.code == "service_invite")
    # then
    assert (invite.due_on, invite.window_start, invite.window_end) == (
        D(2025, 10, 25),
        D(2025, 10, 25),
        D(2025, 11, 8),
    )
    assert invite.reason == "maintenance_due:2025-11-15:TO-1"
    assert invite.reason_detail == {
        "due_on": "2025-11-15",
        "maintenance_number": "1",
        "km_per_month": "1500",
        "driver": "km",
    }
    assert (invite.department, invite.channel, invite.priority) == ("service", "call", 1)


def test_service_reminder_window_runs_from_due_minus_3_to_due_minus_1_day() -> None:
    # given
    facts = reference_vehicle_facts()
    # when
    reminder = next(tp for tp in plan_vehicle(DEFAULT_PROGRAM, facts) if tp.code == "service_reminder")
    # then
    assert (reminder.window_start, reminder.window_end) == (D(2025, 11, 12), D(2025, 11, 14))


def test_default_windows_are_14_days_for_calls_3_for_messages_and_the_day_itself_for_birthdays() -> None:
    # given
    plan = plan_vehicle(DEFAULT_PROGRAM, reference_vehicle_facts())
    by_code = {tp.code: tp for tp in plan}
    # when
    spans = {code: (by_code[code].window_end - by_code[code].due_on).days for code in by_code}
    # then
    assert spans["thank_you"] == 14
    assert spans["accessories"] == 3
    assert spans["tyre_season"] == 3
    assert spans["birthday"] == 0
    assert all(tp.window_start == tp.due_on for tp in plan)


def test_reference_warranty_ends_by_time_on_2028_01_15() -> None:
    # given
    facts = reference_vehicle_facts()
    # when
    end = warranty_end(facts, facts.sales[0])
    # then
    assert end == (D(2028, 1, 15), "time")


def test_used_sale_skips_the_new_car_only_manufacturer_survey() -> None:
    # given
    facts = dataclasses.replace(reference_vehicle_facts(), sales=(SaleFact(D(2025, 1, 15), "used", 30_000),))
    # when
    plan = plan_vehicle(DEFAULT_PROGRAM, facts)
    # then
    assert "oem_survey" not in _codes(plan)
    assert "thank_you" in _codes(plan)


def test_unknown_birthday_plans_no_birthday_touchpoints() -> None:
    # given
    facts = dataclasses.replace(reference_vehicle_facts(), birthday=None)
    # when
    plan = plan_vehicle(DEFAULT_PROGRAM, facts)
    # then
    assert "birthday" not in _codes(plan)
    assert len(plan) == 33


def test_requires_birthday_skips_any_template_when_the_birthday_is_unknown() -> None:
    # given
    template = _tpl(requires_birthday=True)
    # when
    plan = plan_vehicle([template], _facts(birthday=None))
    # then
    assert plan == []


def test_booked_maintenance_skips_the_reminder_but_not_the_invite() -> None:
    # given: TO-1 (due 2025-11-15) booked for 2025-11-10
    facts = dataclasses.replace(
        reference_vehicle_facts(D(2025, 10, 28)), maintenance_booked_on=D(2025, 11, 10)
    )
    # when
    plan = plan_vehicle(DEFAULT_PROGRAM, facts)
    # then
    reminders = [(tp.occurrence, tp.due_on) for tp in plan if tp.code == "service_reminder"]
    assert reminders == [(2, D(2026, 9, 12)), (3, D(2027, 7, 12))]
    assert [tp.occurrence for tp in plan if tp.code == "service_invite"] == [1, 2, 3]


def test_maintenance_done_before_the_reminder_skips_the_reminder() -> None:
    # given: TO-1 was done early, on 2025-10-20
    facts = dataclasses.replace(
        reference_vehicle_facts(),
        maintenance_visits=(D(2025, 10, 20), D(2026, 9, 15), D(2027, 7, 15)),
    )
    # when
    plan = plan_vehicle(DEFAULT_PROGRAM, facts)
    # then
    assert [tp.occurrence for tp in plan if tp.code == "service_reminder"] == [2, 3]


def test_vehicle_age_limits_keep_touchpoints_inside_the_age_range() -> None:
    # given: a yearly template only for vehicles aged 24 months or more, and one only up to 12 months
    older = _tpl(code="older", recurrence="yearly", min_vehicle_age_months=24)
    younger = _tpl(code="younger", recurrence="yearly", max_vehicle_age_months=12)
    # when
    plan = plan_vehicle([older, younger], _facts())
    # then
    assert _triples(plan) == [("younger", 1, D(2026, 1, 15)), ("older", 2, D(2027, 1, 15))]


def test_vehicle_age_counts_from_the_first_registration() -> None:
    # given: a used car first registered in 2020
    template = _tpl(max_vehicle_age_months=60, offset_days=1)
    facts = _facts(sales=(SaleFact(D(2025, 1, 15), "used", 80_000),), first_registered_on=D(2019, 12, 1))
    # when
    plan = plan_vehicle([template], facts)
    # then
    assert plan == []


def test_inactive_template_is_not_planned() -> None:
    # given
    template = _tpl(is_active=False, offset_days=1)
    # when
    plan = plan_vehicle([template], _facts())
    # then
    assert plan == []


def test_sale_kinds_condition_allows_only_the_listed_kinds() -> None:
    # given
    template = _tpl(sale_kinds=("used", "trade_in"), offset_days=1)
    # when
    new_plan = plan_vehicle([template], _facts())
    trade_in_plan = plan_vehicle([template], _facts(sales=(SaleFact(D(2025, 1, 15), "trade_in", 0),)))
    # then
    assert new_plan == []
    assert _triples(trade_in_plan) == [("t", 1, D(2025, 1, 16))]


def test_repeat_purchase_of_the_vehicle_starts_a_new_cycle_with_fresh_occurrences() -> None:
    # given: the customer bought the same vehicle back on 2026-03-01
    facts = dataclasses.replace(
        reference_vehicle_facts(D(2026, 6, 1)),
        sales=(SaleFact(D(2025, 1, 15)), SaleFact(D(2026, 3, 1), "used", 20_000)),
        maintenance_due_dates=(),
        maintenance_due_drivers=(),
        maintenance_visits=(),
    )
    # when
    plan = plan_vehicle(DEFAULT_PROGRAM, facts)
    # then
    assert {tp.cycle_start for tp in plan} == {D(2026, 3, 1)}
    assert min(tp.due_on for tp in plan) == D(2026, 3, 2)
    assert ("thank_you", 1, D(2026, 3, 2)) in _triples(plan)
    assert ("anniversary_1", 1, D(2027, 3, 1)) in _triples(plan)
    assert max(tp.due_on for tp in plan if tp.phase == "cycle") < D(2029, 3, 1)


def test_cycle_is_anchored_at_the_latest_sale_on_or_before_today() -> None:
    # given: a sale recorded for tomorrow is not the cycle yet
    facts = _facts(sales=(SaleFact(D(2025, 1, 15)), SaleFact(D(2026, 11, 23))), today=D(2026, 11, 22))
    # when
    sale = cycle_sale(facts)
    # then
    assert sale == SaleFact(D(2025, 1, 15))


def test_vehicle_without_a_sale_gets_no_plan() -> None:
    # given
    facts = _facts(sales=())
    # when
    plan = plan_vehicle(DEFAULT_PROGRAM, facts)
    # then
    assert plan == []


def test_traded_in_vehicle_plans_nothing_from_the_trade_in_day() -> None:
    # given
    facts = dataclasses.replace(reference_vehicle_facts(D(2026, 11, 22)), traded_in_on=D(2026, 7, 15))
    # when
    plan = plan_vehicle(DEFAULT_PROGRAM, facts)
    # then
    assert max(tp.due_on for tp in plan) == D(2026, 6, 20)
    assert len(plan) == 15
    assert {tp.phase for tp in plan} == {"cycle"}


def test_after_the_cycle_only_maintenance_tyres_birthdays_and_keep_alive_continue() -> None:
    # given: sold in 2020, maintenance yearly, last reached by phone three months ago
    facts = _facts(
        sales=(SaleFact(D(2020, 1, 15)),),
        today=D(2026, 11, 22),
        birthday=D(1970, 2, 1),
        maintenance_due_dates=(D(2027, 9, 1),),
        maintenance_visits=(D(2021, 1, 10), D(2022, 1, 12), D(2023, 1, 20), D(2024, 2, 1), D(2025, 2, 20)),
        last_reached_contact_on=D(2026, 8, 20),
    )
    # when
    plan = plan_vehicle(DEFAULT_PROGRAM, facts)
    # then
    after = [tp for tp in plan if tp.phase == "after_cycle"]
    assert {tp.code for tp in after} == {
        "service_invite",
        "service_reminder",
        "tyre_season",
        "birthday",
        "keep_alive",
    }
    assert min(tp.due_on for tp in after) == D(2023, 2, 1)
    assert max(tp.due_on for tp in after) < D(2027, 11, 22)
    assert all(tp.due_on < D(2023, 1, 15) for tp in plan if tp.phase == "cycle")
    assert [(tp.occurrence, tp.due_on) for tp in after if tp.code == "service_invite"] == [
        (6, D(2027, 8, 11))
    ]
    assert [(tp.occurrence, tp.due_on) for tp in after if tp.code == "keep_alive"] == [(80, D(2027, 7, 20))]


def test_horizon_end_caps_the_plan() -> None:
    # given
    facts = reference_vehicle_facts()
    # when
    plan = plan_vehicle(DEFAULT_PROGRAM, facts, horizon_end=D(2025, 3, 10))
    # then
    assert [tp.code for tp in plan] == ["thank_you", "first_weeks", "dealer_csi", "oem_survey"]
