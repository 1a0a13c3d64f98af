"""The REST API for planned work (contacts.api): touchpoints and call tasks read with filters, a
dialer's claim and outcome, and the figures."""

from __future__ import annotations

import datetime as dt

import pytest

from contacts.models import CallTask, Touchpoint, TouchpointTemplate
from tests import factories
from tests.customers.api.helpers import api as api  # the fixture
from tests.customers.api.helpers import client_for
from tests.customers.api.helpers import dms as dms  # the fixture
from tests.customers.api.helpers import ivanov as ivanov  # the fixture

pytestmark = pytest.mark.django_db


def test_touchpoints_and_call_tasks_are_read_with_filters_in_the_users_dealerships(moscow, yekaterinburg, ivanov):
    # given
    agent = client_for(factories.make_user("ag", "agent", dealerships=(moscow,)))
    car = factories.VehicleFactory(owner=ivanov)
    template = TouchpointTemplate.objects.order_by("id").first()
    planned = Touchpoint.objects.create(vehicle=car, customer=ivanov, template=template, cycle_start=dt.date(2025, 1, 15),
                                        occurrence=1, due_on=dt.date(2026, 12, 1), window_start=dt.date(2026, 11, 24),
                                        window_end=dt.date(2026, 12, 8), reason="ТО-2")
    Touchpoint.objects.create(vehicle=car, customer=ivanov, template=template, cycle_start=dt.date(2025, 1, 15),
                              occurrence=2, due_on=dt.date(2027, 12, 1), window_start=dt.date(2027, 11, 24),
                              window_end=dt.date(2027, 12, 8), reason="ТО-3", status="done")
    day = dt.date(2026, 11, 23)
    mine = CallTask.objects.create(dealership=moscow, customer=ivanov, scheduled_on=day, window_start=day,
                                   window_end=day, blocks_until=day + dt.timedelta(days=7))
    theirs_customer = factories.CustomerFactory(dealership=yekaterinburg)
    theirs = CallTask.objects.create(dealership=yekaterinburg, customer=theirs_customer, scheduled_on=day, window_start=day,
                                     window_end=day, blocks_until=day + dt.timedelta(days=7))
    # when
    touchpoints = agent.get(f"/api/touchpoints/?status=planned&customer={ivanov.id}&due_from=2026-11-01&due_to=2026-12-31").json()
    calls = agent.get("/api/call-tasks/?status=open&scheduled_from=2026-11-23&scheduled_to=2026-11-23").json()
    # then
    assert [row["id"] for row in touchpoints["results"]] == [planned.id]
    assert (touchpoints["results"][0]["code"], touchpoints["results"][0]["reason"]) == (template.code, "ТО-2")
    assert [row["id"] for row in calls["results"]] == [mine.id]
    assert agent.get(f"/api/call-tasks/{mine.id}/").json()["phone"] == "+79161234567"
    assert agent.get(f"/api/call-tasks/{theirs.id}/").status_code == 404
    assert agent.get(f"/api/touchpoints/{planned.id}/").status_code == 200


def test_a_dialer_claims_a_call_and_records_its_outcome(moscow):
    # given
    moscow.call_hours_start, moscow.call_hours_end = dt.time(0, 0), dt.time(23, 59)
    moscow.save()
    agent = factories.make_user("dialer", "agent", dealerships=(moscow,))
    customer = factories.CustomerFactory(dealership=moscow)
    today = moscow.local_date(dt.datetime.now(dt.UTC))
    task = CallTask.objects.create(dealership=moscow, customer=customer, scheduled_on=today, window_start=today,
                                   window_end=today, blocks_until=today + dt.timedelta(days=7))
    api = client_for(agent)
    # when
    claimed = api.post("/api/call-tasks/claim/").json()
    bad = api.post(f"/api/call-tasks/{task.id}/outcome/", {"outcome": "booked"}, format="json")
    done = api.post(f"/api/call-tasks/{task.id}/outcome/", {"outcome": "reached", "note": "ok"}, format="json")
    # then
    assert claimed["task"]["id"] == task.id
    assert (bad.status_code, list(bad.json())) == (400, ["outcome"])
    assert done.json()["task_status"] == "done"


def test_figures_need_a_manager(moscow, api):
    agent = client_for(factories.make_user("ag2", "agent", dealerships=(moscow,)))
    assert api.get("/api/figures/?from=2025-01-01&to=2025-12-31").status_code == 200
    assert agent.get("/api/figures/?from=2025-01-01&to=2025-12-31").status_code == 403
