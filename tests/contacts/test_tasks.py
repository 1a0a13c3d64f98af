from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from contacts import tasks
from contacts.models import BeatTick, OutboxMessage, Touchpoint
from customers.models import OdometerReading
from tests import factories

pytestmark = pytest.mark.django_db


def test_beat_tick_shows_on_the_health_page(client):
    # when
    tasks.record_beat_tick()
    tasks.record_beat_tick()
    # then
    body = client.get(reverse("health")).json()
    assert body["beat_ticks"] == 2
    assert body["last_beat_tick"] == BeatTick.objects.get().ticked_at.isoformat()


def test_nightly_sweep_fans_out_in_chunks_and_plans_every_vehicle(moscow):
    # given
    vehicles = [factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2026, 10, 1)).vehicle for _ in range(5)]
    # when: chunks of two vehicles → three tasks (run eagerly here)
    queued = tasks.replan_all_vehicles(chunk=2)
    # then
    assert queued == 3
    assert {tp.vehicle_id for tp in Touchpoint.objects.all()} == {v.id for v in vehicles}


def test_the_nightly_sweep_computes_the_mileage_priors_once_before_its_chunks(moscow):
    """A warm cache from earlier in the day is not what the night plans with: the sweep counts the
    priors afresh before queueing its chunks, and every chunk reads those (none computes its own)."""
    from django.core.cache import cache
    from django.utils import timezone

    from customers import forecasting

    # given: six cars with a year of readings, and priors from the day before in the cache
    today = timezone.localdate()
    for rate in (800, 900, 1000, 1100, 1200, 1300):
        sale = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=today - dt.timedelta(days=365))
        factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=today - dt.timedelta(days=5), odometer_km=rate * 12)
    expected = forecasting.mileage_priors(refresh=True)
    assert expected  # the dealership's prior, at least
    cache.set(forecasting.PRIORS_CACHE_KEY, {str(moscow.id): 9999.0}, 3600)
    # when
    tasks.replan_all_vehicles(chunk=2)
    # then
    assert cache.get(forecasting.PRIORS_CACHE_KEY) == expected


def test_the_nightly_sweep_learns_the_priors_again_once_a_week_or_when_the_fleet_grew(moscow, monkeypatch):
    """Learning the priors (and the seasonal profiles) reads every odometer of the fleet: 30 nights
    under a moving clock, the sweep learns them on the first night, then every seventh, and the night
    after a seventh car joins six; on the other nights the chunks plan with the ones in use."""
    import time_machine

    from customers import forecasting

    # given: six cars with a year of readings
    start = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
    for rate in (800, 900, 1000, 1100, 1200, 1300):
        sale = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2025, 3, 1))
        factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=dt.date(2026, 2, 20), odometer_km=rate * 12)
    learned_on: list[dt.date] = []
    learn = forecasting.mileage_priors

    def counting(*, refresh: bool = False) -> dict[str, float]:
        if refresh:
            learned_on.append(night)
        return learn(refresh=refresh)

    monkeypatch.setattr(forecasting, "mileage_priors", counting)
    # when: 30 nights; on night 19 the fleet grows from 6 cars to 7
    for offset in range(30):
        moment = start + dt.timedelta(days=offset)
        night = moment.date()
        if offset == 18:
            factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2026, 3, 10))
        with time_machine.travel(moment, tick=False):
            tasks.replan_all_vehicles(chunk=50)
            # then, every night: the chunks' priors are the ones in use
            assert cache_priors() == forecasting._cache_get(forecasting.PRIORS_IN_USE_KEY)
    # then
    days = [(day - start.date()).days for day in learned_on]
    assert days == [0, 7, 14, 18, 25]


def cache_priors() -> dict[str, float] | None:
    from django.core.cache import cache

    from customers import forecasting

    value = cache.get(forecasting.PRIORS_CACHE_KEY)
    return dict(value) if value else None


def test_admin_edit_of_a_reading_replans_the_vehicle_on_commit(admin_client, moscow, django_capture_on_commit_callbacks):
    # given
    sale = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2026, 10, 1))
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(
            reverse("admin:customers_odometerreading_add"),
            {"vehicle": sale.vehicle.id, "read_on": "2026-11-01", "odometer_km": "2500", "source": "manual"},
        )
    # then
    assert response.status_code == 302
    assert len(callbacks) == 1
    assert OdometerReading.objects.filter(vehicle=sale.vehicle).count() == 1
    assert Touchpoint.objects.filter(vehicle=sale.vehicle).exists()


def test_due_messages_are_sent_once(moscow, tmp_path, settings):
    # given
    settings.MESSAGE_FILE_DIR = tmp_path
    customer = factories.CustomerFactory(dealership=moscow)
    sale = factories.SaleFactory(vehicle__owner=customer)
    tp = Touchpoint.objects.create(
        vehicle=sale.vehicle, customer=customer, template_id=1, cycle_start=dt.date(2025, 1, 15), occurrence=1,
        due_on=dt.date(2026, 11, 1), window_start=dt.date(2026, 11, 1), window_end=dt.date(2026, 11, 4), reason="x",
    )
    OutboxMessage.objects.create(dealership=moscow, customer=customer, touchpoint=tp, channel="sms",
                                 recipient=customer.phone, body="Привет", send_on=dt.date(2026, 11, 2))
    # when: Monday 2 November, 12:00 in Moscow
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC), tick=False):
        first, second = tasks.send_due_messages(), tasks.send_due_messages()
    # then
    assert (first, second) == (1, 0)
    assert OutboxMessage.objects.get().status == "sent"
    assert "Привет" in (tmp_path / "2026-11-02.jsonl").read_text(encoding="utf-8")
