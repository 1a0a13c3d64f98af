"""``plan_valid_until``: from ``today`` up to the day before it, the same facts plan the same touchpoints."""

from __future__ import annotations

import dataclasses
import random
from datetime import date, timedelta

from contacts.core.plan_engine import (
    CONDITIONAL_ANCHORS,
    SaleFact,
    VehicleFacts,
    plan_valid_until,
    plan_vehicle,
)
from contacts.core.program import DEFAULT_PROGRAM


def _facts(rng: random.Random) -> VehicleFacts:
    today = date(2026, 1, 1) + timedelta(days=rng.randint(0, 365))
    sold_on = today - timedelta(days=rng.randint(-30, 1900))
    kind = rng.choice(["new", "new", "used"])
    dues = tuple(sorted({sold_on + timedelta(days=rng.randint(150, 400) * k) for k in range(1, 6)}))
    visits = tuple(sorted({d + timedelta(days=rng.randint(-40, 40)) for d in dues if rng.random() < 0.6}))
    ahead = today + timedelta(days=rng.randint(1, 40))
    return VehicleFacts(
        vehicle_id=1, customer_id=1, sales=(SaleFact(sold_on, kind, 0 if kind == "new" else 30_000),), today=today,
        birthday=date(1980, rng.randint(1, 12), rng.randint(1, 28)) if rng.random() < 0.7 else None,
        km_per_month=rng.uniform(400, 2500), maintenance_due_dates=dues,
        maintenance_due_drivers=tuple(rng.choice(["km", "time"]) for _ in dues), maintenance_visits=visits,
        maintenance_booked_on=ahead if rng.random() < 0.15 else None,
        last_reached_contact_on=today - timedelta(days=rng.randint(0, 500)) if rng.random() < 0.6 else None,
        last_visit_on=max(visits) if visits and rng.random() < 0.8 else None,
        traded_in_on=today - timedelta(days=rng.randint(0, 200)) if rng.random() < 0.05 else None,
    )


def test_the_plan_is_the_same_every_day_until_its_validity_ends() -> None:
    rng = random.Random(3)
    checked = 0
    lengths = []
    for _ in range(300):
        facts = _facts(rng)
        planned = plan_vehicle(DEFAULT_PROGRAM, facts)
        until = plan_valid_until(DEFAULT_PROGRAM, facts, planned)
        assert until > facts.today
        lengths.append(min((until - facts.today).days, 400))
        for offset in range(1, min(120, (until - facts.today).days)):
            later = dataclasses.replace(facts, today=facts.today + timedelta(days=offset))
            assert plan_vehicle(DEFAULT_PROGRAM, later) == planned, (facts, offset)
            checked += 1
    assert checked > 5_000
    assert sorted(lengths)[len(lengths) // 2] > 14  # the median plan stays valid for weeks


_CONDITIONAL_CODES = {t.code for t in DEFAULT_PROGRAM if t.anchor in CONDITIONAL_ANCHORS}


def _stored(facts: VehicleFacts, planned) -> VehicleFacts:
    """The facts of the next re-plan: the conditional touchpoints written, with the day each was planned for."""
    return dataclasses.replace(facts, conditional_planned_on=tuple(
        (tp.code, tp.cycle_start, tp.occurrence, tp.due_on) for tp in planned if tp.code in _CONDITIONAL_CODES
    ))


def test_a_stored_conditional_touchpoint_keeps_its_day_and_the_plan_stays_valid_for_weeks() -> None:
    rng = random.Random(8)
    checked = 0
    one_day = moved = 0
    for _ in range(300):
        facts = _facts(rng)
        first = plan_vehicle(DEFAULT_PROGRAM, facts)
        stored = _stored(facts, first)
        planned = plan_vehicle(DEFAULT_PROGRAM, stored)
        assert planned == first  # storing what was planned changes nothing that night
        until = plan_valid_until(DEFAULT_PROGRAM, stored, planned)
        one_day += until == facts.today + timedelta(days=1)
        for offset in range(1, min(120, (until - facts.today).days)):
            later = dataclasses.replace(stored, today=facts.today + timedelta(days=offset))
            assert plan_vehicle(DEFAULT_PROGRAM, later) == planned, (stored, offset)
            checked += 1
        # a day later, what was not stored moves on; what was keeps its day
        tomorrow = dataclasses.replace(stored, today=facts.today + timedelta(days=1))
        for tp in plan_vehicle(DEFAULT_PROGRAM, tomorrow):
            if tp.code in _CONDITIONAL_CODES and tp.due_on <= facts.today:
                assert (tp.code, tp.cycle_start, tp.occurrence, tp.due_on) in stored.conditional_planned_on
                moved += 1
    assert checked > 8_000
    assert moved > 20  # the sample has conditional touchpoints that kept their day
    assert one_day < 300 * 0.05  # without the stored days over a third of plans last one day


def test_a_keep_alive_waits_while_a_stored_missed_maintenance_call_is_still_open() -> None:
    # given: a car whose maintenance was due 40 days ago (no visit), its missed-maintenance call stored
    # for its threshold 10 days ago, and nobody reached for 11 months and 5 days
    today = date(2026, 6, 1)
    facts = VehicleFacts(
        vehicle_id=1, customer_id=1, sales=(SaleFact(date(2024, 6, 1), "new", 0),), today=today,
        km_per_month=1500, maintenance_due_dates=(today - timedelta(days=40),), maintenance_due_drivers=("km",),
        last_reached_contact_on=date(2025, 6, 27),
    )
    missed = next(tp for tp in plan_vehicle(DEFAULT_PROGRAM, facts) if tp.code == "missed_service")
    stored = dataclasses.replace(facts, conditional_planned_on=(
        (missed.code, missed.cycle_start, missed.occurrence, today - timedelta(days=10)),))

    def codes_on(day: date) -> set[str]:
        return {tp.code for tp in plan_vehicle(DEFAULT_PROGRAM, dataclasses.replace(stored, today=day))
                if tp.due_on >= day - timedelta(days=14)}

    # then: while the stored call's window is open, no keep-alive; the day after it closes, the keep-alive
    window_end = today - timedelta(days=10) + timedelta(days=14)
    assert "missed_service" in codes_on(today) and "keep_alive" not in codes_on(today)
    assert "keep_alive" not in codes_on(window_end)
    assert "keep_alive" in codes_on(window_end + timedelta(days=1))
