"""Fixtures shared by the import tests."""

from __future__ import annotations

import pytest

from tests.customers.importing.helpers import CUSTOMERS, VEHICLES, run


@pytest.fixture
def two_customers_two_cars(moscow):
    run("customers", CUSTOMERS, moscow)
    run("vehicles", VEHICLES, moscow)
