"""Hypothesis properties of ``plan_vehicle`` (contacts/core/plan_engine/): deterministic, inside windows,
sorted, unique natural keys, inside the cycle, the horizon, independent of today. No database, no Django."""

from __future__ import annotations

import dataclasses
import random
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from contacts.core.plan_engine import (
    PlannedTouchpoint,
    SaleFact,
    VehicleFacts,
    cycle_sale,
    plan_vehicle,
)
from contacts.core.program import (
    CONDITIONAL_CODES,
    DEFAULT_PROGRAM,
)
from customers.core.calendar import add_months
from tests.contacts.core.plan_engine.helpers import D, _triples
from tests.strength import examples

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
