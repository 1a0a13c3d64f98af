from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from contacts.models import CallTask
from customers.models import Customer
from tests import factories

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def integration(moscow):
    return factories.make_user("dms", "manager", dealerships=(moscow,))


def test_bulk_upsert_creates_then_changes_nothing_then_updates(integration, moscow):
    api = client_for(integration)
    rows = [{"external_id": "C-1", "last_name": "Иванов", "first_name": "Пётр", "phone": "8 916 123-45-67"}]
    first = api.post("/api/customers/", {"rows": rows}, format="json").json()
    again = api.post("/api/customers/", {"rows": rows}, format="json").json()
    rows[0]["first_name"] = "Павел"
    changed = api.post("/api/customers/", {"rows": rows}, format="json").json()
    assert (first["created"], again["unchanged"], changed["updated"]) == (1, 1, 1)
    assert Customer.objects.get().first_name == "Павел"


def test_bad_rows_are_refused_by_index_with_the_same_words_as_files(integration):
    api = client_for(integration)
    response = api.post("/api/vehicles/", {"rows": [
        {"vin": "BAD", "make": "Kia", "model": "Rio", "year": 2024},
        {"vin": "XTA21099043567891", "make": "Kia", "model": "Rio", "year": "twenty"},
        {"vin": "XTA21099043567892", "make": "Kia", "model": "Rio", "year": 2024, "colour": "red"},
    ]}, format="json")
    assert response.status_code == 200
    assert response.json()["refused"] == [
        {"index": 0, "reason": "VIN BAD is invalid: it must be 17 letters and digits, without I, O or Q."},
        {"index": 1, "reason": "year “twenty” is not a whole number"},
        {"index": 2, "reason": "unknown field(s): colour"},
    ]


def test_more_than_a_thousand_rows_is_a_clear_400(integration):
    api = client_for(integration)
    response = api.post("/api/readings/", {"rows": [{"vin": "X"}] * 1001}, format="json")
    assert response.status_code == 400
    assert "rows" in response.json()


def test_garbage_input_is_a_400_not_a_500(integration):
    api = client_for(integration)
    assert api.post("/api/customers/", "not json", content_type="application/json").status_code == 400
    assert api.post("/api/customers/", {"rows": "x"}, format="json").status_code == 400
    assert api.get("/api/touchpoints/?from=yesterday").status_code == 400
    assert api.get("/api/customers/?id_after=abc").status_code == 400


def test_agents_read_only_their_dealership_and_cannot_write(moscow, yekaterinburg):
    theirs = factories.CustomerFactory(dealership=yekaterinburg)
    mine = factories.CustomerFactory(dealership=moscow)
    api = client_for(factories.make_user("ag", "agent", dealerships=(moscow,)))
    listed = api.get("/api/customers/").json()
    assert [row["id"] for row in listed["results"]] == [mine.id]
    assert api.get(f"/api/customers/{theirs.id}/").status_code == 404
    assert api.post("/api/customers/", {"rows": [{"external_id": "x"}]}, format="json").status_code == 403
    assert APIClient().get("/api/customers/").status_code == 401


def test_a_dialer_claims_a_call_and_records_its_outcome(moscow):
    moscow.call_hours_start, moscow.call_hours_end = dt.time(0, 0), dt.time(23, 59)
    moscow.save()
    agent = factories.make_user("dialer", "agent", dealerships=(moscow,))
    customer = factories.CustomerFactory(dealership=moscow)
    today = moscow.local_date(dt.datetime.now(dt.UTC))
    task = CallTask.objects.create(dealership=moscow, customer=customer, scheduled_on=today, window_start=today,
                                   window_end=today, blocks_until=today + dt.timedelta(days=7))
    api = client_for(agent)
    claimed = api.post("/api/call-tasks/claim/").json()
    assert claimed["task"]["id"] == task.id
    bad = api.post(f"/api/call-tasks/{task.id}/outcome/", {"outcome": "booked"}, format="json")
    assert bad.status_code == 400 and "booked date" in bad.json()["outcome"][0]
    done = api.post(f"/api/call-tasks/{task.id}/outcome/", {"outcome": "reached", "note": "ok"}, format="json")
    assert done.json()["task_status"] == "done"


def test_figures_need_a_manager(moscow, integration):
    assert client_for(integration).get("/api/figures/?from=2025-01-01&to=2025-12-31").status_code == 200
    agent = factories.make_user("ag2", "agent", dealerships=(moscow,))
    assert client_for(agent).get("/api/figures/?from=2025-01-01&to=2025-12-31").status_code == 403
