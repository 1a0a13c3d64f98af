"""The API's endpoints (customers.api.views): create, upsert by key, bulk, bad bodies, 404s, and the
schema and docs pages."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from customers.models import Customer, OdometerReading, Vehicle
from tests import factories
from tests.customers.api.helpers import VIN_1, VIN_2, queued

pytestmark = pytest.mark.django_db


def test_create_answers_201_with_the_record_and_409_when_the_key_exists(api, moscow):
    # given
    row = {"external_id": "C-1", "last_name": "Иванов", "first_name": "Пётр", "phone": "8 (916) 123-45-67",
           "birthday": "20.06.1985"}
    # when
    created = api.post("/api/customers/create/", row, format="json")
    again = api.post("/api/customers/create/", row, format="json")
    # then
    customer = Customer.objects.get()
    assert created.status_code == 201
    assert {key: created.json()[key] for key in ("id", "dealership", "external_id", "phone", "birthday")} == {
        "id": customer.id, "dealership": "msk", "external_id": "C-1", "phone": "+79161234567", "birthday": "1985-06-20"}
    assert (again.status_code, again.json()) == (409, {"external_id": [f"C-1 already exists (id {customer.id}): PUT it to change it."]})


def test_put_by_external_id_creates_then_changes_nothing_then_updates_keeping_empty_fields(api, moscow):
    # given
    url = "/api/customers/by-external-id/C-1/"
    row = {"last_name": "Иванов", "first_name": "Пётр", "email": "petr@example.ru"}
    # when
    created = api.put(url, row, format="json")
    unchanged = api.put(url, row, format="json")
    updated = api.put(url, {"last_name": "Иванов", "first_name": "Павел", "email": None}, format="json")
    # then
    assert [created.status_code, unchanged.status_code, updated.status_code] == [201, 200, 200]
    customer = Customer.objects.get()
    assert (customer.external_id, customer.first_name, customer.email) == ("C-1", "Павел", "petr@example.ru")


def test_put_refuses_a_body_key_other_than_the_urls(api):
    # when
    response = api.put("/api/customers/by-external-id/C-1/", {"external_id": "C-2", "last_name": "И", "first_name": "П"},
                       format="json")
    # then
    assert (response.status_code, response.json()) == (400, {"external_id": ["C-2 differs from C-1 in the URL."]})


def test_external_ids_with_a_slash_are_upserted(api):
    # when: a 1C document number
    response = api.put("/api/customers/by-external-id/2025/0042/", {"last_name": "Иванов", "first_name": "Пётр"},
                       format="json")
    # then
    assert (response.status_code, response.json()["external_id"]) == (201, "2025/0042")


def test_a_vehicle_is_upserted_by_vin_and_refused_in_the_files_words(api, ivanov):
    # when
    created = api.put(f"/api/vehicles/by-vin/{VIN_1.lower()}/",
                      {"make": "Kia", "model": "Rio", "year": 2024, "owner_external_id": "C-1"}, format="json")
    bad_vin = api.put("/api/vehicles/by-vin/XTA2109904356789/", {"make": "Kia", "model": "Rio", "year": 2024}, format="json")
    no_owner = api.put(f"/api/vehicles/by-vin/{VIN_2}/",
                       {"make": "Kia", "model": "Rio", "year": "2024", "owner_external_id": "C-77"}, format="json")
    # then
    assert (created.status_code, created.json()["vin"], created.json()["owner_id"]) == (201, VIN_1, ivanov.id)
    assert (bad_vin.status_code, bad_vin.json()) == (
        400, {"vin": ["VIN XTA2109904356789 is invalid: it must be 17 letters and digits, without I, O or Q."]})
    assert (no_owner.status_code, no_owner.json()) == (
        400, {"owner_external_id": ["customer C-77 is not in the database (import or create the customer first)"]})
    assert list(Vehicle.objects.values_list("vin", flat=True)) == [VIN_1]


def test_a_sale_through_the_api_queues_the_replan_of_its_car(api, ivanov, django_capture_on_commit_callbacks):
    # given
    car = factories.VehicleFactory(vin=VIN_1, owner=None, dealership=ivanov.dealership)
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.put("/api/sales/by-external-id/S-1/", {
            "vin": VIN_1, "customer_external_id": "C-1", "sold_on": "2025-01-15", "kind": "new", "odometer_km": "0"},
            format="json")
    # then
    assert response.status_code == 201
    assert queued(callbacks) == [("contacts.tasks.replan_vehicles", ([car.id],))]
    assert Vehicle.objects.get(pk=car.id).owner_id == ivanov.id


def test_creating_the_same_reading_twice_answers_201_then_200(api, ivanov):
    # given
    factories.VehicleFactory(vin=VIN_1, owner=ivanov)
    reading = {"vin": VIN_1, "read_on": "2025-06-01", "odometer_km": "7 400"}
    # when
    first = api.post("/api/readings/create/", reading, format="json")
    second = api.post("/api/readings/create/", reading, format="json")
    # then
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert list(OdometerReading.objects.values_list("odometer_km", "source")) == [(7400, "manual")]


def test_bulk_upsert_creates_then_changes_nothing_then_updates(api):
    # given
    rows = [{"external_id": f"C-{n}", "last_name": "Иванов", "first_name": "Пётр"} for n in range(3)]
    # when
    first = api.post("/api/customers/bulk/", {"rows": rows}, format="json").json()
    again = api.post("/api/customers/bulk/", {"rows": rows}, format="json").json()
    rows[1]["first_name"] = "Павел"
    changed = api.post("/api/customers/bulk/", {"rows": rows}, format="json").json()
    # then
    assert [(r["created"], r["updated"], r["unchanged"]) for r in (first, again, changed)] == [(3, 0, 0), (0, 0, 3), (0, 1, 2)]
    assert Customer.objects.get(external_id="C-1").first_name == "Павел"


def test_a_bulk_dry_run_writes_nothing(api):
    # when
    body = api.post("/api/customers/bulk/", {"dry_run": True, "rows": [
        {"external_id": "C-1", "last_name": "Иванов", "first_name": "Пётр"}]}, format="json").json()
    # then
    assert (body["dry_run"], body["created"]) == (True, 1)
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("method", "url", "body", "content_type"),
    [
        ("post", "/api/customers/bulk/", "not json", "application/json"),
        ("post", "/api/customers/bulk/", '{"rows": "x"}', "application/json"),
        ("post", "/api/customers/bulk/", '{"rows": [1, 2]}', "application/json"),
        ("post", "/api/customers/bulk/", '{"rows": [{"external_id": "C"}], "dealership": "\\u0000"}', "application/json"),
        ("post", "/api/customers/create/", "[1, 2]", "application/json"),
        ("post", "/api/customers/create/", '{"external_id": "C", "last_name": NaN}', "application/json"),
        ("put", "/api/sales/by-external-id/S-1/", '{"vin": "XTA21099043567891", "sold_on": "2025-02-30"}', "application/json"),
        ("post", "/api/visits/create/", '{"external_id": "V", "vin": 5, "visited_on": 20250101, "odometer_km": 1e400}', "application/json"),
    ],
)
def test_bad_bodies_are_400s_not_500s(api, method, url, body, content_type):
    # when
    response = getattr(api, method)(url, body, content_type=content_type)
    # then
    assert response.status_code == 400


def test_unknown_ids_and_pages_are_404s(api):
    assert api.get(f"/api/customers/{10**30}/").status_code == 404
    assert api.get("/api/customers/99999/").status_code == 404
    assert api.get("/api/customers/?page=7").status_code == 404


def test_the_schema_and_the_docs_page_are_served_without_a_cdn(api):
    # when
    schema = APIClient().get("/api/schema/")
    docs = APIClient().get("/api/docs/").content.decode()
    # then
    assert schema.status_code == 200
    assert b"/api/customers/by-external-id/{key}/" in schema.content
    assert "swagger-ui" in docs and "drf_spectacular_sidecar" in docs
    assert "cdn" not in docs.lower()
