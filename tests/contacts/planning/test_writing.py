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



@pytest.mark.skipif(connection.vendor != "postgresql", reason="on SQLite a writing transaction holds the whole database")
def test_the_rows_of_a_customer_deleted_since_the_chunk_read_its_facts_are_not_written(moscow, monkeypatch):
    # given: a car whose owner is deleted (by another session, committed) after its facts were read
    from contacts.planning import chunk as chunk_module
    from customers.models import Customer, Sale, Vehicle

    vehicle = bought_new(moscow)
    other = bought_new(moscow)
    gone_id = vehicle.owner_id
    planned_by = chunk_module.plan_with_validity

    def plan_then_lose_the_owner(*args, **kwargs):
        planned = planned_by(*args, **kwargs)
        Sale.objects.filter(customer_id=gone_id).delete()  # a customer with a sale cannot be deleted
        Vehicle.objects.filter(owner_id=gone_id).update(owner=None)
        Customer.objects.filter(pk=gone_id).delete()
        return planned

    monkeypatch.setattr(chunk_module, "plan_with_validity", plan_then_lose_the_owner)
    # when
    result = replan(vehicle_ids=[vehicle.id, other.id], now=NOW)
    # then: the other car's plan is written, none for the customer who is gone
    assert not Touchpoint.objects.filter(customer_id=gone_id).exists()
    assert Touchpoint.objects.filter(vehicle=other).count() == result.created > 0


@pytest.mark.parametrize("deleted", ["customer", "vehicle"])
@pytest.mark.django_db(transaction=True)
def test_a_customer_or_car_deleted_while_a_re_plan_writes_for_them_leaves_no_touchpoint_behind(moscow, deleted):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL")
    import threading
    import time

    from django.db import transaction

    from contacts.planning import writing
    from customers.models import Customer, Sale

    # given: a planned car, it or its owner about to be deleted (neither can be while it has a sale)
    vehicle = bought_new(moscow)
    replan(vehicle_ids=[vehicle.id], now=NOW)
    customer = Customer.objects.get(pk=vehicle.owner_id)
    Sale.objects.filter(customer=customer).delete()
    doomed = customer if deleted == "customer" else vehicle
    template = TouchpointTemplate.objects.get(code="accessories")
    held, errors = threading.Event(), []

    def re_plan_writing_for_them() -> None:
        try:
            with transaction.atomic():
                assert writing._hold_parents({
                    "customers_vehicle": {vehicle.pk}, "customers_customer": {customer.pk},
                    "contacts_touchpointtemplate": {template.pk},
                }) == {}
                Touchpoint.objects.create(
                    vehicle=vehicle, customer_id=customer.pk, template=template, cycle_start=dt.date(2025, 1, 1),
                    occurrence=9, due_on=dt.date(2026, 1, 1), window_start=dt.date(2026, 1, 1),
                    window_end=dt.date(2026, 1, 9), reason="written meanwhile",
                )
                held.set()
                time.sleep(1.0)  # the deletion, started meanwhile, waits for this COMMIT
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=re_plan_writing_for_them)
    thread.start()
    assert held.wait(30)
    # when: the customer (or car) is deleted while the re-plan's new row is not yet committed
    doomed_id = doomed.pk
    doomed.delete()
    thread.join()
    # then: nothing points at what was deleted (the touchpoint's keys have no database constraint)
    assert errors == []
    assert not Touchpoint.objects.filter(**{f"{deleted}_id": doomed_id}).exists()
