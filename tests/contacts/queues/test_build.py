"""The daily build end to end (contacts.queues.build): once per dealership and day, rerun after a
crash, two builds at once, and what it leaves for the audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection

from contacts.audit import audit_stored_contacts
from contacts.models import CallTask, QueueBuild, Touchpoint
from contacts.planning.chunk import replan
from contacts.queues import build_queue
from tests import factories
from tests.contacts.queues.helpers import (
    DAY,
    NOW,
    _build_in_a_thread,
    _customer_due_for_service,
)

pytestmark = pytest.mark.django_db


def test_build_creates_a_call_with_a_script_and_an_explanation(moscow):
    # given
    customer = _customer_due_for_service(moscow)
    # when
    counts = build_queue(dealership=moscow, day=DAY, now=NOW)
    # then
    task = CallTask.objects.get(customer=customer)
    assert counts.calls == 1
    assert task.scheduled_on == DAY
    assert task.window_start <= DAY <= task.window_end
    # the service invite and the insurance renewal, due within days, are merged; service goes first
    # (and the keep-alive: nobody reached them for 11 months), in department priority order
    assert [item["code"] for item in task.agenda] == ["service_invite", "insurance_renewal", "keep_alive"]
    assert "maintenance due" in task.agenda[0]["why"] and "km a month" in task.agenda[0]["why"]
    assert "[[agent]]" in task.script
    assert Touchpoint.objects.get(id=task.agenda[0]["touchpoint_id"]).status == Touchpoint.Status.ISSUED


def test_build_runs_once_per_dealership_and_day(moscow):
    # given
    _customer_due_for_service(moscow)
    build_queue(dealership=moscow, day=DAY, now=NOW)
    tasks = list(CallTask.objects.values_list("id", "customer_id", "scheduled_on"))
    # when
    build_queue(dealership=moscow, day=DAY, now=NOW)
    # then
    assert list(CallTask.objects.values_list("id", "customer_id", "scheduled_on")) == tasks
    assert QueueBuild.objects.filter(dealership=moscow, day=DAY).count() == 1


def test_a_build_killed_half_way_and_rerun_gives_the_same_tasks(moscow):
    # given: a build that wrote its tasks but died before marking the day finished
    _customer_due_for_service(moscow)
    _customer_due_for_service(moscow)
    build_queue(dealership=moscow, day=DAY, now=NOW)
    first = sorted(CallTask.objects.values_list("customer_id", "scheduled_on", "agenda"), key=str)
    QueueBuild.objects.update(finished_at=None)
    # when
    build_queue(dealership=moscow, day=DAY, now=NOW)
    # then
    assert sorted(CallTask.objects.values_list("customer_id", "scheduled_on", "agenda"), key=str) == first


def test_product_output_audits_to_zero(moscow):
    for _ in range(5):
        _customer_due_for_service(moscow)
    build_queue(dealership=moscow, day=DAY, now=NOW)
    build_queue(dealership=moscow, day=DAY + dt.timedelta(days=1), now=NOW + dt.timedelta(days=1))
    report = audit_stored_contacts()
    assert report["checked"] > 0
    assert set(report["violations"].values()) == {0}


@pytest.mark.django_db(transaction=True)
def test_two_builds_at_once_give_the_same_tasks_as_one(moscow):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL")
    # given
    for _ in range(6):
        _customer_due_for_service(moscow)
    errors: list[BaseException] = []
    # when
    threads = [_build_in_a_thread(moscow, errors) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then: no duplicate call, every placed touchpoint on exactly one task
    raced = sorted(CallTask.objects.values_list("customer_id", "scheduled_on"))
    assert len(raced) == len(set(raced)) == 6
    assert all(not isinstance(e, IntegrityError) for e in errors)


def test_an_open_call_about_a_car_that_was_traded_in_is_withdrawn_and_never_made(moscow):
    # given: a customer with two cars, both due, on one open call
    owner = _customer_due_for_service(moscow)
    second = factories.SaleFactory(vehicle__owner=owner, sold_on=dt.date(2025, 12, 20))
    factories.OdometerReadingFactory(vehicle=second.vehicle, read_on=dt.date(2025, 12, 20), odometer_km=0, source="sale")
    factories.OdometerReadingFactory(vehicle=second.vehicle, read_on=dt.date(2026, 10, 1), odometer_km=12500)
    replan(vehicle_ids=[second.vehicle.id], now=NOW)
    build_queue(dealership=moscow, day=DAY, now=NOW)
    task = CallTask.objects.get(customer=owner)
    gone = task.items.first().touchpoint.vehicle
    assert {item.touchpoint.vehicle_id for item in task.items.all()} >= {gone.id}
    # when: that car is traded in (inactive) and re-planned, as an import or the admin does
    type(gone).objects.filter(pk=gone.pk).update(is_active=False)
    replan(vehicle_ids=[gone.id], now=NOW + dt.timedelta(hours=3), force=True)
    # then: the open call is withdrawn; the traded-in car's topics are closed, the other car's go back
    task.refresh_from_db()
    assert (task.status, task.outcome) == (CallTask.Status.CANCELLED, "vehicle_gone")
    assert not Touchpoint.objects.filter(vehicle=gone, status__in=["planned", "issued"]).exists()
    # and the next days' builds call the customer about the other car only
    for offset in range(1, 8):
        day = DAY + dt.timedelta(days=offset)
        replan(vehicle_ids=[gone.id, second.vehicle.id, *owner.vehicles.values_list("id", flat=True)],
               now=NOW + dt.timedelta(days=offset))
        build_queue(dealership=moscow, day=day, now=NOW + dt.timedelta(days=offset))
    live = CallTask.objects.filter(customer=owner).exclude(status=CallTask.Status.CANCELLED)
    assert not Touchpoint.objects.filter(call_item__call_task__in=live, vehicle=gone).exists()
