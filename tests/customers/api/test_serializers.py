"""The API's input (customers.api.serializers): rows checked in the import's words, the bulk's
limits."""

from __future__ import annotations

import pytest

from customers.models import Vehicle
from tests.customers.api.helpers import VIN_1, VIN_2

pytestmark = pytest.mark.django_db


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


def test_more_than_a_thousand_rows_or_none_is_a_400_naming_rows(api):
    # when
    too_many = api.post("/api/readings/bulk/", {"rows": [{"vin": VIN_1}] * 1001}, format="json")
    none = api.post("/api/readings/bulk/", {"rows": []}, format="json")
    # then
    assert (too_many.status_code, too_many.json()) == (400, {"rows": ["At most 1000 rows per request: split the batch."]})
    assert (none.status_code, none.json()) == (400, {"rows": ["Send at least one row."]})


def test_a_sent_row_with_a_nul_character_is_refused(api):
    # when
    response = api.post("/api/customers/create/", {"external_id": "C\x00", "last_name": "И", "first_name": "П"}, format="json")
    # then
    assert (response.status_code, response.json()) == (400, {"external_id": ["external id contains a NUL character"]})
