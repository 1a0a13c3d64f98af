"""The REST API: roles and dealership scoping, create / upsert / bulk through the import's rules, reads
with filters, and bad input answered with 400s (customers.api, contacts.api, clm.api_urls)."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from contacts.models import CallTask, Touchpoint, TouchpointTemplate
from customers.models import Customer, OdometerReading, Sale, Vehicle
from tests import factories

pytestmark = pytest.mark.django_db

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


# ------------------------------------------------------------------------------------ roles, scope


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


# ------------------------------------------------------------------------------------ create, upsert


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


# ----------------------------------------------------------------------------------------------- bulk


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


def test_bulk_refuses_rows_by_index_in_the_same_words_as_files(api, ivanov):
    # given
    rows = [
        {"vin": "BAD", "make": "Kia", "model": "Rio", "year": 2024},
        {"vin": VIN_1, "make": "Kia", "model": "Rio", "year": "twenty"},
        {"vin": VIN_2, "make": "Kia", "model": "Rio", "year": 2024, "colour": "red"},
        {"vin": VIN_2, "make": "Kia", "model": "Rio", "year": 2024, "owner_external_id": "C-1"},
        {"vin": VIN_2, "make": "Kia", "model": "Rio", "year": 2024, "owner_external_id": "C-1"},
        {"vin": VIN_2, "make": "Kia", "model": "Rio", "year": 2025, "owner_external_id": "C-1"},
        {"vin": VIN_1, "make": ["Kia"], "model": "Rio", "year": 10**40},
    ]
    # when
    response = api.post("/api/vehicles/bulk/", {"rows": rows}, format="json")
    # then
    body = response.json()
    assert response.status_code == 200
    assert (body["created"], body["unchanged"], body["merged"]) == (1, 1, [{"index": 4, "same_as": 3}])
    assert [(item["index"], item["errors"]) for item in body["refused"]] == [
        (0, {"vin": ["VIN BAD is invalid: it must be 17 letters and digits, without I, O or Q."]}),
        (1, {"year": ["year twenty is not a whole number"]}),
        (2, {"colour": ["unknown field; the fields are: vin, make, model, year, plate, owner_external_id, "
                        "maintenance_interval_km, maintenance_interval_months, warranty_months, warranty_km"]}),
        (5, {"row": ["row 5 repeats the key of row 3 with different values"]}),
        (6, {"make": ["make must be text or a number, not list"],
             "year": [f"year {10**40} is not between 1950 and 2027"]}),
    ]
    assert list(Vehicle.objects.values_list("vin", flat=True)) == [VIN_2]


def test_a_bulk_dry_run_writes_nothing(api):
    # when
    body = api.post("/api/customers/bulk/", {"dry_run": True, "rows": [
        {"external_id": "C-1", "last_name": "Иванов", "first_name": "Пётр"}]}, format="json").json()
    # then
    assert (body["dry_run"], body["created"]) == (True, 1)
    assert not Customer.objects.exists()


def test_more_than_a_thousand_rows_or_none_is_a_400_naming_rows(api):
    # when
    too_many = api.post("/api/readings/bulk/", {"rows": [{"vin": VIN_1}] * 1001}, format="json")
    none = api.post("/api/readings/bulk/", {"rows": []}, format="json")
    # then
    assert (too_many.status_code, too_many.json()) == (400, {"rows": ["At most 1000 rows per request: split the batch."]})
    assert (none.status_code, none.json()) == (400, {"rows": ["Send at least one row."]})


# --------------------------------------------------------------------------------------- bad input


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


def test_unknown_ids_and_pages_are_404s(api):
    assert api.get(f"/api/customers/{10**30}/").status_code == 404
    assert api.get("/api/customers/99999/").status_code == 404
    assert api.get("/api/customers/?page=7").status_code == 404


def test_a_sent_row_with_a_nul_character_is_refused(api):
    # when
    response = api.post("/api/customers/create/", {"external_id": "C\x00", "last_name": "И", "first_name": "П"}, format="json")
    # then
    assert (response.status_code, response.json()) == (400, {"external_id": ["external id contains a NUL character"]})


# -------------------------------------------------------------------------------------- reads, filters


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


def test_touchpoints_and_call_tasks_are_read_with_filters_in_the_users_dealerships(moscow, yekaterinburg, ivanov):
    # given
    agent = client_for(factories.make_user("ag", "agent", dealerships=(moscow,)))
    car = factories.VehicleFactory(owner=ivanov)
    template = TouchpointTemplate.objects.order_by("id").first()
    planned = Touchpoint.objects.create(vehicle=car, customer=ivanov, template=template, cycle_start=dt.date(2025, 1, 15),
                                        occurrence=1, due_on=dt.date(2026, 12, 1), window_start=dt.date(2026, 11, 24),
                                        window_end=dt.date(2026, 12, 8), reason="ТО-2")
    Touchpoint.objects.create(vehicle=car, customer=ivanov, template=template, cycle_start=dt.date(2025, 1, 15),
                              occurrence=2, due_on=dt.date(2027, 12, 1), window_start=dt.date(2027, 11, 24),
                              window_end=dt.date(2027, 12, 8), reason="ТО-3", status="done")
    day = dt.date(2026, 11, 23)
    mine = CallTask.objects.create(dealership=moscow, customer=ivanov, scheduled_on=day, window_start=day,
                                   window_end=day, blocks_until=day + dt.timedelta(days=7))
    theirs_customer = factories.CustomerFactory(dealership=yekaterinburg)
    theirs = CallTask.objects.create(dealership=yekaterinburg, customer=theirs_customer, scheduled_on=day, window_start=day,
                                     window_end=day, blocks_until=day + dt.timedelta(days=7))
    # when
    touchpoints = agent.get(f"/api/touchpoints/?status=planned&customer={ivanov.id}&due_from=2026-11-01&due_to=2026-12-31").json()
    calls = agent.get("/api/call-tasks/?status=open&scheduled_from=2026-11-23&scheduled_to=2026-11-23").json()
    # then
    assert [row["id"] for row in touchpoints["results"]] == [planned.id]
    assert (touchpoints["results"][0]["code"], touchpoints["results"][0]["reason"]) == (template.code, "ТО-2")
    assert [row["id"] for row in calls["results"]] == [mine.id]
    assert agent.get(f"/api/call-tasks/{mine.id}/").json()["phone"] == "+79161234567"
    assert agent.get(f"/api/call-tasks/{theirs.id}/").status_code == 404
    assert agent.get(f"/api/touchpoints/{planned.id}/").status_code == 200


def test_the_schema_and_the_docs_page_are_served_without_a_cdn(api):
    # when
    schema = APIClient().get("/api/schema/")
    docs = APIClient().get("/api/docs/").content.decode()
    # then
    assert schema.status_code == 200
    assert b"/api/customers/by-external-id/{key}/" in schema.content
    assert "swagger-ui" in docs and "drf_spectacular_sidecar" in docs
    assert "cdn" not in docs.lower()


# ------------------------------------------------------------------------------------- dialer, figures


def test_a_dialer_claims_a_call_and_records_its_outcome(moscow):
    # given
    moscow.call_hours_start, moscow.call_hours_end = dt.time(0, 0), dt.time(23, 59)
    moscow.save()
    agent = factories.make_user("dialer", "agent", dealerships=(moscow,))
    customer = factories.CustomerFactory(dealership=moscow)
    today = moscow.local_date(dt.datetime.now(dt.UTC))
    task = CallTask.objects.create(dealership=moscow, customer=customer, scheduled_on=today, window_start=today,
                                   window_end=today, blocks_until=today + dt.timedelta(days=7))
    api = client_for(agent)
    # when
    claimed = api.post("/api/call-tasks/claim/").json()
    bad = api.post(f"/api/call-tasks/{task.id}/outcome/", {"outcome": "booked"}, format="json")
    done = api.post(f"/api/call-tasks/{task.id}/outcome/", {"outcome": "reached", "note": "ok"}, format="json")
    # then
    assert claimed["task"]["id"] == task.id
    assert (bad.status_code, list(bad.json())) == (400, ["outcome"])
    assert done.json()["task_status"] == "done"


def test_figures_need_a_manager(moscow, api):
    agent = client_for(factories.make_user("ag2", "agent", dealerships=(moscow,)))
    assert api.get("/api/figures/?from=2025-01-01&to=2025-12-31").status_code == 200
    assert agent.get("/api/figures/?from=2025-01-01&to=2025-12-31").status_code == 403


def test_session_users_use_the_same_api(client, dms, moscow):
    # given: a manager logged in to the web UI
    client.force_login(dms)
    factories.CustomerFactory(dealership=moscow)
    # when
    response = client.get("/api/customers/")
    # then
    assert (response.status_code, response.json()["count"]) == (200, 1)
    assert Sale.objects.count() == 0
