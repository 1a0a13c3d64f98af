"""The plan engine (pure): PROGRAM.md's reference vehicle, every anchor, recurrence and condition, cycles,
conditional touchpoints, calendar edges, and hypothesis properties. No database, no Django."""

from __future__ import annotations

import dataclasses
import pickle
import random
import re
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contacts.core.plan_engine import (
    PlannedTouchpoint,
    SaleFact,
    TemplateSpec,
    VehicleFacts,
    cycle_sale,
    parse_season_dates,
    plan_vehicle,
    reference_vehicle_facts,
    warranty_end,
)
from contacts.core.plan_engine.dates import _months_between
from contacts.core.program import (
    CONDITIONAL_CODES,
    DEFAULT_PROGRAM,
    DEPARTMENT_PRIORITY,
    DEPARTMENTS,
    SCRIPT_VARIABLES,
    TEMPLATES_BY_CODE,
)
from customers.core.calendar import add_months
from tests.strength import examples

D = date


def _facts(**overrides: Any) -> VehicleFacts:
    base: dict[str, Any] = {
        "vehicle_id": 7,
        "customer_id": 3,
        "sales": (SaleFact(D(2025, 1, 15), "new", 0),),
        "today": D(2025, 1, 15),
        "km_per_month": 1500.0,
    }
    base.update(overrides)
    return VehicleFacts(**base)


def _tpl(**overrides: Any) -> TemplateSpec:
    base: dict[str, Any] = {
        "code": "t",
        "name_en": "T",
        "name_ru": "Т",
        "department": "sales",
        "channel": "call",
        "anchor": "sale",
    }
    base.update(overrides)
    return TemplateSpec(**base)


def _triples(plan: list[PlannedTouchpoint]) -> list[tuple[str, int, date]]:
    return [(tp.code, tp.occurrence, tp.due_on) for tp in plan]


def _codes(plan: list[PlannedTouchpoint]) -> set[str]:
    return {tp.code for tp in plan}


# The 36 touchpoints of PROGRAM.md's table for the reference vehicle, in plan order.
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


# ------------------------------------------------------------------------------ the reference vehicle


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


# ------------------------------------------------------------------------------ anchors and recurrences


def test_sale_anchor_once_is_sale_plus_months_plus_days() -> None:
    # given
    template = _tpl(offset_months=1, offset_days=2)
    # when
    plan = plan_vehicle([template], _facts())
    # then
    assert _triples(plan) == [("t", 1, D(2025, 2, 17))]
    assert plan[0].reason == "sale:2025-01-15"
    assert plan[0].reason_detail == {"sold_on": "2025-01-15", "sale_kind": "new"}


def test_sale_anchor_yearly_numbers_occurrences_by_anniversary() -> None:
    # given
    template = _tpl(recurrence="yearly", offset_days=-7)
    # when
    plan = plan_vehicle([template], _facts())
    # then
    assert _triples(plan) == [("t", 1, D(2026, 1, 8)), ("t", 2, D(2027, 1, 8)), ("t", 3, D(2028, 1, 8))]
    assert plan[0].reason == "sale:2025-01-15:1"


def test_maintenance_due_anchor_plans_one_per_due_date_numbered_by_maintenance() -> None:
    # given
    template = _tpl(
        anchor="maintenance_due", recurrence="per_maintenance", offset_days=-21, department="service"
    )
    facts = _facts(maintenance_due_dates=(D(2026, 1, 15), D(2027, 1, 15)))
    # when
    plan = plan_vehicle([template], facts)
    # then
    assert _triples(plan) == [("t", 1, D(2025, 12, 25)), ("t", 2, D(2026, 12, 25))]
    assert plan[1].reason == "maintenance_due:2027-01-15:TO-2"
    assert plan[1].reason_detail == {
        "due_on": "2027-01-15",
        "maintenance_number": "2",
        "km_per_month": "1500",
    }


def test_maintenance_numbers_are_stable_when_only_the_next_due_dates_are_passed() -> None:
    # given: TO-1 was done on 2025-11-15, the caller now passes only the upcoming due dates
    template = _tpl(anchor="maintenance_due", recurrence="per_maintenance", offset_days=-21)
    all_dues = _facts(
        maintenance_due_dates=(D(2025, 11, 15), D(2026, 9, 15), D(2027, 7, 15)),
        maintenance_visits=(D(2025, 11, 15),),
    )
    next_dues = dataclasses.replace(all_dues, maintenance_due_dates=(D(2026, 9, 15), D(2027, 7, 15)))
    # when
    plan_all = plan_vehicle([template], all_dues)
    plan_next = plan_vehicle([template], next_dues)
    # then
    assert _triples(plan_all) == [
        ("t", 1, D(2025, 10, 25)),
        ("t", 2, D(2026, 8, 25)),
        ("t", 3, D(2027, 6, 24)),
    ]
    assert _triples(plan_next) == [("t", 2, D(2026, 8, 25)), ("t", 3, D(2027, 6, 24))]


def test_maintenance_visit_anchor_numbers_visits_by_date_within_the_cycle() -> None:
    # given: an unordered, duplicated visit list with one visit before the cycle
    template = _tpl(anchor="maintenance_visit", recurrence="per_visit", offset_days=3)
    facts = _facts(maintenance_visits=(D(2026, 9, 1), D(2024, 5, 5), D(2025, 10, 30), D(2026, 9, 1)))
    # when
    plan = plan_vehicle([template], facts)
    # then
    assert _triples(plan) == [("t", 1, D(2025, 11, 2)), ("t", 2, D(2026, 9, 4))]
    assert plan[0].reason == "maintenance_visit:2025-10-30:1"


def test_warranty_end_anchor_uses_mileage_when_it_comes_first() -> None:
    # given: 5,000 km a month reaches 100,000 km after 20 months (609 days)
    template = _tpl(anchor="warranty_end", offset_days=-90, department="service")
    facts = _facts(km_per_month=5000.0)
    # when
    plan = plan_vehicle([template], facts)
    # then
    assert _triples(plan) == [("t", 1, D(2026, 6, 18))]
    assert plan[0].reason == "warranty_end:2026-09-16:km"
    assert plan[0].reason_detail == {
        "warranty_end_on": "2026-09-16",
        "driver": "km",
        "warranty_months": "36",
        "warranty_km": "100000",
        "km_per_month": "5000",
    }


def test_warranty_of_a_used_car_runs_from_its_own_start_and_odometer() -> None:
    # given: a used car sold at 40,000 km, warranty started 2023-06-01
    facts = _facts(
        sales=(SaleFact(D(2025, 1, 15), "used", 40_000),),
        warranty_starts_on=D(2023, 6, 1),
        km_per_month=1000.0,
    )
    # when
    end = warranty_end(facts, facts.sales[0])
    # then
    assert end == (D(2026, 6, 1), "time")


def test_no_warranty_terms_means_no_warranty_touchpoints() -> None:
    # given
    template = _tpl(anchor="warranty_end", offset_days=-30)
    facts = _facts(warranty_months=None, warranty_km=None)
    # when
    plan = plan_vehicle([template], facts)
    # then
    assert plan == []


def test_insurance_renewal_anchor_follows_a_known_policy_date() -> None:
    # given: the policy renews on 1 March
    template = _tpl(anchor="insurance_renewal", recurrence="yearly", offset_days=-30, department="insurance")
    facts = _facts(insurance_renews_on=D(2024, 3, 1))
    # when
    plan = plan_vehicle([template], facts)
    # then
    assert _triples(plan) == [("t", 1, D(2025, 1, 30)), ("t", 2, D(2026, 1, 30)), ("t", 3, D(2027, 1, 30))]
    assert plan[0].reason_detail == {"renewal_on": "2025-03-01", "renewal_number": "1", "source": "policy"}


def test_birthday_anchor_plans_each_birthday_of_the_cycle() -> None:
    # given
    template = _tpl(anchor="birthday", recurrence="yearly", channel="sms", window_end_days=0)
    facts = _facts(birthday=D(1985, 6, 20))
    # when
    plan = plan_vehicle([template], facts)
    # then
    assert _triples(plan) == [("t", 1, D(2025, 6, 20)), ("t", 2, D(2026, 6, 20)), ("t", 3, D(2027, 6, 20))]
    assert plan[0].reason == "birthday:2025-06-20"


def test_season_anchor_uses_the_dealerships_season_dates_from_the_facts() -> None:
    # given: a northern dealership changes tyres on 15 April and 15 September
    template = _tpl(anchor="season", recurrence="seasonal", channel="sms", offset_days=-10)
    facts = _facts(season_dates=("09-15", "04-15"))
    # when
    plan = plan_vehicle([template], facts)
    # then
    assert _triples(plan)[:3] == [("t", 1, D(2025, 4, 5)), ("t", 2, D(2025, 9, 5)), ("t", 3, D(2026, 4, 5))]
    assert len(plan) == 6
    assert plan[1].reason == "season:2025-09-15:2"


def test_season_occurrences_count_from_the_cycle_starts_calendar_year() -> None:
    # given: a sale in November, after both 2025 seasons
    template = _tpl(anchor="season", recurrence="seasonal", channel="sms", offset_days=-10)
    facts = _facts(sales=(SaleFact(D(2025, 11, 1)),), today=D(2025, 11, 1))
    # when
    plan = plan_vehicle([template], facts)
    # then
    assert [tp.occurrence for tp in plan] == [3, 4, 5, 6, 7, 8]


# ------------------------------------------------------------------------------ conditions


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


# ------------------------------------------------------------------------------ cycles


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


# ------------------------------------------------------------------------------ conditional touchpoints


def test_missed_service_fires_30_days_after_an_unfulfilled_due_date() -> None:
    # given: due 2026-09-15, no maintenance visit, today 2026-11-22
    facts = _facts(
        today=D(2026, 11, 22), maintenance_due_dates=(D(2026, 9, 15),), last_reached_contact_on=D(2026, 6, 1)
    )
    # when
    plan = plan_vehicle([TEMPLATES_BY_CODE["missed_service"]], facts)
    # then
    assert _triples(plan) == [("missed_service", 1, D(2026, 11, 22))]
    assert plan[0].reason == "missed_maintenance:2026-09-15:TO-1"
    assert (plan[0].window_start, plan[0].window_end) == (D(2026, 11, 22), D(2026, 12, 6))


def test_a_car_that_missed_several_maintenances_gets_one_missed_service_naming_them() -> None:
    # given: TO-1 due 2026-01-18 and TO-2 due 2026-07-18 both missed, today 2026-11-22
    facts = _facts(
        today=D(2026, 11, 22), maintenance_due_dates=(D(2026, 1, 18), D(2026, 7, 18)),
        last_reached_contact_on=D(2025, 12, 1),
    )
    # when
    plan = plan_vehicle([TEMPLATES_BY_CODE["missed_service"]], facts)
    # then: one touchpoint, for the latest miss, naming both since the first
    assert _triples(plan) == [("missed_service", 2, D(2026, 11, 22))]
    assert plan[0].reason_detail["missed_numbers"] == "1,2"
    assert plan[0].reason_detail["missed_since"] == "2026-01-18"


def test_missed_service_is_dated_on_its_threshold_day() -> None:
    # given: today is exactly due + 30 days
    facts = _facts(today=D(2026, 10, 15), maintenance_due_dates=(D(2026, 9, 15),))
    # when
    plan = plan_vehicle([TEMPLATES_BY_CODE["missed_service"]], facts)
    # then
    assert _triples(plan) == [("missed_service", 1, D(2026, 10, 15))]


def test_missed_service_does_not_fire_before_due_plus_30_days() -> None:
    # given
    facts = _facts(today=D(2026, 10, 14), maintenance_due_dates=(D(2026, 9, 15),))
    # when
    plan = plan_vehicle([TEMPLATES_BY_CODE["missed_service"]], facts)
    # then
    assert plan == []


def test_missed_service_does_not_fire_when_a_visit_was_recorded_since_due_minus_60_days() -> None:
    # given: visited 50 days before the due date
    facts = _facts(
        today=D(2026, 11, 22), maintenance_due_dates=(D(2026, 9, 15),), maintenance_visits=(D(2026, 7, 27),)
    )
    # when
    plan = plan_vehicle([TEMPLATES_BY_CODE["missed_service"]], facts)
    # then
    assert plan == []


def test_missed_service_does_not_fire_when_the_visit_is_booked_ahead() -> None:
    # given
    facts = _facts(
        today=D(2026, 11, 22), maintenance_due_dates=(D(2026, 9, 15),), maintenance_booked_on=D(2026, 11, 25)
    )
    # when
    plan = plan_vehicle([TEMPLATES_BY_CODE["missed_service"]], facts)
    # then
    assert plan == []


def test_lapsed_fires_after_more_than_12_months_without_a_visit_or_a_reached_call() -> None:
    # given: sold 2024-06-01, nothing since
    facts = _facts(sales=(SaleFact(D(2024, 6, 1)),), today=D(2026, 11, 22))
    # when
    plan = plan_vehicle([TEMPLATES_BY_CODE["lapsed"], TEMPLATES_BY_CODE["keep_alive"]], facts)
    # then
    assert _triples(plan) == [("lapsed", 1, D(2026, 11, 22))]
    assert plan[0].reason_detail == {"last_contact_on": "2024-06-01", "last_contact": "sale"}


def test_lapsed_does_not_fire_on_exactly_12_months_of_silence() -> None:
    # given
    facts = _facts(
        sales=(SaleFact(D(2024, 6, 1)),), today=D(2026, 11, 22), last_reached_contact_on=D(2025, 11, 22)
    )
    # when
    plan = plan_vehicle([TEMPLATES_BY_CODE["lapsed"]], facts)
    # then
    assert plan == []


def test_lapsed_counts_maintenance_visits_as_contact() -> None:
    # given
    facts = _facts(
        sales=(SaleFact(D(2024, 6, 1)),), today=D(2026, 11, 22), maintenance_visits=(D(2026, 1, 10),)
    )
    # when
    plan = plan_vehicle([TEMPLATES_BY_CODE["lapsed"]], facts)
    # then
    assert plan == []


def test_keep_alive_fires_11_months_after_the_last_reached_contact() -> None:
    # given: no other template plans a call
    facts = _facts(today=D(2026, 11, 22), last_reached_contact_on=D(2026, 3, 10))
    # when
    plan = plan_vehicle([TEMPLATES_BY_CODE["keep_alive"]], facts)
    # then
    assert _triples(plan) == [("keep_alive", 14, D(2027, 2, 10))]
    assert plan[0].reason == "keep_alive:2026-03-10"
    assert plan[0].reason_detail == {"last_contact_on": "2026-03-10", "last_contact": "call"}


def test_keep_alive_overdue_is_dated_today() -> None:
    # given
    facts = _facts(today=D(2026, 11, 22), last_reached_contact_on=D(2025, 12, 1))
    # when
    plan = plan_vehicle([TEMPLATES_BY_CODE["keep_alive"]], facts)
    # then
    assert _triples(plan) == [("keep_alive", 11, D(2026, 11, 22))]


def test_keep_alive_does_not_fire_when_another_call_is_planned_before_it() -> None:
    # given: an insurance call on 2026-12-16 comes before the keep-alive date 2027-02-10
    facts = _facts(today=D(2026, 11, 22), last_reached_contact_on=D(2026, 3, 10))
    templates = [TEMPLATES_BY_CODE["keep_alive"], TEMPLATES_BY_CODE["insurance_renewal"]]
    # when
    plan = plan_vehicle(templates, facts)
    # then
    assert "keep_alive" not in _codes(plan)


# ------------------------------------------------------------------------------ calendar edges


def test_sale_on_new_years_eve_plans_month_ends_and_next_year_dates() -> None:
    # given
    facts = _facts(sales=(SaleFact(D(2024, 12, 31)),), today=D(2024, 12, 31), birthday=D(1990, 1, 5))
    # when
    plan = plan_vehicle(DEFAULT_PROGRAM, facts)
    # then
    triples = _triples(plan)
    assert triples[:4] == [
        ("thank_you", 1, D(2025, 1, 1)),
        ("birthday", 2, D(2025, 1, 5)),
        ("first_weeks", 1, D(2025, 1, 14)),
        ("dealer_csi", 1, D(2025, 1, 30)),
    ]
    expected = [
        ("anniversary_1", 1, D(2025, 12, 31)),
        ("needs_check", 1, D(2026, 6, 30)),
        ("trade_in_valuation", 1, D(2026, 12, 31)),
        ("new_models", 1, D(2027, 3, 31)),
        ("next_car", 1, D(2027, 6, 30)),
        ("test_drive", 1, D(2027, 9, 30)),
        ("final_offer", 1, D(2027, 11, 30)),
        ("insurance_renewal", 1, D(2025, 12, 1)),
        ("insurance_renewal", 3, D(2027, 12, 1)),
        ("tyre_season", 3, D(2025, 3, 10)),
        ("tyre_season", 8, D(2027, 9, 25)),
        ("warranty_extension", 1, D(2027, 10, 2)),
    ]
    for triple in expected:
        assert triple in triples
    assert max(tp.due_on for tp in plan) < D(2027, 12, 31)


def test_leap_day_plus_12_months_is_28_february() -> None:
    # given
    leap_day = D(2024, 2, 29)
    # when
    result = add_months(leap_day, 12)
    # then
    assert result == D(2025, 2, 28)
    assert add_months(leap_day, 48) == D(2028, 2, 29)
    assert add_months(D(2025, 1, 31), 1) == D(2025, 2, 28)
    assert add_months(D(2025, 3, 31), -1) == D(2025, 2, 28)
    assert _months_between(D(2025, 1, 31), D(2025, 2, 28)) == 1
    assert _months_between(D(2025, 1, 31), D(2025, 2, 27)) == 0


def test_sale_on_a_leap_day_plans_anniversaries_on_28_february() -> None:
    # given
    facts = _facts(sales=(SaleFact(D(2024, 2, 29)),), today=D(2024, 2, 29), birthday=D(2000, 2, 29))
    # when
    plan = plan_vehicle(DEFAULT_PROGRAM, facts)
    # then
    triples = _triples(plan)
    assert ("anniversary_1", 1, D(2025, 2, 28)) in triples
    assert ("insurance_renewal", 1, D(2025, 1, 29)) in triples
    assert [(o, d) for c, o, d in triples if c == "birthday"] == [
        (1, D(2024, 2, 29)),
        (2, D(2025, 2, 28)),
        (3, D(2026, 2, 28)),
    ]
    assert max(tp.due_on for tp in plan) < D(2027, 2, 28)


# ------------------------------------------------------------------------------ validation and data


def test_template_rejects_a_recurrence_its_anchor_does_not_allow() -> None:
    # given / when / then
    with pytest.raises(ValueError, match="allows recurrence"):
        _tpl(anchor="birthday", recurrence="once")


def test_template_rejects_a_window_that_does_not_contain_its_date() -> None:
    # given / when / then
    with pytest.raises(ValueError, match="window"):
        _tpl(window_start_days=1)


def test_duplicate_template_codes_are_rejected() -> None:
    # given
    templates = [_tpl(), _tpl(offset_days=3)]
    # when / then
    with pytest.raises(ValueError, match="duplicate template code"):
        plan_vehicle(templates, _facts())


def test_season_dates_accept_strings_one_tuples_and_pairs() -> None:
    # given
    values: list[object] = ["10-05", ("03-20",), (4, 1)]
    # when
    result = parse_season_dates(values)
    # then
    assert result == ((3, 20), (4, 1), (10, 5))
    with pytest.raises(ValueError):
        parse_season_dates(["13-01"])


def test_default_program_has_one_template_per_code_of_the_program() -> None:
    # given
    codes = [t.code for t in DEFAULT_PROGRAM]
    # when
    unique = set(codes)
    # then
    assert len(codes) == len(unique) == 24
    assert unique == {
        "thank_you", "first_weeks", "dealer_csi", "oem_survey", "accessories", "service_invite",
        "service_reminder", "post_service_csi", "tyre_season", "insurance_renewal", "birthday",
        "warranty_extension", "warranty_last_check", "anniversary_1", "needs_check", "trade_in_valuation",
        "new_models", "next_car", "test_drive", "final_offer", "anniversary_2", "missed_service", "lapsed",
        "keep_alive",
    }  # fmt: skip
    assert all(t.department in DEPARTMENTS for t in DEFAULT_PROGRAM)
    assert all(t.priority == DEPARTMENT_PRIORITY[t.department] for t in DEFAULT_PROGRAM)
    assert set(DEPARTMENT_PRIORITY) == set(DEPARTMENTS)


_VAR = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)(\|date:\"d\.m\.Y\")?\s*\}\}")


def test_scripts_use_only_the_allowed_variables_and_no_tags() -> None:
    # given
    scripts = [(t.code, s) for t in DEFAULT_PROGRAM for s in (t.script_en, t.script_ru)]
    # when
    problems = []
    for code, script in scripts:
        rest = _VAR.sub("", script)
        if "{{" in rest or "}}" in rest or "{%" in script or "{#" in script:
            problems.append(code)
        problems += [
            f"{code}:{m.group(1)}" for m in _VAR.finditer(script) if m.group(1) not in SCRIPT_VARIABLES
        ]
    # then
    assert problems == []


def test_call_scripts_have_greeting_purpose_questions_record_and_close_in_both_languages() -> None:
    # given
    calls = [t for t in DEFAULT_PROGRAM if t.channel == "call"]
    en = ("Greeting:", "Purpose:", "Ask:", "Record:", "Close:")
    ru = ("Приветствие:", "Цель:", "Вопросы:", "Зафиксировать:", "Завершение:")
    # when
    missing = [
        t.code
        for t in calls
        if not all(h in t.script_en for h in en) or not all(h in t.script_ru for h in ru)
    ]
    # then
    assert len(calls) == 18
    assert missing == []


def test_every_call_script_asks_for_the_mileage_in_both_languages() -> None:
    # PROGRAM.md version 2: the first maintenance after a sale can only be timed well from a real reading
    calls = [t for t in DEFAULT_PROGRAM if t.channel == "call"]
    silent = [
        t.code
        for t in calls
        if not re.search(r"odometer|kilomet|mileage", t.script_en, re.I)
        or not re.search(r"одометр|пробег", t.script_ru, re.I)
    ]
    assert silent == []


def test_message_bodies_are_short() -> None:
    # given
    messages = [t for t in DEFAULT_PROGRAM if t.channel != "call"]
    # when
    longest_sms = max(len(s) for t in messages if t.channel == "sms" for s in (t.script_en, t.script_ru))
    longest_email = max(len(s) for t in messages if t.channel == "email" for s in (t.script_en, t.script_ru))
    # then
    assert len(messages) == 6
    assert longest_sms <= 300
    assert longest_email <= 600


# ------------------------------------------------------------------------------ properties

_days = st.integers(min_value=0, max_value=9 * 365)
_EPOCH = D(2018, 1, 1)


@st.composite
def vehicle_facts(draw: st.DrawFn) -> VehicleFacts:
    def day() -> date:
        return _EPOCH + timedelta(days=draw(_days))

    def maybe_day() -> date | None:
        return draw(st.none() | st.builds(lambda n: _EPOCH + timedelta(days=n), _days))

    sales = tuple(
        SaleFact(day(), draw(st.sampled_from(["new", "used", "trade_in"])), draw(st.integers(0, 150_000)))
        for _ in range(draw(st.integers(1, 3)))
    )
    return VehicleFacts(
        vehicle_id=1,
        customer_id=1,
        sales=sales,
        today=day(),
        birthday=draw(st.none() | st.dates(min_value=D(1940, 1, 1), max_value=D(2005, 12, 31))),
        warranty_months=draw(st.none() | st.integers(1, 84)),
        warranty_km=draw(st.none() | st.integers(1, 200_000)),
        km_per_month=draw(st.none() | st.floats(min_value=50, max_value=10_000)),
        maintenance_due_dates=tuple(day() for _ in range(draw(st.integers(0, 5)))),
        maintenance_visits=tuple(day() for _ in range(draw(st.integers(0, 6)))),
        maintenance_booked_on=maybe_day(),
        last_reached_contact_on=maybe_day(),
        last_visit_on=maybe_day(),
        traded_in_on=maybe_day(),
        insurance_renews_on=maybe_day(),
        season_dates=draw(st.none() | st.just(((4, 1), (11, 1)))),
    )


@settings(max_examples=examples(300), deadline=None)
@given(vehicle_facts(), st.randoms(use_true_random=False))
def test_plan_is_deterministic_and_independent_of_template_order(
    facts: VehicleFacts, rnd: random.Random
) -> None:
    # given
    shuffled = list(DEFAULT_PROGRAM)
    rnd.shuffle(shuffled)
    # when
    first = plan_vehicle(DEFAULT_PROGRAM, facts)
    second = plan_vehicle(shuffled, facts)
    # then
    assert first == second


@settings(max_examples=examples(300), deadline=None)
@given(vehicle_facts())
def test_every_touchpoint_lies_inside_its_window_and_the_plan_is_sorted(facts: VehicleFacts) -> None:
    # given / when
    plan = plan_vehicle(DEFAULT_PROGRAM, facts)
    # then
    assert all(tp.window_start <= tp.due_on <= tp.window_end for tp in plan)
    keys = [(tp.due_on, tp.priority, tp.code, tp.occurrence) for tp in plan]
    assert keys == sorted(keys)


@settings(max_examples=examples(300), deadline=None)
@given(vehicle_facts())
def test_no_two_touchpoints_share_a_natural_key(facts: VehicleFacts) -> None:
    # given / when
    plan = plan_vehicle(DEFAULT_PROGRAM, facts)
    # then
    keys = [(tp.code, tp.cycle_start, tp.occurrence) for tp in plan]
    assert len(keys) == len(set(keys))


@settings(max_examples=examples(300), deadline=None)
@given(vehicle_facts())
def test_in_cycle_touchpoints_lie_within_the_cycle_and_nothing_follows_a_trade_in(
    facts: VehicleFacts,
) -> None:
    # given
    sale = cycle_sale(facts)
    assert sale is not None
    cycle_end = add_months(sale.sold_on, 36)
    # when
    plan = plan_vehicle(DEFAULT_PROGRAM, facts)
    # then
    assert all(tp.cycle_start == sale.sold_on for tp in plan)
    assert all(sale.sold_on <= tp.due_on < cycle_end for tp in plan if tp.phase == "cycle")
    assert all(tp.due_on >= cycle_end for tp in plan if tp.phase == "after_cycle")
    if facts.traded_in_on is not None and facts.traded_in_on >= sale.sold_on:
        assert all(tp.due_on < facts.traded_in_on for tp in plan)
    assert all(
        tp.due_on < add_months(max(facts.today, sale.sold_on), 12) or tp.phase == "cycle" for tp in plan
    )


@settings(max_examples=examples(200), deadline=None)
@given(vehicle_facts(), st.integers(min_value=0, max_value=2000))
def test_horizon_end_only_removes_touchpoints_on_or_after_it(facts: VehicleFacts, days: int) -> None:
    # given
    horizon = facts.today + timedelta(days=days)
    # when
    full = plan_vehicle(DEFAULT_PROGRAM, facts, horizon_end=D(2100, 1, 1))
    capped = plan_vehicle(DEFAULT_PROGRAM, facts, horizon_end=horizon)
    # then
    assert all(tp.due_on < horizon for tp in capped)
    in_cycle_full = [tp for tp in full if tp.phase == "cycle" and tp.due_on < horizon]
    assert [tp for tp in capped if tp.phase == "cycle"] == in_cycle_full


@settings(max_examples=examples(200), deadline=None)
@given(vehicle_facts())
def test_in_cycle_scheduled_touchpoints_do_not_depend_on_today(facts: VehicleFacts) -> None:
    # given: the same facts planned a day later (the cycle sale unchanged)
    later = dataclasses.replace(facts, today=facts.today + timedelta(days=1))
    assume_same_cycle = cycle_sale(facts) == cycle_sale(later)
    # when
    now_plan = plan_vehicle(DEFAULT_PROGRAM, facts)
    later_plan = plan_vehicle(DEFAULT_PROGRAM, later)
    # then
    if assume_same_cycle:

        def scheduled(plan: list[PlannedTouchpoint]) -> list[tuple[str, int, date]]:
            return _triples([tp for tp in plan if tp.phase == "cycle" and tp.code not in CONDITIONAL_CODES])

        assert scheduled(now_plan) == scheduled(later_plan)


def test_planned_touchpoints_are_ordinary_frozen_dataclass_instances() -> None:
    # given
    tp = plan_vehicle(DEFAULT_PROGRAM, reference_vehicle_facts())[0]
    # when
    rebuilt = PlannedTouchpoint(
        **{f.name: getattr(tp, f.name) for f in dataclasses.fields(PlannedTouchpoint)}
    )
    # then
    assert type(tp) is PlannedTouchpoint
    assert tp == rebuilt
    assert hash(tp) == hash(rebuilt)
    assert pickle.loads(pickle.dumps(tp)) == tp
    assert dataclasses.replace(tp, occurrence=2).occurrence == 2
    assert tp.key == (1, "thank_you", D(2025, 1, 15), 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        tp.code = "other"  # type: ignore[misc]
