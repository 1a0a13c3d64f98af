from __future__ import annotations

import statistics

import pytest
from django.core.management import call_command
from django.db.models import Count

from contacts.models import ContactRules
from customers.demo import DemoGenerator
from customers.models import Customer, OdometerReading, Sale, Vehicle

pytestmark = pytest.mark.django_db
TODAY = __import__("datetime").date(2026, 11, 22)


def _fingerprint() -> list[tuple]:
    return list(
        Vehicle.objects.order_by("vin").values_list("vin", "make", "model", "owner__last_name", "owner__phone")
    ) + list(OdometerReading.objects.order_by("vehicle__vin", "read_on", "odometer_km").values_list("vehicle__vin", "read_on", "odometer_km"))


def test_seed_is_deterministic_and_idempotent():
    # given
    call_command("seed_demo", vehicles=300, seed=3, today=TODAY)
    first = _fingerprint()
    counts = (Customer.objects.count(), Vehicle.objects.count(), Sale.objects.count(), OdometerReading.objects.count())
    # when: run again
    call_command("seed_demo", vehicles=300, seed=3, today=TODAY)
    # then: nothing duplicated, same data
    assert (Customer.objects.count(), Vehicle.objects.count(), Sale.objects.count(), OdometerReading.objects.count()) == counts
    assert _fingerprint() == first
    assert Vehicle.objects.count() == 300


def test_seed_creates_two_dealerships_in_different_zones_with_rules_and_demo_users():
    # when
    call_command("seed_demo", vehicles=50, seed=1, today=TODAY)
    # then
    from django.contrib.auth.models import User

    from customers.models import Dealership

    assert set(Dealership.objects.values_list("time_zone", flat=True)) == {"Europe/Moscow", "Asia/Yekaterinburg"}
    assert ContactRules.objects.count() == 2
    for username in ["agent1", "agent2", "supervisor", "manager", "admin"]:
        assert User.objects.get(username=username).check_password("demo")
    assert list(User.objects.get(username="agent1").groups.values_list("name", flat=True)) == ["agent"]


def test_generated_fleet_is_realistic_within_the_documented_ranges():
    # given
    customers = DemoGenerator(seed=11, today=TODAY).customers(4000)
    vehicles = [v for c in customers for v in c.vehicles]
    readings = [r for v in vehicles for r in v.readings]
    # then: driving habit
    rates = [v.km_per_month for v in vehicles]
    assert 1000 <= statistics.median(rates) <= 1700
    assert min(rates) >= 500 and max(rates) <= 4000
    # repeat buyers, defected, do-not-call, unreachable
    share = lambda items, pred: sum(1 for i in items if pred(i)) / len(items)  # noqa: E731
    assert 0.15 <= share(customers, lambda c: len(c.vehicles) >= 2) <= 0.30
    assert 0.10 <= share(customers, lambda c: c.habit == "defected") <= 0.20
    assert 0.02 <= share(customers, lambda c: c.is_do_not_call) <= 0.06
    assert 0.03 <= share(customers, lambda c: c.is_unreachable) <= 0.08
    # bad readings: manual typos and rollbacks plus duplicates
    bad = sum(1 for r in readings if r.source == "manual")
    assert 0.02 <= bad / len(readings) <= 0.10
    # sales over the last six years, new and used
    days = [(TODAY - v.sale.sold_on).days for v in vehicles]
    assert min(days) >= 1 and max(days) <= 6 * 365
    assert 0.65 <= share(vehicles, lambda v: v.sale.kind == "new") <= 0.85


def test_phones_are_russian_mobiles_and_some_are_shared_by_a_household():
    customers = DemoGenerator(seed=5, today=TODAY).customers(3000)
    phones = [c.phone for c in customers]
    assert all(p.startswith("+79") and len(p) == 12 for p in phones)
    assert len(set(phones)) < len(phones)


def test_seeded_database_has_sales_for_every_vehicle():
    call_command("seed_demo", vehicles=200, seed=2, today=TODAY)
    assert not Vehicle.objects.annotate(n=Count("sales")).filter(n=0).exists()


def test_a_demo_car_due_by_km_is_due_the_day_its_own_seasonal_odometer_reaches_the_interval():
    """The demo's cars drive more in summer than in winter (``_odometer``); a maintenance due by km falls
    on the day that odometer reaches the interval, not where the yearly average rate would put it (the
    forecast's seasonal profile is measured against this generator)."""
    import datetime as dt
    import random

    from customers.demo import _day_reaching, _odometer

    rng = random.Random(5)
    for _ in range(300):
        start = dt.date(2022, 1, 1) + dt.timedelta(days=rng.randint(0, 1500))
        start_km, rate = rng.randint(0, 90_000), rng.uniform(500, 4000)
        until = start + dt.timedelta(days=365)
        target = start_km + 15_000
        day = _day_reaching(start_km, start, target, rate, until)
        if day < until:
            assert _odometer(start_km, start, day, rate) >= target - 1  # the odometer floors its km
            assert _odometer(start_km, start, day - dt.timedelta(days=1), rate) < target
        else:
            assert _odometer(start_km, start, until - dt.timedelta(days=1), rate) < target
