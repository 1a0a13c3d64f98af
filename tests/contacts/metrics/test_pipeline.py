"""The hand-off conversion figure (contacts.metrics.pipeline) on a constructed history, and its table and
CSV on the dashboard."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse

from contacts import metrics, tasks  # noqa: F401 - registers the dashboard's computing task
from contacts.models import Department, Handoff
from tests import factories

pytestmark = pytest.mark.django_db
UTC = dt.UTC
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _handoff(dealership, department, temperature, outcome, *, created, answered_after=None, due_after=2,
             escalated=False):
    customer = factories.CustomerFactory(dealership=dealership)
    handoff = Handoff.objects.create(
        dealership=dealership, customer=customer, department=Department.objects.get(code=department),
        kind=Handoff.Kind.BOOKING if department == "service" else Handoff.Kind.HOT_LEAD, temperature=temperature,
        outcome=outcome, deadline=created.date(), due_at=created + dt.timedelta(hours=due_after),
        responded_at=None if answered_after is None else created + dt.timedelta(hours=answered_after),
        escalated_at=created + dt.timedelta(hours=due_after) if escalated else None,
        status=Handoff.Status.CLOSED if outcome in ("sold", "visit_confirmed", "not_interested") else Handoff.Status.NEW,
    )
    Handoff.objects.filter(pk=handoff.pk).update(created_at=created)
    return handoff


@pytest.fixture
def history(moscow, yekaterinburg):
    day = dt.datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
    _handoff(moscow, "sales", "hot", "sold", created=day, answered_after=1)
    _handoff(moscow, "sales", "hot", "sold", created=day, answered_after=5, escalated=True)
    _handoff(moscow, "sales", "hot", "not_interested", created=day, answered_after=1)
    _handoff(moscow, "sales", "warm", "test_drive", created=day, answered_after=3, due_after=8)
    _handoff(moscow, "sales", "warm", "", created=day, due_after=8, escalated=True)
    _handoff(moscow, "service", "hot", "visit_confirmed", created=day, answered_after=1)
    _handoff(moscow, "service", "hot", "no_answer", created=day, answered_after=1)
    # not counted: before the period, and another dealership's
    _handoff(moscow, "sales", "hot", "sold", created=dt.datetime(2026, 10, 20, 8, 0, tzinfo=UTC), answered_after=1)
    _handoff(yekaterinburg, "sales", "hot", "sold", created=day, answered_after=1)
    return {"dealership": moscow.pk, "from": "2026-11-01", "to": "2026-11-30"}


def test_conversion_by_department_and_temperature(moscow, history):
    # when
    figure = metrics.handoff_pipeline(metrics.Scope((moscow.pk,), dt.date(2026, 11, 1), dt.date(2026, 11, 30)))
    # then
    rows = {(row["department"], row["temperature"]): row for row in figure["rows"]}
    assert list(rows) == [("sales", "hot"), ("sales", "warm"), ("service", "hot")]
    hot = rows["sales", "hot"]
    assert (hot["handoffs"], hot["sold"], hot["not_interested"], hot["converted"], hot["rate"]) == (3, 2, 1, 2, 0.6667)
    assert (hot["escalated"], hot["answered_in_time"], hot["in_time_rate"]) == (1, 2, 0.6667)
    warm = rows["sales", "warm"]
    assert (warm["handoffs"], warm["test_drive"], warm["no_outcome"], warm["converted"], warm["rate"]) == (2, 1, 1, 0, 0.0)
    service = rows["service", "hot"]
    assert (service["visit_confirmed"], service["no_answer"], service["rate"]) == (1, 1, 0.5)
    total = figure["total"]
    assert (total["handoffs"], total["converted"], total["rate"], total["escalated"], total["answered_in_time"]) == (
        7, 3, 0.4286, 2, 5)


def test_the_dashboard_shows_the_conversion_and_exports_it(client, moscow, history):
    # given
    manager = factories.make_user("meg", "manager", dealerships=(moscow,))
    client.force_login(manager)
    # when
    with time_machine.travel(NOW, tick=False):
        page = client.get(reverse("contacts:dashboard"), history)
        russian = client.get(reverse("contacts:dashboard"), history, HTTP_ACCEPT_LANGUAGE="ru")
        exported = client.get(reverse("contacts:dashboard"), {**history, "export": "pipeline"})
    # then
    html = page.content.decode()
    assert 'id="handoff-conversion"' in html and "Hand-off conversion" in html and "67 %" in html
    assert "Конверсия передач" in russian.content.decode() and "Горячий" in russian.content.decode()
    assert exported.status_code == 200
    text = exported.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";" if text.count(";") > text.count(",") else ","))
    assert len(rows) == 4  # the header and three rows
    assert rows[1][:4] == ["Sales", "Hot", "3", "2"]
