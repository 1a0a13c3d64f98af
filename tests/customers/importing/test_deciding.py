"""What each row changes or why it is refused, per kind of file; re-imports change nothing (customers.importing.deciding)."""

from __future__ import annotations

import datetime as dt

import pytest

from customers import importing
from customers.models import Customer, OdometerReading, Sale, ServiceVisit, Vehicle
from tests import factories
from tests.customers.importing.helpers import CUSTOMERS, VEHICLES, VIN_1, VIN_2, VIN_3, counts, reasons, run

pytestmark = pytest.mark.django_db


def test_importing_the_same_file_twice_changes_nothing_the_second_time(moscow):
    # given
    run("customers", CUSTOMERS, moscow)
    first_updated_at = sorted(Customer.objects.values_list("updated_at", flat=True))
    # when
    second = run("customers", CUSTOMERS, moscow)
    # then
    assert counts(second) == (0, 0, 2, 0)
    assert sorted(Customer.objects.values_list("updated_at", flat=True)) == first_updated_at


def test_a_changed_row_updates_its_record_and_an_empty_cell_keeps_the_stored_value(moscow):
    # given
    run("customers", CUSTOMERS, moscow)
    # when: a new phone for C-1, and its birthday and e-mail cells are empty
    report = run("customers", "external_id;last_name;first_name;phone;birthday;email\nC-1;Иванов;Пётр;+7 916 999 88 77;;\n", moscow)
    # then
    assert counts(report) == (0, 1, 0, 0)
    ivanov = Customer.objects.get(external_id="C-1")
    assert (ivanov.phone, ivanov.birthday, ivanov.email, ivanov.middle_name) == (
        "+79169998877", dt.date(1985, 6, 20), "petr@example.ru", "Сергеевич")


def test_new_customers_are_drawn_into_the_hold_out_group_at_the_dealerships_share(moscow):
    # given: the default 5 % share
    lines = ["external_id;last_name;first_name"] + [f"H{n};Фамилия;Имя" for n in range(4000)]
    # when
    run("customers", "\n".join(lines), moscow)
    # then: a stable draw, near 5 %
    held = Customer.objects.filter(is_holdout=True).count()
    assert held == sum(importing.in_holdout(moscow, f"H{n}", 5) for n in range(4000))
    assert 140 <= held <= 260


def test_vehicles_are_imported_with_their_owners(moscow):
    # given
    run("customers", CUSTOMERS, moscow)
    # when
    report = run("vehicles", VEHICLES, moscow)
    # then
    assert counts(report) == (2, 0, 0, 0)
    rio = Vehicle.objects.select_related("owner").get(vin=VIN_1)
    assert (rio.make, rio.model, rio.year, rio.plate, rio.owner.external_id, rio.dealership) == (
        "Kia", "Rio", 2024, "А123ВС 77", "C-1", moscow)


def test_bad_vins_unknown_owners_and_repeated_vins_are_refused_by_line(moscow):
    # given
    run("customers", CUSTOMERS, moscow)
    text = (
        "VIN;Марка;Модель;Год;Владелец\n"
        f"{VIN_1};Kia;Rio;2024;C-1\n"
        "XTA2109904356789;Kia;Rio;2024;C-1\n"
        f"{VIN_2};Kia;Rio;2024;C-77\n"
        f"{VIN_1};Kia;Rio;2025;C-1\n"
        f"{VIN_3};Kia;Rio;1890;C-1\n"
        "XTAO1099043567891;Kia;Rio;2024;C-1\n"
    )
    # when
    report = run("vehicles", text, moscow)
    # then
    assert counts(report) == (1, 0, 0, 5)
    assert reasons(report) == [
        (3, "VIN XTA2109904356789 is invalid: it must be 17 letters and digits, without I, O or Q."),
        (4, "customer C-77 is not in the database (import or create the customer first)"),
        (5, "line 5 repeats line 2 with different values"),
        (6, "year 1890 is not between 1950 and 2027"),
        (7, "VIN XTAO1099043567891 is invalid: it must be 17 letters and digits, without I, O or Q."),
    ]
    assert list(Vehicle.objects.values_list("vin", flat=True)) == [VIN_1]


def test_a_vin_of_another_dealership_is_refused(moscow, yekaterinburg):
    # given
    factories.VehicleFactory(vin=VIN_1, owner__dealership=yekaterinburg)
    # when
    report = run("vehicles", f"vin;make;model;year\n{VIN_1};Lada;Vesta;2022\n", moscow)
    # then
    assert reasons(report) == [(2, f"VIN {VIN_1} is registered at another dealership of the group: import it there")]
    assert Vehicle.objects.get(vin=VIN_1).make == "Kia"


def test_a_sale_naming_an_unknown_customer_and_vehicle_is_refused_with_both_reasons(moscow):
    # given
    run("customers", CUSTOMERS, moscow)
    text = (
        "external_id;vin;customer_external_id;sold_on\n"
        f"S-1;{VIN_3};C-77;15.01.2025\n"
        f"S-2;{VIN_3};C-1;31.02.2025\n"
    )
    # when
    report = run("sales", text, moscow)
    # then
    assert reasons(report) == [
        (2, f"vehicle {VIN_3} is not in the database (import or create the vehicle first); "
            "customer C-77 is not in the database (import or create the customer first)"),
        (3, "sale date 31.02.2025 is not a valid date (write 31.12.2025 or 2025-12-31)"),
    ]
    assert not Sale.objects.exists()


def test_the_buyer_of_a_cars_latest_sale_becomes_its_owner(moscow):
    # given: Ivanov bought the Rio new in 2024
    run("customers", CUSTOMERS, moscow)
    run("vehicles", VEHICLES, moscow)
    run("sales", f"external_id;vin;customer_external_id;sold_on;kind\nS-1;{VIN_1};C-1;2024-03-01;new\n", moscow)
    # when: Smirnova buys it used in 2026, and an old sale of 2023 is imported later
    run("sales", f"external_id;vin;customer_external_id;sold_on;kind\nS-2;{VIN_1};C-2;2026-05-10;б/у\n", moscow)
    run("sales", f"external_id;vin;customer_external_id;sold_on;kind\nS-0;{VIN_1};C-1;2023-01-10;trade-in\n", moscow)
    # then
    rio = Vehicle.objects.select_related("owner").get(vin=VIN_1)
    assert rio.owner.external_id == "C-2"
    assert dict(Sale.objects.values_list("external_id", "kind")) == {"S-0": "trade_in", "S-1": "new", "S-2": "used"}


def test_visits_are_imported_with_their_odometer_as_a_reading_and_reimport_changes_nothing(moscow):
    # given
    run("customers", CUSTOMERS, moscow)
    run("vehicles", VEHICLES, moscow)
    text = (
        "Заказ-наряд;VIN;Дата заезда;Пробег;Вид работ\n"
        f"V-1;{VIN_1};20.11.2025;15\u00a0020;ТО-1\n"
        f"V-2;{VIN_1};03.03.2026;17 500 км;Ремонт\n"
        f"V-3;{VIN_2};2026-04-01;12,5;ТО\n"
    )
    # when
    first = run("visits", text, moscow)
    second = run("visits", text, moscow)
    # then
    assert counts(first) == (2, 0, 0, 1)
    assert reasons(first) == [(4, "odometer 12,5 is not a whole number")]
    assert counts(second) == (0, 0, 2, 1)
    assert list(ServiceVisit.objects.order_by("external_id").values_list("external_id", "odometer_km", "kind")) == [
        ("V-1", 15020, "maintenance"), ("V-2", 17500, "repair")]
    assert list(OdometerReading.objects.order_by("read_on").values_list("read_on", "odometer_km", "source")) == [
        (dt.date(2025, 11, 20), 15020, "visit"), (dt.date(2026, 3, 3), 17500, "visit")]


def test_a_corrected_visit_odometer_moves_the_reading_it_made(moscow):
    # given
    run("customers", CUSTOMERS, moscow)
    run("vehicles", VEHICLES, moscow)
    run("visits", f"external_id;vin;visited_on;odometer_km\nV-1;{VIN_1};2025-11-20;1502\n", moscow)
    # when: the typo is corrected
    report = run("visits", f"external_id;vin;visited_on;odometer_km\nV-1;{VIN_1};2025-11-20;15020\n", moscow)
    # then
    assert counts(report) == (0, 1, 0, 0)
    assert list(OdometerReading.objects.values_list("read_on", "odometer_km", "source")) == [
        (dt.date(2025, 11, 20), 15020, "visit")]


def test_a_refused_visit_writes_neither_a_visit_nor_a_reading(moscow):
    # given
    run("customers", CUSTOMERS, moscow)
    run("vehicles", VEHICLES, moscow)
    # when: an unknown visit type
    report = run("visits", f"external_id;vin;visited_on;odometer_km;kind\nV-9;{VIN_1};2025-11-20;15020;мойка\n", moscow)
    # then
    assert reasons(report) == [(2, "visit type мойка is not one of: maintenance, repair, warranty, tyres, body")]
    assert (ServiceVisit.objects.count(), OdometerReading.objects.count()) == (0, 0)


def test_a_reading_is_known_by_vin_date_and_km_so_importing_it_twice_changes_nothing(moscow):
    # given
    run("customers", CUSTOMERS, moscow)
    run("vehicles", VEHICLES, moscow)
    text = f"VIN;Дата;Пробег;Источник\n{VIN_1};01.06.2025;7 400;телематика\n{VIN_1};01.07.2025;8 100;\n"
    # when
    first = run("readings", text, moscow)
    second = run("readings", text, moscow)
    # then
    assert counts(first) == (2, 0, 0, 0)
    assert counts(second) == (0, 0, 2, 0)
    assert list(OdometerReading.objects.order_by("read_on").values_list("odometer_km", "source")) == [
        (7400, "telematics"), (8100, "manual")]


def test_readings_of_an_unknown_car_or_in_the_future_are_refused(moscow):
    # given
    run("customers", CUSTOMERS, moscow)
    run("vehicles", VEHICLES, moscow)
    text = f"vin;read_on;km\n{VIN_3};01.06.2025;7400\n{VIN_1};2026-11-23;7400\n{VIN_1};2026-11-22;3 000 000\n"
    # when
    report = run("readings", text, moscow)
    # then
    assert reasons(report) == [
        (2, f"vehicle {VIN_3} is not in the database (import or create the vehicle first)"),
        (3, "reading date 2026-11-23 is in the future"),
        (4, "odometer 3 000 000 is more than 2 000 000"),
    ]
    assert not OdometerReading.objects.exists()
