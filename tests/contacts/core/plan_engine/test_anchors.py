"""One planner per anchor (contacts/core/plan_engine/anchors.py): every anchor and recurrence, and the
conditional touchpoints (missed maintenance, lapsed, keep-alive). No database, no Django."""

from __future__ import annotations

import dataclasses

from contacts.core.plan_engine import (
    SaleFact,
    plan_vehicle,
    warranty_end,
)
from contacts.core.program import (
    TEMPLATES_BY_CODE,
)
from tests.contacts.core.plan_engine.helpers import D, _codes, _facts, _tpl, _triples


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


def test_a_new_reading_that_adds_a_miss_keeps_the_car_on_its_one_missed_service() -> None:
    # given: the call about TO-1's miss is stored (here done); a later reading moves TO-2's due date so
    # that it is missed too (found by the simulator: the car was called twice about its maintenance)
    facts = _facts(
        today=D(2026, 11, 22), maintenance_due_dates=(D(2026, 1, 18), D(2026, 7, 18)),
        last_reached_contact_on=D(2025, 12, 1),
        conditional_planned_on=(("missed_service", D(2025, 1, 15), 1, D(2026, 3, 1)),),
    )
    # when
    plan = plan_vehicle([TEMPLATES_BY_CODE["missed_service"]], facts)
    # then: still the one touchpoint of TO-1 (its key and day), telling both misses
    assert [(tp.code, tp.occurrence, tp.due_on) for tp in plan] == [("missed_service", 1, D(2026, 3, 1))]
    assert plan[0].reason_detail["missed_numbers"] == "1,2"


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
