"""schemathesis against the API's own OpenAPI schema on a live server: no 500, no schema violation."""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests import factories

TOKEN: dict[str, str] = {}


@pytest.fixture
def api_schema(live_server, transactional_db, moscow):
    user = factories.make_user("schema", "manager", "agent", dealerships=(moscow,))
    customer = factories.CustomerFactory(dealership=moscow)
    factories.SaleFactory(vehicle__owner=customer, sold_on=dt.date(2025, 1, 15))
    TOKEN["key"] = Token.objects.create(user=user).key
    return schemathesis.from_uri(f"{live_server.url}/api/schema/", base_url=live_server.url)


schema = schemathesis.from_pytest_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_errors_and_keeps_its_schema(case):
    case.call_and_validate(
        headers={"Authorization": f"Token {TOKEN['key']}"},
        checks=(not_a_server_error, response_schema_conformance),
    )
