"""The audit trail's page: managers and admins search it by customer, user, kind and days, within
their dealerships, times in each dealership's zone (audit.views)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from audit import trail
from audit.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db
# 21:30 UTC on 22 November: already 23 November in Yekaterinburg (UTC+5), 00:30 in Moscow (UTC+3).
LATE = dt.datetime(2026, 11, 22, 21, 30, tzinfo=dt.UTC)


def _entry(dealership, *, customer_id=None, actor=None, object_type="customer", at=LATE, **changes):
    return trail.record(object_type=object_type, object_id=customer_id or 1, action="update", customer_id=customer_id,
                        dealership_id=dealership.pk if dealership else None, actor=actor, at=at, source="api",
                        changes=changes or {"phone": ["+79160000001", "+79160000002"]})


def _shown(client, **query) -> list[int]:
    response = client.get("/audit/", query)
    assert response.status_code == 200
    return [row["entry"].pk for row in response.context["rows"]]


def test_another_dealerships_entries_are_not_shown(client, moscow, yekaterinburg):
    mine = _entry(moscow, customer_id=10)
    theirs = _entry(yekaterinburg, customer_id=20)
    group = _entry(None, object_type="template")
    manager = factories.make_user("mila", "manager", dealerships=(moscow,))
    client.force_login(manager)
    assert _shown(client) == [mine.pk]
    assert _shown(client, customer=20) == []
    assert theirs.pk not in _shown(client, dealership=yekaterinburg.pk)
    # an admin of the same dealership also sees the group's templates, still not the other dealership
    admin = factories.make_user("ada", "admin", dealerships=(moscow,))
    client.force_login(admin)
    assert sorted(_shown(client)) == sorted([mine.pk, group.pk])


def test_search_by_customer_user_kind_and_days_in_the_dealerships_zone(client, manager, yekaterinburg, agent):
    ekb_late = _entry(yekaterinburg, customer_id=7, actor=agent)
    _entry(yekaterinburg, customer_id=8, at=LATE - dt.timedelta(days=2))
    _entry(yekaterinburg, customer_id=7, object_type="consent", at=LATE - dt.timedelta(days=3))
    client.force_login(manager)
    assert _shown(client, customer=7, type="customer") == [ekb_late.pk]
    assert _shown(client, user="ALICE") == [ekb_late.pk]
    # 21:30 UTC on the 22nd is the 23rd in Yekaterinburg
    assert _shown(client, dealership=yekaterinburg.pk, **{"from": "2026-11-23", "to": "2026-11-23"}) == [ekb_late.pk]
    assert _shown(client, dealership=yekaterinburg.pk, **{"from": "2026-11-22", "to": "2026-11-22"}) == []
    html = client.get("/audit/", {"customer": 7, "type": "customer"}).content.decode()
    assert "23.11.2026 02:30:00" in html  # the dealership's time, not UTC
    assert "+79160000001 → +79160000002" in html


def test_the_page_is_paginated_and_says_what_a_bad_filter_is(client, manager, moscow):
    AuditEntry.objects.bulk_create([trail.entry(object_type="customer", object_id=n, action="update",
                                                dealership_id=moscow.pk, at=LATE) for n in range(60)])
    client.force_login(manager)
    first = client.get("/audit/")
    assert len(first.context["rows"]) == 50 and first.context["page"].has_next()
    assert len(client.get("/audit/", {"page": 2}).context["rows"]) == 10
    html = client.get("/audit/", {"customer": "Иванов", "from": "31.13.2026"}).content.decode()
    assert "Give the customer&#x27;s number" in html
    assert "31.13.2026 is not a date" in html


def test_the_page_speaks_russian(client, manager, moscow):
    _entry(moscow, customer_id=5)
    client.force_login(manager)
    html = client.get("/audit/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "<h1>Журнал изменений</h1>" in html and "<b>телефон</b>: +79160000001 → +79160000002" in html


@pytest.mark.parametrize("role", ["agent", "supervisor", "sales"])
def test_only_managers_and_admins_open_the_page(client, moscow, role):
    client.force_login(factories.make_user("someone", role, dealerships=(moscow,)))
    assert client.get("/audit/").status_code == 403


def test_many_entries_are_written_in_one_go_on_this_database(moscow):
    """The bulk path runs on both databases (CI runs this file on PostgreSQL too)."""
    written = trail.record_many(
        trail.entry(object_type="customer", object_id=n, action="update", dealership_id=moscow.pk, customer_id=n,
                    changes={"birthday": [dt.date(1980, 1, n % 28 + 1), None]}) for n in range(2500))
    assert written == 2500 == AuditEntry.objects.filter(dealership_id=moscow.pk).count()
    assert AuditEntry.objects.filter(customer_id=3).get().changes == {"birthday": ["1980-01-04", None]}


def test_entries_keep_json_changes_queryable_on_postgresql(moscow):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    _entry(moscow, customer_id=3, phone=["+79160000001", "+79160000009"])
    assert AuditEntry.objects.filter(changes__phone__1="+79160000009").count() == 1
