"""One chunk's re-plan: what it stores, what a rerun skips, and two at once (contacts.planning.chunk)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from contacts.models import PlanFingerprint, Touchpoint, TouchpointTemplate
from contacts.planning.chunk import replan
from customers.models import OdometerReading, VehicleForecast
from tests.contacts.planning.helpers import NOW, bought_new

pytestmark = pytest.mark.django_db


def test_replan_stores_future_touchpoints_and_a_forecast(moscow):
    # given
    vehicle = bought_new(moscow)
    # when
    result = replan(vehicle_ids=[vehicle.id], now=NOW)
    # then
    stored = Touchpoint.objects.filter(vehicle=vehicle)
    assert result.created == stored.count() > 20
    assert not stored.filter(window_end__lt=dt.date(2025, 3, 1)).exists()
    forecast = VehicleForecast.objects.get(vehicle=vehicle)
    assert forecast.km_per_month == pytest.approx(1500, rel=0.1)
    assert stored.filter(template__code="service_invite").exists()


def test_rerun_with_unchanged_facts_writes_nothing(moscow):
    # given
    vehicle = bought_new(moscow)
    replan(vehicle_ids=[vehicle.id], now=NOW)
    before = list(Touchpoint.objects.order_by("id").values_list("id", "due_on", "status", "updated_at"))
    # when
    result = replan(vehicle_ids=[vehicle.id], now=NOW)
    # then
    assert result.rows_written == 0
    assert list(Touchpoint.objects.order_by("id").values_list("id", "due_on", "status", "updated_at")) == before


def test_the_sweep_skips_vehicles_whose_inputs_have_not_changed(moscow):
    # given: two cars planned once
    first, second = bought_new(moscow), bought_new(moscow)
    replan(vehicle_ids=[first.id, second.id], now=NOW)
    # when: a reading arrives for the first car only, and the sweep runs again the same day
    OdometerReading.objects.create(vehicle=first, read_on=dt.date(2025, 2, 28), odometer_km=6500, source="call")
    result = replan(vehicle_ids=[first.id, second.id], now=NOW)
    # then: the second car is skipped before it is forecast; the first is re-planned
    assert (result.vehicles, result.skipped) == (2, 1)
    assert result.updated > 0
    assert PlanFingerprint.objects.count() == 2


def test_the_end_of_validity_a_template_edit_or_force_replans_an_unchanged_vehicle(moscow):
    # given
    vehicle = bought_new(moscow)
    replan(vehicle_ids=[vehicle.id], now=NOW)
    digest = PlanFingerprint.objects.get(vehicle=vehicle).digest
    # when / then: the same day, nothing is computed
    assert replan(vehicle_ids=[vehicle.id], now=NOW).skipped == 1
    # when / then: forced, it is computed again (and writes nothing, since nothing changed)
    forced = replan(vehicle_ids=[vehicle.id], now=NOW, force=True)
    assert (forced.skipped, forced.rows_written) == (0, 0)
    # when / then: the next local day is not another input while the plan stays valid
    stored = PlanFingerprint.objects.get(vehicle=vehicle)
    today = moscow.local_date(NOW)
    assert stored.valid_until is not None and stored.valid_until > today + dt.timedelta(days=1)
    assert replan(vehicle_ids=[vehicle.id], now=NOW + dt.timedelta(days=1)).skipped == 1
    # when / then: on the day its validity ends it is planned again, from the same inputs
    expired = NOW + dt.timedelta(days=(stored.valid_until - today).days)
    assert replan(vehicle_ids=[vehicle.id], now=expired).skipped == 0
    assert PlanFingerprint.objects.get(vehicle=vehicle).digest == digest
    assert PlanFingerprint.objects.get(vehicle=vehicle).valid_until > stored.valid_until
    # when / then: an admin edits a template: every vehicle is planned again
    TouchpointTemplate.objects.filter(code="service_invite").update(offset_days=-28)
    edited = replan(vehicle_ids=[vehicle.id], now=NOW + dt.timedelta(days=1))
    assert edited.skipped == 0 and edited.updated > 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("copy_threshold", [500, 1], ids=["orm", "copy"])
def test_two_concurrent_replans_leave_one_set_of_rows(moscow, monkeypatch, copy_threshold):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL")
    from customers import bulk

    # COPY: both runs see nothing stored and COPY the same keys straight in; the second falls back to the upsert
    monkeypatch.setattr(bulk, "COPY_THRESHOLD", copy_threshold)
    # given
    vehicles = [bought_new(moscow).id for _ in range(20)]
    errors: list[BaseException] = []

    def run() -> None:
        try:
            replan(vehicle_ids=vehicles, now=NOW)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert errors == []
    after_race = sorted(Touchpoint.objects.values_list("vehicle_id", "template_id", "cycle_start", "occurrence", "due_on"))
    Touchpoint.objects.all().delete()
    VehicleForecast.objects.all().delete()
    PlanFingerprint.objects.all().delete()
    replan(vehicle_ids=vehicles, now=NOW)
    clean = sorted(Touchpoint.objects.values_list("vehicle_id", "template_id", "cycle_start", "occurrence", "due_on"))
    assert after_race == clean
