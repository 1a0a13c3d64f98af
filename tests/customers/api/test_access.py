"""Who may use the API (customers.api.access): tokens, roles, dealership scoping, the dealership a
write goes to, and session users."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from customers.models import Customer, Sale
from tests import factories
from tests.customers.api.helpers import VIN_1, client_for

pytestmark = pytest.mark.django_db


def test_an_agent_reads_only_their_dealerships_records(moscow, yekaterinburg):
    # given
    mine = factories.CustomerFactory(dealership=moscow)
    theirs = factories.CustomerFactory(dealership=yekaterinburg)
    their_sale = factories.SaleFactory(vehicle__owner=theirs)
    agent = client_for(factories.make_user("ag", "agent", dealerships=(moscow,)))
    # when
    listed = agent.get("/api/customers/").json()
    # then
    assert (listed["count"], [row["id"] for row in listed["results"]]) == (1, [mine.id])
    assert agent.get(f"/api/customers/{mine.id}/").status_code == 200
    assert agent.get(f"/api/customers/{theirs.id}/").status_code == 404
    assert agent.get(f"/api/vehicles/{their_sale.vehicle_id}/").status_code == 404
    assert agent.get(f"/api/sales/{their_sale.id}/").status_code == 404
    assert agent.get("/api/sales/").json()["count"] == 0


def test_an_agent_may_not_write_facts(moscow):
    # given
    agent = client_for(factories.make_user("ag", "agent", dealerships=(moscow,)))
    row = {"external_id": "C-9", "last_name": "Иванов", "first_name": "Пётр"}
    # when
    answers = [
        agent.post("/api/customers/create/", row, format="json").status_code,
        agent.put("/api/customers/by-external-id/C-9/", row, format="json").status_code,
        agent.post("/api/customers/bulk/", {"rows": [row]}, format="json").status_code,
        agent.post("/api/readings/create/", {"vin": VIN_1, "read_on": "2025-01-01", "odometer_km": 5}, format="json").status_code,
    ]
    # then
    assert answers == [403, 403, 403, 403]
    assert not Customer.objects.exists()


def test_without_a_token_the_api_answers_401_and_a_user_without_a_role_403(moscow):
    # given
    nobody = client_for(factories.make_user("nobody", dealerships=(moscow,)))
    # then
    assert APIClient().get("/api/customers/").status_code == 401
    assert nobody.get("/api/customers/").status_code == 403


def test_a_manager_of_several_dealerships_names_the_one_a_write_goes_to(manager, moscow, yekaterinburg):
    # given
    api = client_for(manager)
    row = {"external_id": "C-1", "last_name": "Иванов", "first_name": "Пётр"}
    # when
    unnamed = api.post("/api/customers/create/", row, format="json")
    unknown = api.post("/api/customers/create/?dealership=spb", row, format="json")
    named = api.post("/api/customers/create/?dealership=ekb", row, format="json")
    # then
    assert (unnamed.status_code, unnamed.json()) == (400, {"dealership": ["Give the dealership code; yours are: ekb, msk."]})
    assert (unknown.status_code, unknown.json()) == (400, {"dealership": ["No dealership spb among yours."]})
    assert (named.status_code, named.json()["dealership"]) == (201, "ekb")


def test_session_users_use_the_same_api(client, dms, moscow):
    # given: a manager logged in to the web UI
    client.force_login(dms)
    factories.CustomerFactory(dealership=moscow)
    # when
    response = client.get("/api/customers/")
    # then
    assert (response.status_code, response.json()["count"]) == (200, 1)
    assert Sale.objects.count() == 0
