"""When and under which rules a queue is built (contacts.queues.calendar): working days, the
day's capacity, each dealership's local morning and new year."""

from __future__ import annotations

import datetime as dt

import pytest

from contacts.models import CallTask, ContactRules, DailyCapacity
from contacts.queues import build_queue, dealerships_due
from tests.contacts.queues.helpers import (
    DAY,
    NOW,
    _customer_due_for_service,
)

pytestmark = pytest.mark.django_db


def test_nothing_is_called_on_a_weekend(moscow):
    # given: Sunday 2026-11-22
    customer = _customer_due_for_service(moscow)
    # when
    build_queue(dealership=moscow, day=dt.date(2026, 11, 22), now=NOW - dt.timedelta(days=1))
    # then
    assert not CallTask.objects.filter(customer=customer).exists()


def test_supervisor_capacity_for_the_day_wins_over_the_default(moscow, supervisor):
    ContactRules.objects.update_or_create(dealership=moscow, defaults={"calls_per_agent": 1, "default_agents_on_shift": 1})
    DailyCapacity.objects.create(dealership=moscow, day=DAY, agents_on_shift=3, set_by=supervisor)
    for _ in range(3):
        _customer_due_for_service(moscow)
    build_queue(dealership=moscow, day=DAY, now=NOW)
    assert CallTask.objects.filter(scheduled_on=DAY).count() == 3


def test_morning_comes_at_different_hours_in_each_zone(moscow, yekaterinburg):
    # given: 03:30 UTC = 06:30 in Moscow, 08:30 in Yekaterinburg; the build hour is 07:00
    ContactRules.for_dealership(moscow)
    ContactRules.for_dealership(yekaterinburg)
    now = dt.datetime(2026, 11, 23, 3, 30, tzinfo=dt.UTC)
    # then
    assert [(d.code, day) for d, day in dealerships_due(now=now)] == [("ekb", DAY)]


def test_year_end_build_uses_the_local_new_year_day(yekaterinburg):
    # given: 20:00 UTC on 31 December is already 1 January in Yekaterinburg (a holiday)
    ContactRules.for_dealership(yekaterinburg)
    ContactRules.objects.filter(dealership=yekaterinburg).update(queue_build_hour=0)
    now = dt.datetime(2026, 12, 31, 20, 0, tzinfo=dt.UTC)
    # then
    assert [day for _d, day in dealerships_due(now=now)] == [dt.date(2027, 1, 1)]
