from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.db import connection

from contacts.models import PlanFingerprint, Touchpoint, TouchpointTemplate
from contacts.planning.chunk import replan
from customers.models import OdometerReading, VehicleForecast
from tests import factories

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def _bought_new(moscow, *, sold_on=dt.date(2025, 1, 15)):
    sale = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=sold_on)
    factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=sold_on, odometer_km=0, source="sale")
    factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=dt.date(2025, 2, 15), odometer_km=1500)
    return sale.vehicle


def test_default_program_is_installed_by_the_migration():
    codes = set(TouchpointTemplate.objects.values_list("code", flat=True))
    assert {"thank_you", "service_invite", "service_reminder", "tyre_season", "birthday", "keep_alive"} <= codes
    assert all(t.script_en and t.script_ru for t in TouchpointTemplate.objects.all())


def test_replan_stores_future_touchpoints_and_a_forecast(moscow):
    # given
    vehicle = _bought_new(moscow)
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
    vehicle = _bought_new(moscow)
    replan(vehicle_ids=[vehicle.id], now=NOW)
    before = list(Touchpoint.objects.order_by("id").values_list("id", "due_on", "status", "updated_at"))
    # when
    result = replan(vehicle_ids=[vehicle.id], now=NOW)
    # then
    assert result.rows_written == 0
    assert list(Touchpoint.objects.order_by("id").values_list("id", "due_on", "status", "updated_at")) == before


def test_the_sweep_skips_vehicles_whose_inputs_have_not_changed(moscow):
    # given: two cars planned once
    first, second = _bought_new(moscow), _bought_new(moscow)
    replan(vehicle_ids=[first.id, second.id], now=NOW)
    # when: a reading arrives for the first car only, and the sweep runs again the same day
    OdometerReading.objects.create(vehicle=first, read_on=dt.date(2025, 2, 28), odometer_km=6500, source="call")
    result = replan(vehicle_ids=[first.id, second.id], now=NOW)
    # then: the second car is skipped before it is forecast; the first is re-planned
    assert (result.vehicles, result.skipped) == (2, 1)
    assert result.updated > 0
    assert PlanFingerprint.objects.count() == 2


def test_a_new_day_a_template_edit_or_force_replans_an_unchanged_vehicle(moscow):
    # given
    vehicle = _bought_new(moscow)
    replan(vehicle_ids=[vehicle.id], now=NOW)
    digest = PlanFingerprint.objects.get(vehicle=vehicle).digest
    # when / then: the same day, nothing is computed
    assert replan(vehicle_ids=[vehicle.id], now=NOW).skipped == 1
    # when / then: forced, it is computed again (and writes nothing, since nothing changed)
    forced = replan(vehicle_ids=[vehicle.id], now=NOW, force=True)
    assert (forced.skipped, forced.rows_written) == (0, 0)
    # when / then: the next local day is another input
    tomorrow = replan(vehicle_ids=[vehicle.id], now=NOW + dt.timedelta(days=1))
    assert tomorrow.skipped == 0
    assert PlanFingerprint.objects.get(vehicle=vehicle).digest != digest
    # when / then: an admin edits a template: every vehicle is planned again
    TouchpointTemplate.objects.filter(code="service_invite").update(offset_days=-28)
    edited = replan(vehicle_ids=[vehicle.id], now=NOW + dt.timedelta(days=1))
    assert edited.skipped == 0 and edited.updated > 0


FINGERPRINT_OF_A_HAND_BUILT_CAR = """
import datetime as dt
from contacts.planning.computing import fingerprint
from contacts.planning.facts import ChunkFacts
from customers.forecasting import SaleRow, VehicleRow
car = VehicleRow(7, 1, "Kia", "Rio", None, None)
facts = ChunkFacts(vehicles=[car], owner_of={7: 3}, is_active={7: True}, warranty={7: (36, 100000)},
                   birthday={3: dt.date(1985, 6, 20)})
facts.sales[7].append(SaleRow(3, dt.date(2025, 1, 15), "new", 0))
facts.visits[7].append(("maintenance", dt.date(2026, 1, 20), 15200))
facts.readings[7].append((11, dt.date(2025, 1, 15), 0))
print(fingerprint(facts, car, today=dt.date(2026, 12, 1), seasons=((3, 20), (10, 5)), prior=1450.0, common="templates"))
"""


def test_the_fingerprint_is_the_same_in_another_process():
    """Digests come from repr and blake2b, not hash(): a worker with another PYTHONHASHSEED agrees."""
    import contextlib
    import io
    import os
    import subprocess
    import sys

    here = io.StringIO()
    with contextlib.redirect_stdout(here):
        exec(FINGERPRINT_OF_A_HAND_BUILT_CAR, {})  # noqa: S102 - the test's own fixed source
    setup = "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'clm.settings'); django.setup()\n"
    there = subprocess.run(
        [sys.executable, "-c", setup + FINGERPRINT_OF_A_HAND_BUILT_CAR],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "12345"},
    ).stdout
    assert int(there.strip().splitlines()[-1]) == int(here.getvalue().strip())


def test_a_new_reading_moves_the_service_touchpoints_and_leaves_issued_ones_alone(moscow):
    # given
    vehicle = _bought_new(moscow)
    replan(vehicle_ids=[vehicle.id], now=NOW)
    invite = Touchpoint.objects.filter(vehicle=vehicle, template__code="service_invite").order_by("due_on").first()
    thank_you_like = Touchpoint.objects.filter(vehicle=vehicle, template__code="accessories").first()
    Touchpoint.objects.filter(pk=thank_you_like.pk).update(status=Touchpoint.Status.ISSUED, due_on=dt.date(2025, 3, 3))
    # when: the car is driven three times as far as thought
    OdometerReading.objects.create(vehicle=vehicle, read_on=dt.date(2025, 2, 28), odometer_km=6500, source="call")
    result = replan(vehicle_ids=[vehicle.id], now=NOW)
    # then
    invite.refresh_from_db()
    thank_you_like.refresh_from_db()
    assert result.updated > 0
    assert invite.due_on < dt.date(2025, 9, 1)
    assert thank_you_like.status == Touchpoint.Status.ISSUED
    assert thank_you_like.due_on == dt.date(2025, 3, 3)


def test_selling_the_car_cancels_its_open_touchpoints(moscow):
    # given
    vehicle = _bought_new(moscow)
    replan(vehicle_ids=[vehicle.id], now=NOW)
    # when
    vehicle.is_active = False
    vehicle.save(update_fields=["is_active"])
    result = replan(vehicle_ids=[vehicle.id], now=NOW)
    # then
    assert result.cancelled == Touchpoint.objects.filter(vehicle=vehicle, status="cancelled").count() > 0
    assert not Touchpoint.objects.filter(vehicle=vehicle, status="planned").exists()


def test_a_repeat_purchase_of_the_same_car_starts_a_new_cycle(moscow):
    # given: the car was sold to this customer, bought back, and sold to them again in 2025
    vehicle = _bought_new(moscow, sold_on=dt.date(2021, 5, 10))
    factories.SaleFactory(vehicle=vehicle, sold_on=dt.date(2025, 2, 1), kind="used", odometer_km=60000)
    # when
    replan(vehicle_ids=[vehicle.id], now=NOW)
    # then
    assert set(Touchpoint.objects.filter(vehicle=vehicle).values_list("cycle_start", flat=True)) == {dt.date(2025, 2, 1)}


def test_show_plan_reference_prints_the_36_touchpoints(capsys):
    # when
    call_command("show_plan", "--reference", "--json")
    # then
    import json

    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 36
    assert sum(1 for r in rows if r["channel"] == "call") == 21
    assert {"code", "date", "window_start", "window_end", "department", "channel"} <= set(rows[0])
    assert rows[0]["code"] == "thank_you" and rows[0]["date"] == "2025-01-16"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_replans_leave_one_set_of_rows(moscow):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL")
    # given
    vehicles = [_bought_new(moscow).id for _ in range(20)]
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


def test_the_copy_path_writes_what_the_orm_path_writes(moscow, monkeypatch):
    """On PostgreSQL a chunk's touchpoints and forecasts go through COPY (customers.bulk); both paths
    must store the same rows, for a cold plan and for the next day's moves."""
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    from customers import bulk

    vehicles = [_bought_new(moscow).id for _ in range(3)]

    def stored() -> tuple[list[tuple], list[tuple]]:
        touchpoints = sorted(Touchpoint.objects.values_list(
            "vehicle_id", "template_id", "cycle_start", "occurrence", "due_on", "window_end", "status", "reason",
            "reason_detail",
        ))
        forecasts = sorted(VehicleForecast.objects.values_list("vehicle_id", "computed_on", "km_per_month", "next_due_on",
                                                               "odometer_today_km", "flagged_readings"))
        return touchpoints, forecasts

    results = []
    for threshold in (1, 10**9):
        monkeypatch.setattr(bulk, "COPY_THRESHOLD", threshold)
        Touchpoint.objects.all().delete()
        VehicleForecast.objects.all().delete()
        PlanFingerprint.objects.all().delete()
        replan(vehicle_ids=vehicles, now=NOW)
        OdometerReading.objects.filter(vehicle_id=vehicles[0], odometer_km__gt=0).update(odometer_km=4500)
        replan(vehicle_ids=vehicles, now=NOW + dt.timedelta(days=1))
        OdometerReading.objects.filter(vehicle_id=vehicles[0], odometer_km__gt=0).update(odometer_km=1500)
        results.append(stored())
    assert results[0] == results[1]
    assert len(results[0][0]) > 60 and len(results[0][1]) == 3
