"""Clients, fixtures and VINs shared by the REST API tests (customers.api, contacts.api): a test module
or conftest.py imports the fixtures it uses (``from tests.customers.api.helpers import api as api``)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests import factories

VIN_1, VIN_2 = "XTA21099043567891", "XTA21099043567892"


def client_for(user) -> APIClient:
    """An integration's client: its own token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {factories.api_token(user)}")
    return client


@pytest.fixture
def dms(moscow):
    """The DMS integration user of the Moscow dealership."""
    return factories.make_user("dms", "manager", dealerships=(moscow,))


@pytest.fixture
def api(dms) -> APIClient:
    return client_for(dms)


@pytest.fixture
def ivanov(moscow):
    return factories.CustomerFactory(dealership=moscow, external_id="C-1", last_name="Иванов", first_name="Пётр",
                                     phone="+79161234567", email="petr@example.ru")


queued = factories.queued_tasks
