"""Writing only the difference: moved, cancelled and new touchpoints, issued ones left alone (contacts.planning.writing)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from contacts.models import PlanFingerprint, Touchpoint, TouchpointTemplate
from contacts.planning.chunk import replan
from customers.models import OdometerReading, VehicleForecast
from tests import factories
from tests.contacts.planning.helpers import NOW, bought_new

pytestmark = pytest.mark.django_db


def test_a_new_reading_moves_the_service_touchpoints_and_leaves_issued_ones_alone(moscow):
    # given
    vehicle = bought_new(moscow)
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
    vehicle = bought_new(moscow)
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
    vehicle = bought_new(moscow, sold_on=dt.date(2021, 5, 10))
    factories.SaleFactory(vehicle=vehicle, sold_on=dt.date(2025, 2, 1), kind="used", odometer_km=60000)
    # when
    replan(vehicle_ids=[vehicle.id], now=NOW)
    # then
    assert set(Touchpoint.objects.filter(vehicle=vehicle).values_list("cycle_start", flat=True)) == {dt.date(2025, 2, 1)}


def test_the_copy_path_writes_what_the_orm_path_writes(moscow, monkeypatch):
    """On PostgreSQL a chunk's touchpoints and forecasts go through COPY (customers.bulk); both paths
    must store the same rows, for a cold plan and for the next day's moves."""
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    from customers import bulk

    vehicles = [bought_new(moscow).id for _ in range(3)]
    late = bought_new(moscow).id  # planned from the second run on: a vehicle with nothing stored among planned ones

    def stored() -> tuple[list[tuple], list[tuple]]:
        touchpoints = sorted(Touchpoint.objects.values_list(
            "vehicle_id", "template_id", "cycle_start", "occurrence", "due_on", "window_end", "status", "reason",
            "reason_detail",
        ))
        forecasts = sorted(VehicleForecast.objects.values_list("vehicle_id", "computed_on", "km_per_month", "next_due_on",
                                                               "odometer_km", "odometer_on", "flagged_readings"))
        return touchpoints, forecasts

    results = []
    for threshold in (1, 10**9):
        monkeypatch.setattr(bulk, "COPY_THRESHOLD", threshold)
        Touchpoint.objects.all().delete()
        VehicleForecast.objects.all().delete()
        PlanFingerprint.objects.all().delete()
        replan(vehicle_ids=vehicles, now=NOW)
        OdometerReading.objects.filter(vehicle_id=vehicles[0], odometer_km__gt=0).update(odometer_km=4500)
        replan(vehicle_ids=[*vehicles, late], now=NOW + dt.timedelta(days=1))
        OdometerReading.objects.filter(vehicle_id=vehicles[0], odometer_km__gt=0).update(odometer_km=1500)
        results.append(stored())
    assert results[0] == results[1]
    assert len(results[0][0]) > 80 and len(results[0][1]) == 4
    assert {row[0] for row in results[0][0]} == {*vehicles, late}


def _touchpoint_row(vehicle, template_id: int, due_on: dt.date) -> tuple:
    """A row in contacts.bulk.INSERT_COLUMNS order (without updated_at)."""
    return (vehicle.id, vehicle.owner_id, template_id, dt.date(2025, 1, 15), 0, due_on, due_on, due_on, "planned",
            "a reason", {}, "")


def test_new_touchpoints_meeting_a_key_stored_meanwhile_go_through_the_upsert(moscow, monkeypatch):
    """Touchpoints of a vehicle with nothing stored are COPY'd straight into the table; if a concurrent
    re-plan stored one of the same keys since, the COPY is rolled back and the upsert lets the stored row win."""
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    from contacts import bulk as touchpoint_bulk
    from customers import bulk

    monkeypatch.setattr(bulk, "COPY_THRESHOLD", 1)
    vehicle = bought_new(moscow)
    templates = list(TouchpointTemplate.objects.order_by("id").values_list("id", flat=True)[:3])
    # given: one key stored by "another run"
    touchpoint_bulk.insert_new_touchpoints([_touchpoint_row(vehicle, templates[0], dt.date(2025, 5, 1))])
    # when: this run, which saw nothing stored, writes that key and two others
    touchpoint_bulk.insert_new_touchpoints([_touchpoint_row(vehicle, t, dt.date(2025, 6, 1)) for t in templates])
    # then: no error, one row per key, the stored one unchanged
    rows = dict(Touchpoint.objects.filter(vehicle=vehicle).values_list("template_id", "due_on"))
    assert rows == {templates[0]: dt.date(2025, 5, 1), templates[1]: dt.date(2025, 6, 1), templates[2]: dt.date(2025, 6, 1)}

