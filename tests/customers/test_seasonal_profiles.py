"""The dealerships' seasonal profiles: counted once per sweep (in the database on PostgreSQL, streamed
elsewhere) from the odometers the forecast reads, the same sums as the pure core's, cached and settled."""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid

import pytest
from django.core.cache import cache

from contacts.planning.computing import fingerprint
from contacts.planning.facts import load_facts
from customers import forecasting
from customers.core.seasonality import FLAT, SeasonSums, profile_from_sums
from customers.models import OdometerReading, Sale, ServiceVisit
from tests import factories
from tests.customers.core.test_seasonality import SUMMER, _car

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 22)


@pytest.fixture(autouse=True)
def _own_cache_keys(monkeypatch):
    """This test's profiles under keys of its own: a parallel run's other worker (its own database, the
    same dealership ids, the same Redis) must not plan with them."""
    suffix = uuid.uuid4().hex
    keys = {name: f"{getattr(forecasting, name)}:{suffix}"
            for name in ("SEASONS_CACHE_KEY", "SEASONS_IN_USE_KEY", "SEASONS_LOCK_KEY")}
    for name, key in keys.items():
        monkeypatch.setattr(forecasting, name, key)
    yield
    cache.delete_many(list(keys.values()))


def _seasonal_fleet(dealership, cars: int, seed: int) -> list[list[tuple[int, int]]]:
    """``cars`` vehicles driving ± 35 % with the season, stored as the forecast reads them: the sale, some
    maintenance visits, readings; plus what the profile must not read. Returns each car's points as
    the pure core is given them."""
    rng = random.Random(seed)
    expected = []
    readings = []
    for k in range(cars):
        points = _car(rng, 0.35, dt.date(2021, 1, 1) + dt.timedelta(days=rng.randint(0, 900)))
        vehicle = factories.VehicleFactory(owner__dealership=dealership)
        sold_on = dt.date.fromordinal(points[0][0])
        factories.SaleFactory(vehicle=vehicle, sold_on=sold_on, kind="new", odometer_km=0)
        for o, km in points[1:]:
            day = dt.date.fromordinal(o)
            if rng.random() < 0.4:
                factories.ServiceVisitFactory(vehicle=vehicle, visited_on=day, odometer_km=km)
            else:
                readings.append(OdometerReading(vehicle=vehicle, read_on=day, odometer_km=km, source="manual"))
        # the same day read twice (the lower one counts), and a reading after today (not read)
        o, km = points[2]
        readings.append(OdometerReading(vehicle=vehicle, read_on=dt.date.fromordinal(o), odometer_km=km + 50,
                                        source="call"))
        readings.append(OdometerReading(vehicle=vehicle, read_on=TODAY + dt.timedelta(days=30), odometer_km=999_999,
                                        source="manual"))
        if k % 10 == 0:  # a repair visit's odometer is not a maintenance: the forecast does not read it either
            ServiceVisit.objects.create(vehicle=vehicle, dealership=dealership, visited_on=dt.date.fromordinal(o + 3),
                                        odometer_km=1, kind="repair")
        expected.append(points)
    # a used car sold at 0 km ("not recorded"): its sale is no reading
    used = factories.VehicleFactory(owner__dealership=dealership)
    Sale.objects.create(vehicle=used, customer=used.owner, dealership=dealership, sold_on=dt.date(2022, 1, 1),
                        kind="used", odometer_km=0)
    readings += [OdometerReading(vehicle=used, read_on=dt.date(2022, 6, 1), odometer_km=50_000, source="manual"),
                 OdometerReading(vehicle=used, read_on=dt.date(2023, 6, 1), odometer_km=65_000, source="manual")]
    expected.append([(dt.date(2022, 6, 1).toordinal(), 50_000), (dt.date(2023, 6, 1).toordinal(), 65_000)])
    OdometerReading.objects.bulk_create(readings)
    return expected


def _assert_same_sums(counted: SeasonSums, expected: SeasonSums) -> None:
    assert counted.cars == expected.cars
    for got, want in ((counted.xx, expected.xx), (counted.xy, expected.xy), (counted.car_days, expected.car_days)):
        assert all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6) for a, b in zip(got, want, strict=True))


def test_the_profile_sums_are_the_pure_cores_whichever_way_they_are_counted(moscow, yekaterinburg):
    # given: a seasonal dealership, and one with a single car (too little to learn from)
    expected_points = _seasonal_fleet(moscow, 40, seed=1)
    _seasonal_fleet(yekaterinburg, 1, seed=2)
    expected = SeasonSums()
    for points in expected_points:
        expected.add_car(points)
    # when
    streamed = forecasting._season_sums_streamed(TODAY, chunk=7)
    # then: the same sums as the pure core's (and on PostgreSQL the database's), a summer profile
    _assert_same_sums(streamed[moscow.id], expected)
    from django.db import connection

    if connection.vendor == "postgresql":
        counted = forecasting._season_sums_in_database(TODAY)
        _assert_same_sums(counted[moscow.id], expected)
        assert counted[yekaterinburg.id].cars == streamed[yekaterinburg.id].cars
    profile = profile_from_sums(expected)
    assert profile[6] > 1.1 and profile[0] < 0.9
    profiles = forecasting.seasonal_profiles(refresh=True, today=TODAY)
    assert profiles == {moscow.id: profile}  # yekaterinburg's is flat: left out


def test_a_profile_that_barely_moved_stays_in_use(moscow):
    # given: the profile in use differs from the newly learned one by 0.02 in one month
    _seasonal_fleet(moscow, 40, seed=3)
    learned = forecasting.seasonal_profiles(refresh=True, today=TODAY)[moscow.id]
    in_use = tuple(round(m + (0.02 if j == 6 else 0.0), 2) for j, m in enumerate(learned))
    cache.set(forecasting.SEASONS_IN_USE_KEY, {moscow.id: in_use}, None)
    # when
    profiles = forecasting.seasonal_profiles(refresh=True, today=TODAY)
    # then: the one in use stays (no re-plan of the dealership for a wobble), and is what the cache serves
    assert profiles == {moscow.id: in_use}
    assert forecasting.seasonal_profiles() == {moscow.id: in_use}


def test_the_profile_is_a_forecast_input_and_in_the_fingerprint(moscow):
    # given: one vehicle with readings over a summer
    vehicle = factories.VehicleFactory(owner__dealership=moscow)
    factories.SaleFactory(vehicle=vehicle, sold_on=dt.date(2026, 3, 1), kind="new", odometer_km=0)
    factories.OdometerReadingFactory(vehicle=vehicle, read_on=dt.date(2026, 9, 1), odometer_km=9_000)
    facts = load_facts([vehicle.id])
    row = facts.vehicles[0]
    item = forecasting.VehicleForecastInput(
        vehicle=row, sales=tuple(facts.sales[vehicle.id]), readings=tuple(
            forecasting.Reading(day, km, pk) for pk, day, km in facts.readings[vehicle.id]),
        maintenance=facts.maintenance(vehicle.id), today=TODAY,
    )
    # when
    flat = forecasting.forecast_vehicles(inputs=[item], store=False, priors={}, profiles={})
    seasonal = forecasting.forecast_vehicles(inputs=[item], store=False, priors={}, profiles={moscow.id: SUMMER})
    digests = {name: fingerprint(facts, row, seasons=(), prior=None, common="", profile=profile)
               for name, profile in (("none", None), ("summer", SUMMER))}
    # then: a summer's 1,500 km a month is less than that over the year; the digest changes with it
    assert seasonal.by_vehicle[vehicle.id].km_per_month < flat.by_vehicle[vehicle.id].km_per_month
    assert digests["none"] != digests["summer"]
    assert fingerprint(facts, row, seasons=(), prior=None, common="") == digests["none"]
    assert FLAT not in forecasting.seasonal_profiles(refresh=True, today=TODAY).values()
