"""schemathesis against the API's own OpenAPI schema, on a live server, with a manager's token and some
data: every operation gets generated requests, and the run fails on any 5xx or any response that does
not match the schema (not_a_server_error + response_schema_conformance)."""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from contacts.models import CallTask, Touchpoint, TouchpointTemplate
from tests import factories
from tests.strength import examples

EXAMPLES_PER_OPERATION = examples(25)  # 31 operations: the whole run at full strength takes about a minute


@pytest.fixture
def manager_token(transactional_db, moscow, tasks_queued_not_run) -> str:
    """A manager (who also works the queue) of Moscow, with a customer, a car, a sale, a reading, a
    touchpoint and a call."""
    user = factories.make_user("schema", "manager", "agent", dealerships=(moscow,))
    customer = factories.CustomerFactory(dealership=moscow, external_id="C-1")
    sale = factories.SaleFactory(vehicle__owner=customer, sold_on=dt.date(2025, 1, 15), external_id="S-1")
    factories.ServiceVisitFactory(vehicle=sale.vehicle, external_id="V-1")
    factories.OdometerReadingFactory(vehicle=sale.vehicle)
    Touchpoint.objects.create(
        vehicle=sale.vehicle, customer=customer, template=TouchpointTemplate.objects.order_by("id").first(),
        cycle_start=dt.date(2025, 1, 15), occurrence=1, due_on=dt.date(2026, 12, 1),
        window_start=dt.date(2026, 11, 24), window_end=dt.date(2026, 12, 8), reason="ТО-2",
    )
    day = dt.date(2026, 11, 23)
    CallTask.objects.create(dealership=moscow, customer=customer, scheduled_on=day, window_start=day, window_end=day,
                            blocks_until=day + dt.timedelta(days=7))
    return factories.api_token(user)


@pytest.fixture
def api_schema(live_server, manager_token):
    return schemathesis.from_uri(f"{live_server.url}/api/schema/", base_url=live_server.url)


schema = schemathesis.from_pytest_fixture("api_schema")


@pytest.mark.fuzz
@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_the_api_never_errors_and_keeps_to_its_schema(case, manager_token):
    # when / then: each generated request is answered without a 5xx and as the schema says
    case.call_and_validate(
        headers={"Authorization": f"Token {manager_token}"},
        checks=(not_a_server_error, response_schema_conformance),
    )
