"""The mileage priors: learned from the facts, counted once for all workers, in the database on PostgreSQL,
the same figures as the pure core's."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import time_machine
from django.core.cache import cache

from customers import forecasting
from customers.core import priors as priors_core
from customers.models import VehicleForecast
from tests import factories

pytestmark = pytest.mark.django_db


TODAY = dt.date(2026, 11, 20)


def _car(dealership, model: str, kind: str, rate: float, rng: random.Random, *, days: int = 400):
    """A car sold ``days`` ago (new at 0 km, or used at some km) driving ``rate`` km a month, with a
    maintenance visit, a call and a same-day duplicate; returns its facts as the pure core reads them."""
    vehicle = factories.VehicleFactory(owner__dealership=dealership, make="Kia", model=model)
    sold_on = TODAY - dt.timedelta(days=days)
    sale_km = 0 if kind == "new" else rng.randint(20_000, 90_000)
    factories.SaleFactory(vehicle=vehicle, sold_on=sold_on, kind=kind, odometer_km=sale_km)
    facts = [(sold_on, sale_km)]
    for step in range(1, 4):
        day = sold_on + dt.timedelta(days=days * step // 4 + rng.randint(-5, 5))
        km = sale_km + round(rate * (day - sold_on).days / 30.4375 * rng.uniform(0.9, 1.1))
        if step == 2:
            factories.ServiceVisitFactory(vehicle=vehicle, visited_on=day, odometer_km=km, kind="maintenance")
        else:
            factories.OdometerReadingFactory(vehicle=vehicle, read_on=day, odometer_km=km, source="call")
        facts.append((day, km))
    return vehicle, facts


@time_machine.travel(dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC), tick=False)
def test_the_priors_are_learned_from_the_facts_the_same_whichever_way_they_are_counted(moscow, yekaterinburg):
    # given: two dealerships, three models, new and used cars, odd and even group sizes, a group below
    # the minimum, a car seen for too short a time (not counted), typos, and a reading years ahead
    rng = random.Random(7)
    rows = []
    for dealership, model, kind, cars in [(moscow, "Rio", "new", 7), (moscow, "Rio", "used", 6),
                                          (moscow, "Sportage", "new", 6), (yekaterinburg, "Rio", "new", 5),
                                          (yekaterinburg, "Ceed", "used", 3)]:
        for _ in range(cars):
            vehicle, facts = _car(dealership, model, kind, rng.uniform(600, 3000), rng)
            rows.append((dealership.id, "Kia", model, kind, priors_core.car_rate(facts)))
    _car(moscow, "Rio", "new", 50_000, rng, days=40)  # under 60 days of facts: not counted
    typo = factories.OdometerReadingFactory(vehicle=vehicle, read_on=TODAY - dt.timedelta(days=3), odometer_km=999_999)
    rows[-1] = (*rows[-1][:4], priors_core.car_rate([*facts, (typo.read_on, typo.odometer_km)]))
    factories.OdometerReadingFactory(vehicle=vehicle, read_on=dt.date(9999, 12, 31), odometer_km=5)  # not today's
    factories.OdometerReadingFactory(vehicle=vehicle, read_on=facts[1][0], odometer_km=facts[1][1] + 400)  # same day
    cache.clear()
    # when
    priors = forecasting.mileage_priors(refresh=True)
    # then: what the pure core computes from the same facts (and, on PostgreSQL, the database's figures)
    assert priors == priors_core.median_priors(rows)
    assert forecasting._priors_streamed(TODAY) == priors  # SQLite's way, a vehicle at a time, on either database
    assert f"{moscow.id}|Kia|Rio|new" in priors and f"{moscow.id}|Kia|Rio|used" in priors
    assert f"{yekaterinburg.id}|Kia|Ceed|used" not in priors and f"{yekaterinburg.id}|used" not in priors
    assert f"{yekaterinburg.id}|new" in priors and f"{yekaterinburg.id}" in priors
    assert priors[f"{moscow.id}|Kia|Rio|new"] < 3_000  # the car at 50,000 km a month was not counted


def test_a_fresh_database_plans_its_first_night_with_the_priors_of_its_facts(moscow):
    # given: no forecast stored yet, five cars whose facts say 2,000 km a month
    rng = random.Random(3)
    for _ in range(5):
        _car(moscow, "Rio", "new", 2_000, rng)
    cache.clear()
    # when
    with time_machine.travel(dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC), tick=False):
        priors = forecasting.mileage_priors(refresh=True)
    # then: the first night already knows the model's rate (until 2026-12-02 it had none: 1,250 km)
    assert 1_800 <= priors[f"{moscow.id}|Kia|Rio|new"] <= 2_200
    assert VehicleForecast.objects.count() == 0


def test_a_process_that_finds_another_computing_the_priors_waits_for_its_result(monkeypatch):
    # given: another worker holds the lock and stores its result while this one waits
    cache.clear()
    cache.add(forecasting.PRIORS_LOCK_KEY, 1, 60)
    sleeps = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:
            cache.set(forecasting.PRIORS_CACHE_KEY, {"1": 1250.0}, 60)

    monkeypatch.setattr(forecasting.time, "sleep", sleep)
    # when
    priors = forecasting.mileage_priors()
    # then: it took the other worker's figures instead of reading the fleet itself
    assert priors == {"1": 1250.0}
    assert len(sleeps) == 3
    cache.clear()


def test_a_process_that_finds_another_computing_the_priors_plans_with_those_in_use_meanwhile(monkeypatch):
    # given: another worker holds the lock (a computation of minutes on a large fleet), last night's
    # priors are in use
    cache.clear()
    cache.add(forecasting.PRIORS_LOCK_KEY, 1, 60)
    cache.set(forecasting.PRIORS_IN_USE_KEY, {"1": 1300.0}, None)
    sleeps = []
    monkeypatch.setattr(forecasting.time, "sleep", sleeps.append)
    # when
    priors = forecasting.mileage_priors()
    # then: those, at once, without reading the fleet or waiting
    assert priors == {"1": 1300.0}
    assert sleeps == []
    cache.clear()


def test_a_prior_moves_only_when_its_median_really_moves():
    from customers.core.priors import PRIOR_SETTLE_KM, settled_priors

    previous = {"1|kia|rio": 1200.0, "1": 1300.0}
    new = {"1|kia|rio": 1250.0, "1": 1300.0 + PRIOR_SETTLE_KM, "2": 900.0}
    assert settled_priors(new, previous) == {"1|kia|rio": 1200.0, "1": 1400.0, "2": 900.0}
    assert settled_priors(new, None) == new
