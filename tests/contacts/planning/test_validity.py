"""The nightly sweep that skips vehicles whose plan is still valid plans exactly what re-planning every
vehicle every night plans: the same touchpoints and forecasts, day by day, over 70 days under
time-machine, with facts dated ahead coming into view and facts changed mid-way."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import time_machine
from django.core.cache import cache

from contacts.models import PlanFingerprint, Touchpoint
from contacts.planning.sweep import replan_isolating_failures
from customers.forecasting import PRIORS_CACHE_KEY, STORED_FIELDS
from customers.models import ForecastSnapshot, OdometerReading, ServiceVisit, Vehicle, VehicleForecast
from tests import factories

pytestmark = pytest.mark.django_db

FIRST_NIGHT = dt.date(2025, 12, 1)
NIGHTS = 70
CHANGE_NIGHT = 30  # facts change mid-way, without anything asking for a re-plan: the sweep must see it


def _fleet(moscow) -> list[int]:
    """Cars of every age: in their first weeks, mid-cycle, past the cycle, lapsed, used, with facts
    dated after the first night."""
    rng = random.Random(17)
    ids = []
    for n in range(36):
        sold_on = FIRST_NIGHT - dt.timedelta(days=rng.choice([10, 40, 200, 330, 365, 700, 1000, 1090, 1300, 1600]) + n)
        kind = "used" if n % 5 == 0 else "new"
        sale = factories.SaleFactory(
            vehicle__owner__dealership=moscow, sold_on=sold_on, kind=kind, odometer_km=0 if kind == "new" else 40_000,
            vehicle__owner__birthday=None if n % 4 == 0 else dt.date(1980, 1 + n % 12, 1 + n % 28),
        )
        vehicle = sale.vehicle
        km = 0 if kind == "new" else 40_000
        day = sold_on
        lapsed = n % 7 == 3  # no visit since the sale
        while not lapsed:
            day += dt.timedelta(days=rng.randint(250, 420))
            km += rng.randint(8_000, 18_000)
            if day > FIRST_NIGHT + dt.timedelta(days=40):
                break
            if day <= FIRST_NIGHT or n % 6 == 1:  # some visits are dated after the first night
                factories.ServiceVisitFactory(vehicle=vehicle, visited_on=day, odometer_km=km)
        for _ in range(rng.randint(0, 3)):
            read_on = sold_on + dt.timedelta(days=rng.randint(20, max(21, (FIRST_NIGHT - sold_on).days + 25)))
            age_months = (read_on - sold_on).days / 30.4
            factories.OdometerReadingFactory(
                vehicle=vehicle, read_on=read_on, odometer_km=(0 if kind == "new" else 40_000) + int(age_months * 1200)
            )
        ids.append(vehicle.id)
    return ids


def _change_facts(ids: list[int], night: dt.date) -> None:
    for vehicle_id in ids[2:5]:
        factories.ServiceVisitFactory(vehicle_id=vehicle_id, dealership_id=Vehicle.objects.get(id=vehicle_id).dealership_id,
                                      visited_on=night - dt.timedelta(days=1), odometer_km=200_000)
    for vehicle_id in ids[10:12]:
        OdometerReading.objects.create(vehicle_id=vehicle_id, read_on=night, odometer_km=150_000, source="call")
    Vehicle.objects.filter(id=ids[20]).update(is_active=False)


def _undo_change(ids: list[int], night: dt.date) -> None:
    ServiceVisit.objects.filter(vehicle_id__in=ids[2:5], visited_on=night - dt.timedelta(days=1)).delete()
    OdometerReading.objects.filter(vehicle_id__in=ids[10:12], read_on=night, source="call").delete()
    Vehicle.objects.filter(id=ids[20]).update(is_active=True)


def _state() -> tuple[list[tuple], list[tuple]]:
    touchpoints = sorted(Touchpoint.objects.values_list(
        "vehicle_id", "customer_id", "template_id", "cycle_start", "occurrence", "due_on", "window_start",
        "window_end", "status", "reason", "reason_detail", "resolution",
    ), key=repr)
    forecasts = sorted(
        # the readings added mid-way are added again for the second run, under new ids
        ((*row[:-1], [{**flag, "reading_id": None} for flag in row[-1]])
         for row in VehicleForecast.objects.values_list("vehicle_id", *STORED_FIELDS)),
        key=repr,
    )
    return touchpoints, forecasts


def _run(ids: list[int], *, force: bool) -> tuple[list[tuple[list[tuple], list[tuple]]], int]:
    """Every night's state after the sweep, and how many vehicles were computed in all."""
    states = []
    computed = 0
    for n in range(NIGHTS):
        night = FIRST_NIGHT + dt.timedelta(days=n)
        if n == CHANGE_NIGHT:
            _change_facts(ids, night)
        with time_machine.travel(dt.datetime.combine(night, dt.time(0, 30), tzinfo=dt.UTC), tick=False):
            result = replan_isolating_failures(vehicle_ids=ids, force=force)
        computed += result.vehicles - result.skipped
        states.append(_state())
    return states, computed


def test_skipping_valid_vehicles_plans_exactly_what_a_full_replan_plans_every_night(moscow):
    # given
    cache.delete(PRIORS_CACHE_KEY)
    ids = _fleet(moscow)
    # when: the sweep as it runs, skipping unchanged vehicles whose plan is still valid
    skipping, computed = _run(ids, force=False)
    # and: every vehicle re-planned every night, from the same facts
    _undo_change(ids, FIRST_NIGHT + dt.timedelta(days=CHANGE_NIGHT))
    for model in (Touchpoint, PlanFingerprint, ForecastSnapshot, VehicleForecast):
        model.objects.all().delete()
    cache.delete(PRIORS_CACHE_KEY)  # the priors are computed from the stored forecasts
    full, _ = _run(ids, force=True)
    # then: the same touchpoints and forecasts, night by night
    for n, (skipped_state, full_state) in enumerate(zip(skipping, full, strict=True)):
        assert skipped_state[0] == full_state[0], f"touchpoints differ on night {n}"
        assert skipped_state[1] == full_state[1], f"forecasts differ on night {n}"
    assert len(full[-1][0]) > 500
    # and: most vehicle-nights were skipped
    assert computed < 0.25 * NIGHTS * len(ids), computed


def test_a_missed_maintenance_or_reactivation_call_keeps_the_day_it_was_first_planned_for(moscow):
    # given: the fleet, with lapsed cars and missed maintenances
    cache.delete(PRIORS_CACHE_KEY)
    ids = _fleet(moscow)
    conditional = Touchpoint.objects.filter(template__anchor__in=("missed_maintenance", "lapsed", "keep_alive"))
    first_day: dict[tuple[int, str], dt.date] = {}
    recomputed = []
    # when: 20 nights of the sweep, nobody calling
    for n in range(20):
        night = FIRST_NIGHT + dt.timedelta(days=n)
        with time_machine.travel(dt.datetime.combine(night, dt.time(0, 30), tzinfo=dt.UTC), tick=False):
            result = replan_isolating_failures(vehicle_ids=ids, force=False)
        recomputed.append(result.vehicles - result.skipped)
        # then: every conditional touchpoint keeps the day it was first planned for, while its reason
        # (which names the missed due date or the last contact) stays: a forecast that moves the missed
        # due date moves its threshold, and the touchpoint with it
        for tp_id, due_on, reason in conditional.filter(status=Touchpoint.Status.PLANNED).values_list(
            "id", "due_on", "reason"
        ):
            assert first_day.setdefault((tp_id, reason), due_on) == due_on, f"night {n}: touchpoint {tp_id} moved"
    assert len(first_day) >= 5
    # and: from the third night on, the lapsed cars are no longer re-planned every night
    assert max(recomputed[2:]) < len(ids) // 4, str(recomputed)
