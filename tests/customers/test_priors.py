"""The mileage priors: counted once for all workers, in the database on PostgreSQL, the same figures
as the pure core's medians."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.core.cache import cache

from customers import forecasting
from customers.core import priors as priors_core
from customers.models import VehicleForecast
from tests import factories

pytestmark = pytest.mark.django_db


def _forecast(vehicle, km_per_month: float, source: str = "readings") -> VehicleForecast:
    day = dt.date(2026, 11, 1)
    return VehicleForecast.objects.create(
        vehicle=vehicle, computed_on=day, km_per_month=km_per_month, km_per_month_low=km_per_month,
        km_per_month_high=km_per_month, source=source, odometer_km=10_000, odometer_on=day, next_due_on=day,
        due_earliest_on=day, due_latest_on=day, due_driver="km", due_odometer_km=15_000, interval_number=1,
    )


def test_the_priors_are_the_medians_of_well_observed_cars_whichever_way_they_are_counted(moscow, yekaterinburg):
    # given: two dealerships, three models, odd and even group sizes, one group below the minimum,
    # and cars whose rate is only the prior (not counted)
    rng = random.Random(7)
    rows = []
    for dealership, model, cars in [(moscow, "Rio", 7), (moscow, "Sportage", 6), (yekaterinburg, "Rio", 5),
                                    (yekaterinburg, "Ceed", 3)]:
        for _ in range(cars):
            vehicle = factories.VehicleFactory(owner__dealership=dealership, make="Kia", model=model)
            rate = rng.uniform(600, 3000)
            _forecast(vehicle, rate)
            rows.append((dealership.id, "Kia", model, rate))
    _forecast(factories.VehicleFactory(owner__dealership=moscow, make="Kia", model="Rio"), 99_000, source="prior")
    cache.clear()
    # when
    priors = forecasting.mileage_priors(refresh=True)
    # then: what the pure core computes from the same cars (and, on PostgreSQL, the database's medians)
    assert priors == priors_core.median_priors(rows)
    assert forecasting._priors_streamed() == priors  # SQLite's way, in bounded memory, on either database
    assert f"{yekaterinburg.id}|Kia|Ceed" not in priors and f"{yekaterinburg.id}" in priors


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


def test_a_prior_moves_only_when_its_median_really_moves():
    from customers.core.priors import PRIOR_SETTLE_KM, settled_priors

    previous = {"1|kia|rio": 1200.0, "1": 1300.0}
    new = {"1|kia|rio": 1250.0, "1": 1300.0 + PRIOR_SETTLE_KM, "2": 900.0}
    assert settled_priors(new, previous) == {"1|kia|rio": 1200.0, "1": 1400.0, "2": 900.0}
    assert settled_priors(new, None) == new
