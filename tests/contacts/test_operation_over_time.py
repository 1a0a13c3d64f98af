"""Weeks of operation under a moving clock, through the real beat tasks: calls go unworked and expire,
the nightly re-plan moves dates, and every morning's build must still finish for the dealership."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from contacts import tasks
from contacts.models import CallTask, CallTaskItem, QueueBuild, Touchpoint
from customers.models import Dealership
from tests import factories

pytestmark = pytest.mark.django_db


def _customers_due_for_service(dealership: Dealership, count: int, start: dt.date) -> list[int]:
    """Buyers whose first maintenance falls due over the next weeks, with readings that keep moving the
    forecast (so the nightly re-plan moves their windows)."""
    vehicle_ids = []
    for n in range(count):
        sold_on = start - dt.timedelta(days=330 - 5 * n)
        sale = factories.SaleFactory(vehicle__owner__dealership=dealership, sold_on=sold_on)
        factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=sold_on, odometer_km=0, source="sale")
        factories.OdometerReadingFactory(
            vehicle=sale.vehicle, read_on=start - dt.timedelta(days=40), odometer_km=9000 + 700 * n
        )
        vehicle_ids.append(sale.vehicle.id)
    return vehicle_ids


def _one_night_and_morning(day: dt.date, zone_offset_hours: int = 3) -> None:
    # 00:30 UTC the nightly re-plan, then the hourly build sweep once the local morning (07:00) has come.
    with time_machine.travel(dt.datetime.combine(day, dt.time(0, 30), tzinfo=dt.UTC), tick=False):
        tasks.replan_all_vehicles()
    with time_machine.travel(dt.datetime.combine(day, dt.time(7 - zone_offset_hours, 5), tzinfo=dt.UTC), tick=False):
        tasks.build_due_queues()


def test_unworked_calls_expire_and_every_morning_build_still_finishes(moscow):
    # given: twelve customers falling due over the coming weeks, and nobody working the queue
    start = dt.date(2026, 11, 2)
    _customers_due_for_service(moscow, 12, start)
    # when: 45 days go by
    days = [start + dt.timedelta(days=n) for n in range(45)]
    for day in days:
        _one_night_and_morning(day)
        # then, every day: the day's build finished, and no touchpoint is on two calls
        build = QueueBuild.objects.get(dealership=moscow, day=day)
        assert build.finished_at is not None, f"no finished build on {day}"
        assert CallTaskItem.objects.count() == CallTaskItem.objects.values("touchpoint_id").distinct().count()
    expired = CallTask.objects.filter(outcome="expired")
    assert expired.exists(), "the scenario must make calls expire, or it tests nothing"
    # an expired call's touchpoints either went back to the plan (window still open: called again)
    # or were closed with a reason a supervisor can read
    for tp in Touchpoint.objects.filter(call_item__call_task__in=expired):
        assert tp.status == Touchpoint.Status.SUPPRESSED and tp.resolution == "window_closed:not_called"
    assert not Touchpoint.objects.filter(status=Touchpoint.Status.SUPPRESSED, resolution="").exists()
