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
