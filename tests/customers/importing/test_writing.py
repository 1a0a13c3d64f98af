"""A batch written in one transaction, the re-plan of its vehicles queued on commit (customers.importing.writing)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from customers import importing
from customers.models import Customer, Sale, Vehicle
from tests import factories
from tests.customers.importing.helpers import CUSTOMERS, VEHICLES, VIN_1, VIN_2, VIN_3, counts, run

pytestmark = pytest.mark.django_db


queued = factories.queued_tasks


def test_a_changed_customer_queues_the_replan_of_their_vehicles(moscow, django_capture_on_commit_callbacks):
    # given
    run("customers", CUSTOMERS, moscow)
    run("vehicles", VEHICLES, moscow)
    ivanovs_car = Vehicle.objects.get(vin=VIN_1)
    # when: Ivanov's birthday changes (the birthday touchpoint moves); Smirnova is unchanged
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run("customers", CUSTOMERS.replace("20.06.1985", "21.06.1985"), moscow)
    # then
    assert queued(callbacks) == [("contacts.tasks.replan_vehicles", ([ivanovs_car.id],))]


def test_vehicle_import_queues_the_replan_of_created_and_changed_cars_in_chunks(
    moscow, monkeypatch, django_capture_on_commit_callbacks
):
    # given: three cars, then a file that changes one, keeps one and adds one; two ids per task
    run("customers", CUSTOMERS, moscow)
    run("vehicles", VEHICLES, moscow)
    monkeypatch.setattr(importing.writing, "REPLAN_IDS_PER_TASK", 1)
    text = f"vin;make;model;year\n{VIN_1};Kia;Rio;2024\n{VIN_2};Kia;Ceed SW;2023\n{VIN_3};Kia;Sportage;2025\n"
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = run("vehicles", text, moscow)
    # then
    assert counts(report) == (1, 1, 1, 0)
    ceed, sportage = Vehicle.objects.get(vin=VIN_2), Vehicle.objects.get(vin=VIN_3)
    assert queued(callbacks) == [
        ("contacts.tasks.replan_vehicles", ([ceed.id],)),
        ("contacts.tasks.replan_vehicles", ([sportage.id],)),
    ]
    assert ceed.owner.external_id == "C-2"  # an absent owner column keeps the owner


def test_sales_refer_to_vehicles_and_customers_and_queue_a_replan(moscow, django_capture_on_commit_callbacks):
    # given
    run("customers", CUSTOMERS, moscow)
    run("vehicles", VEHICLES, moscow)
    text = "Номер договора;VIN;Клиент;Дата продажи;Тип;Пробег;Менеджер\nS-1;xta21099043567891;C-1;15.01.2025;Новый;0;Орлов\n"
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = run("sales", text, moscow)
    # then
    assert counts(report) == (1, 0, 0, 0)
    sale = Sale.objects.select_related("vehicle", "customer").get()
    assert (sale.external_id, sale.vehicle.vin, sale.customer.external_id, sale.sold_on, sale.kind, sale.salesperson) == (
        "S-1", VIN_1, "C-1", dt.date(2025, 1, 15), "new", "Орлов")
    assert queued(callbacks) == [("contacts.tasks.replan_vehicles", ([sale.vehicle_id],))]


def _estimated_rows(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()[0]


@pytest.mark.parametrize("threshold", [3, 4], ids=["large", "small"])
def test_an_import_that_wrote_thousands_of_rows_into_a_table_analyzes_it(moscow, monkeypatch, threshold):
    """On PostgreSQL the planner's statistics of a table an import wrote ``ANALYZE_AFTER_ROWS`` rows or
    more into are refreshed at its end (pg_class.reltuples counts the rows); a smaller import leaves them."""
    from customers import bulk

    monkeypatch.setattr(bulk, "ANALYZE_AFTER_ROWS", threshold)
    three = CUSTOMERS + "C-3;Петров;Иван;;+7 926 000 11 23;;\n"
    before = _estimated_rows("customers_customer") if connection.vendor == "postgresql" else None
    # when
    report = run("customers", three, moscow)
    # then
    assert counts(report) == (3, 0, 0, 0)
    if connection.vendor != "postgresql":
        return  # SQLite plans without statistics: nothing to refresh
    if threshold == 3:
        assert _estimated_rows("customers_customer") == Customer.objects.count()
    else:
        assert _estimated_rows("customers_customer") == before

