"""The maintenance visits' stored forecast errors (what the customer's habit is read from) stay equal to
a full recomputation night after night, under time-machine, while visits arrive late or early, a
reading dated before the earlier visits comes in, and a visit is deleted: the re-plan replays a visit
only when it is new or a fact before it changed, and plans exactly what replaying every visit plans."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import time_machine
from django.core.cache import cache

from contacts.planning.facts import load_facts
from contacts.planning.sweep import replan_isolating_failures
from customers.core import forecast
from customers.core.readings import Reading
from customers.forecasting import (
    PRIORS_CACHE_KEY,
    interval_for,
    mileage_priors,
    prior_for,
    schedules,
    seasonal_profiles,
)
from customers.models import OdometerReading, ServiceVisit, Vehicle, VehicleForecast
from tests import factories

pytestmark = pytest.mark.django_db

FIRST_NIGHT = dt.date(2025, 6, 1)
NIGHTS = 45


def _fleet(moscow) -> tuple[list[int], list[tuple[int, dt.date, int]]]:
    """Cars with a few visits behind them, each customer habitually late or early; and the visits still
    to come (vehicle id, day, km), each to be entered on the night after it."""
    rng = random.Random(3)
    ids, coming = [], []
    for n in range(10):
        rate = rng.uniform(900, 2_500)  # km a month
        late = [35, -20, 25, 0][n % 4]
        sold_on = FIRST_NIGHT - dt.timedelta(days=rng.randint(900, 1_400))
        vehicle = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=sold_on, odometer_km=0).vehicle
        day = sold_on
        while True:
            due_days = min(365.0, 15_000 / rate * 30.4375)
            day += dt.timedelta(days=round(due_days) + late + rng.randint(-4, 4))
            km = round(rate * (day - sold_on).days / 30.4375)
            if day >= FIRST_NIGHT + dt.timedelta(days=NIGHTS - 2):
                break
            if day < FIRST_NIGHT:
                factories.ServiceVisitFactory(vehicle=vehicle, visited_on=day, odometer_km=km)
            else:
                coming.append((vehicle.id, day, km))
        # due within the nights: its visit arrives during the test
        day = FIRST_NIGHT + dt.timedelta(days=rng.randint(3, NIGHTS - 5))
        coming.append((vehicle.id, day, round(rate * (day - sold_on).days / 30.4375)))
        ids.append(vehicle.id)
    return ids, coming


def _stored() -> dict[int, tuple[int | None, int | None]]:
    return {
        pk: (stamp, error)
        for pk, stamp, error in ServiceVisit.objects.values_list("id", "habit_error_stamp", "habit_error_days")
    }


def _recomputed(ids: list[int], today: dt.date) -> tuple[dict[int, tuple[int, int | None]], dict[int, dt.date]]:
    """Every past maintenance visit's error replayed from scratch, and each car's due day so computed."""
    facts = load_facts(ids)
    table, priors, profiles = schedules(), mileage_priors(), seasonal_profiles()
    errors: dict[int, tuple[int, int | None]] = {}
    due: dict[int, dt.date] = {}
    for vehicle in facts.vehicles:
        result = forecast.forecast_vehicle(
            readings=[Reading(day, km, pk) for pk, day, km in facts.readings[vehicle.id]],
            sales=facts.sales[vehicle.id], maintenance=facts.maintenance(vehicle.id),
            interval=interval_for(vehicle, table), prior_km_per_month=prior_for(vehicle, priors, sales=facts.sales[vehicle.id], today=today),
            today=today, seasonality=profiles.get(vehicle.dealership_id),
        )
        assert result is not None
        due[vehicle.id] = result.due.due_on
        by_key = {(e.visited_on, e.odometer_km): (e.stamp, e.error_days) for e in result.habit_errors}
        for pk, day, km, _stamp, _error in facts.habit_errors[vehicle.id]:
            if day <= today:
                errors[pk] = by_key[(day, km)]
    return errors, due


def test_stored_visit_errors_equal_a_full_recomputation_every_night(moscow):
    # given
    cache.delete(PRIORS_CACHE_KEY)
    ids, coming = _fleet(moscow)
    replayed_again = 0
    for n in range(NIGHTS):
        night = FIRST_NIGHT + dt.timedelta(days=n)
        for vehicle_id, day, km in coming:  # a visit is entered the night after it
            if day == night - dt.timedelta(days=1):
                factories.ServiceVisitFactory(
                    vehicle_id=vehicle_id, dealership_id=Vehicle.objects.get(id=vehicle_id).dealership_id,
                    visited_on=day, odometer_km=km,
                )
        if n == 15:  # a call's reading entered late, dated between two earlier visits (the car drove faster)
            for vehicle_id in ids[:3]:
                (prev_on, prev_km), (last_on, last_km) = ServiceVisit.objects.filter(
                    vehicle_id=vehicle_id, visited_on__lt=night).order_by("-visited_on").values_list(
                    "visited_on", "odometer_km")[:2][::-1]
                OdometerReading.objects.create(
                    vehicle_id=vehicle_id, read_on=prev_on + (last_on - prev_on) / 2,
                    odometer_km=prev_km + round(0.8 * (last_km - prev_km)), source="call",
                )
        if n == 30:  # a visit deleted: the errors of the visits after it change
            ServiceVisit.objects.filter(vehicle_id=ids[4]).order_by("visited_on").first().delete()
        before = _stored()
        # when: the nightly sweep
        with time_machine.travel(dt.datetime.combine(night, dt.time(0, 30), tzinfo=dt.UTC), tick=False):
            replan_isolating_failures(vehicle_ids=ids)
            expected, due = _recomputed(ids, night)
        after = _stored()
        # then: every past maintenance visit's stored error is the one a full replay gives
        assert {pk: after[pk] for pk in expected} == expected, f"night {n}"
        # and: the forecast planned from them is the one replaying every visit gives
        assert dict(VehicleForecast.objects.filter(vehicle_id__in=ids).values_list("vehicle_id", "next_due_on")) == due
        replayed_again += sum(1 for pk in expected if pk in before and before[pk] != after[pk])
    # and: the late reading and the deleted visit did make stored errors change (not only new visits)
    assert replayed_again >= 3
    assert sum(1 for _stamp, error in _stored().values() if error is not None) > 40


def test_the_copy_path_stores_the_errors_the_orm_path_stores(moscow, monkeypatch):
    """On PostgreSQL many changed errors go through COPY (customers.bulk.update): the same values."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    from customers import bulk

    cache.delete(PRIORS_CACHE_KEY)
    ids, _coming = _fleet(moscow)
    results = []
    for threshold in (1, 10**9):
        monkeypatch.setattr(bulk, "COPY_THRESHOLD", threshold)
        ServiceVisit.objects.update(habit_error_stamp=None, habit_error_days=None)
        VehicleForecast.objects.all().delete()
        with time_machine.travel(dt.datetime.combine(FIRST_NIGHT, dt.time(0, 30), tzinfo=dt.UTC), tick=False):
            replan_isolating_failures(vehicle_ids=ids, force=True)
        results.append(_stored())
    assert results[0] == results[1]
    assert sum(1 for _stamp, error in results[0].values() if error is not None) > 20
