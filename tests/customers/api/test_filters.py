"""The lists' filters (customers.api.filters): bad values are 400s, moments are read in UTC, and
lists filter by key, VIN, dates and customer."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import factories
from tests.customers.api.helpers import VIN_1

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    ["/api/touchpoints/?due_from=yesterday", "/api/customers/?updated_since=2025-13-01T00:00", "/api/sales/?customer=1.5",
     "/api/vehicles/?updated_since=9999-12-31T23:59:59-01:00",
     f"/api/sales/?customer={10**30}", "/api/call-tasks/?status=lost", "/api/readings/?vehicle=-1",
     "/api/visits/?visited_from=99999-01-01"],
)
def test_bad_filters_are_400s_not_500s(api, url):
    # when
    response = api.get(url)
    # then
    assert response.status_code == 400


def test_a_moment_with_a_large_offset_is_read_in_utc(api, ivanov):
    # when: Python accepts offsets up to 24 hours, PostgreSQL only up to 15:59
    response = api.get("/api/customers/?updated_since=2000-01-01T00:00:00%2B16:00")
    # then
    assert (response.status_code, response.json()["count"]) == (200, 1)


def test_lists_filter_by_external_id_vin_dates_and_customer(api, ivanov, moscow):
    # given
    sale = factories.SaleFactory(vehicle__vin=VIN_1, vehicle__owner=ivanov, sold_on=dt.date(2025, 1, 15), external_id="S-1")
    factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2024, 1, 15))
    # when
    by_external_id = api.get("/api/customers/?external_id=C-1").json()
    by_vin = api.get(f"/api/sales/?vin={VIN_1}").json()
    by_date = api.get("/api/sales/?sold_from=2025-01-01&sold_to=2025-12-31").json()
    by_customer = api.get(f"/api/sales/?customer={ivanov.id}").json()
    # then
    assert [row["id"] for row in by_external_id["results"]] == [ivanov.id]
    assert [row["id"] for row in by_vin["results"]] == [sale.id]
    assert [row["id"] for row in by_date["results"]] == [sale.id]
    assert by_customer["results"] == [{
        "id": sale.id, "dealership": "msk", "external_id": "S-1", "vehicle_id": sale.vehicle_id, "vin": VIN_1,
        "customer_id": ivanov.id, "sold_on": "2025-01-15", "kind": "new", "salesperson": "", "odometer_km": 0}]
