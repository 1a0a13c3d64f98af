"""DMS imports: files of each kind, good and bad, the dry run, idempotent re-import, the task, the pages
and the command (customers.importing, customers.tasks, customers.import_views, import_data)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from customers import importing, tasks
from customers.importing import ImportFileError, import_file
from customers.models import Customer, ImportBatch, OdometerReading, Sale, ServiceVisit, Vehicle
from tests import factories

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
CUSTOMERS = (
    "Код клиента;Фамилия;Имя;Отчество;Телефон;Дата рождения;E-mail\n"
    "C-1;Иванов;Пётр;Сергеевич;8 (916) 123-45-67;20.06.1985;petr@example.ru\n"
    "C-2;Смирнова;Анна;;+7 926 000 11 22;;\n"
)
VIN_1, VIN_2, VIN_3 = "XTA21099043567891", "XTA21099043567892", "XTA21099043567893"
VEHICLES = (
    "VIN-код;Марка;Модель;Год выпуска;Госномер;Код клиента\n"
    f"{VIN_1};Kia;Rio;2024;А123ВС 77;C-1\n"
    f"{VIN_2};Kia;Ceed;2023;;C-2\n"
)


def run(kind, text, dealership, *, dry_run=False, encoding="utf-8"):
    return import_file(kind=kind, content=text.encode(encoding), dealership=dealership, dry_run=dry_run, now=NOW)


def reasons(report):
    return [(refusal.ref, refusal.reason) for refusal in sorted(report.refused, key=lambda r: r.ref)]


def counts(report):
    return (report.created, report.updated, report.unchanged, len(report.refused))


queued = factories.queued_tasks


# ---------------------------------------------------------------------------------------- customers


def test_customers_in_cp1251_with_russian_headers_and_semicolons_are_imported(moscow):
    # given: a 1C export in Windows-1251 with ";" between cells
    # when
    report = run("customers", CUSTOMERS, moscow, encoding="cp1251")
    # then
    assert counts(report) == (2, 0, 0, 0)
    ivanov = Customer.objects.get(external_id="C-1")
    assert (ivanov.last_name, ivanov.first_name, ivanov.middle_name) == ("Иванов", "Пётр", "Сергеевич")
    assert (ivanov.phone, ivanov.birthday, ivanov.email) == ("+79161234567", dt.date(1985, 6, 20), "petr@example.ru")
    assert Customer.objects.get(external_id="C-2").phone == "+79260001122"


def test_utf8_with_bom_commas_and_english_headers_is_imported(moscow):
    # given
    text = "\ufeffCustomer ID,Last name,First name,Phone,Date of birth\nE-1,Smith,John,+7 916 555-44-33,1990-02-03\n"
    # when
    report = run("customers", text, moscow)
    # then
    assert counts(report) == (1, 0, 0, 0)
    smith = Customer.objects.get()
    assert (smith.external_id, smith.last_name, smith.phone, smith.birthday) == (
        "E-1", "Smith", "+79165554433", dt.date(1990, 2, 3))


def test_a_full_name_column_fills_last_first_and_middle_names(moscow):
    # given
    text = "ID;ФИО;Телефон\nF-1;Кузнецова Мария Ивановна;89031112233\n"
    # when
    report = run("customers", text, moscow)
    # then
    assert counts(report) == (1, 0, 0, 0)
    assert Customer.objects.values_list("last_name", "first_name", "middle_name").get() == ("Кузнецова", "Мария", "Ивановна")


def test_xlsx_with_date_cells_and_numeric_phones_is_imported(moscow):
    # given: Excel stores the phone as a number and the birthday as a date cell
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Код клиента", "Фамилия", "Имя", "Телефон", "Дата рождения"])
    sheet.append([1001, "Петров", "Олег", 79161112233, dt.datetime(1979, 4, 5)])  # noqa: DTZ001 - Excel cells have no zone
    sheet.append([None, None, None, None, None])
    sheet.append(["1002", "Орлова", "Ольга", "", "31.02.1980"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    # when
    report = import_file(kind="customers", content=buffer.getvalue(), dealership=moscow, dry_run=False, now=NOW)
    # then: the blank sheet row 3 keeps row 4's number
    assert counts(report) == (1, 0, 0, 1)
    assert reasons(report) == [(4, "birthday 31.02.1980 is not a valid date (write 31.12.2025 or 2025-12-31)")]
    assert Customer.objects.values_list("external_id", "phone", "birthday").get() == (
        "1001", "+79161112233", dt.date(1979, 4, 5))


def test_bad_rows_are_refused_by_line_with_every_reason_and_good_rows_apply(moscow):
    # given
    text = (
        "external_id;last_name;first_name;phone;email;birthday\n"
        "B-1;Иванов;Пётр;12345;petr@;\n"
        "B-2;;Анна;;;31.02.2025\n"
        "B-3;Сидоров;Олег;;;01.01.2027\n"
        "B-4;Петров;Иван;+7 916 111-22-33;;1970-01-01\n"
    )
    # when
    report = run("customers", text, moscow)
    # then
    assert counts(report) == (1, 0, 0, 3)
    assert reasons(report) == [
        (2, "phone 12345 is not a valid phone number; e-mail petr@ is not a valid address"),
        (3, "birthday 31.02.2025 is not a valid date (write 31.12.2025 or 2025-12-31); last name is empty"),
        (4, "birthday 01.01.2027 is in the future"),
    ]
    assert list(Customer.objects.values_list("external_id", flat=True)) == ["B-4"]


def test_a_file_without_a_required_column_is_refused_whole_naming_found_and_expected(moscow):
    # given
    text = "Марка;Модель;Год\nKia;Rio;2024\n"
    # when
    with pytest.raises(ImportFileError) as refused:
        run("vehicles", text, moscow)
    # then
    assert str(refused.value) == (
        "Missing column: vin (VIN). The file's columns are: “Марка”, “Модель”, “Год”. A vehicles file needs "
        "vin, make, model, year, and may have plate, owner_external_id, maintenance_interval_km, "
        "maintenance_interval_months, warranty_months, warranty_km."
    )
    assert not Vehicle.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty: it has no header line and no rows."),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "This is an old Excel .xls workbook: save it as .xlsx or as CSV and upload it again."),
        (b"external_id;last_name\n\x98\x98\n", "The file is neither UTF-8 nor Windows-1251 text: save it as CSV (UTF-8) or .xlsx."),
        (b"PK\x03\x04broken", "The Excel workbook cannot be read (File is not a zip file)."),
        ("Код;Фамилия;Фамилия;Имя\n".encode(), "The columns “Фамилия” and “Фамилия” both mean last_name: keep one of them."),
    ],
)
def test_unreadable_files_are_refused_whole_in_plain_words(moscow, content, message):
    # when
    with pytest.raises(ImportFileError) as refused:
        import_file(kind="customers", content=content, dealership=moscow, dry_run=False, now=NOW)
    # then
    assert str(refused.value) == message


def test_a_title_above_the_header_and_blank_lines_keep_the_line_numbers(moscow):
    # given: 1C puts a title and an empty line above the table
    text = "Выгрузка клиентов на 01.11.2026\n\nКод;Фамилия;Имя;Телефон\nT-1;Иванов;Пётр;\n\nT-2;Петров;;\n"
    # when
    report = run("customers", text, moscow)
    # then
    assert counts(report) == (1, 0, 0, 1)
    assert reasons(report) == [(6, "first name is empty")]


def test_the_dry_run_counts_and_refuses_like_the_real_run_and_writes_nothing(moscow, django_capture_on_commit_callbacks):
    # given
    text = CUSTOMERS + "C-3;;Олег;;;\n"
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = run("customers", text, moscow, dry_run=True)
    # then
    assert counts(report) == (2, 0, 0, 1)
    assert reasons(report) == [(4, "last name is empty")]
    assert not Customer.objects.exists()
    assert callbacks == []


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


def test_identical_duplicate_rows_are_merged_and_different_ones_are_refused(moscow):
    # given: line 4 repeats line 2 exactly (the phone written differently), line 5 repeats line 3 with another name
    text = (
        "external_id;last_name;first_name;phone\n"
        "D-1;Иванов;Пётр;8 916 123-45-67\n"
        "D-2;Петров;Иван;\n"
        "D-1;Иванов;Пётр;+79161234567\n"
        "D-2;Петров;Илья;\n"
    )
    # when
    report = run("customers", text, moscow)
    # then
    assert counts(report) == (2, 0, 1, 1)
    assert report.merged == [(4, 2)]
    assert reasons(report) == [(5, "line 5 repeats line 3 with different values")]
    assert Customer.objects.get(external_id="D-2").first_name == "Иван"


def test_a_large_file_is_processed_in_windows_and_repeats_are_found_across_them(moscow, monkeypatch):
    # given: windows of two rows; line 4 repeats line 2 exactly, line 5 repeats line 3 with another first name
    monkeypatch.setattr(importing.flows, "WINDOW_ROWS", 2)
    text = "external_id;last_name;first_name\nW-1;Аа;Бб\nW-2;Вв;Гг\nW-1;Аа;Бб\nW-2;Вв;Дд\nW-3;Ее;Жж\n"
    # when
    report = run("customers", text, moscow)
    # then
    assert counts(report) == (3, 0, 1, 1)
    assert (report.merged, reasons(report)) == ([(4, 2)], [(5, "line 5 repeats line 3 with different values")])


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


def test_new_customers_are_drawn_into_the_hold_out_group_at_the_dealerships_share(moscow):
    # given: the default 5 % share
    lines = ["external_id;last_name;first_name"] + [f"H{n};Фамилия;Имя" for n in range(4000)]
    # when
    run("customers", "\n".join(lines), moscow)
    # then: a stable draw, near 5 %
    held = Customer.objects.filter(is_holdout=True).count()
    assert held == sum(importing.in_holdout(moscow, f"H{n}", 5) for n in range(4000))
    assert 140 <= held <= 260


# ----------------------------------------------------------------------------------------- vehicles


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


# -------------------------------------------------------------------------------------------- sales


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


# ------------------------------------------------------------------------------------------- visits


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


# ----------------------------------------------------------------------------------------- readings


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


# ---------------------------------------------------------------------------------- parsing values


ODOMETER = importing.KINDS["readings"][2]
READ_ON = importing.KINDS["readings"][1]


@pytest.mark.parametrize(
    ("written", "number"),
    [("15020", 15020), ("15 020", 15020), ("15\u00a0020", 15020), ("15\u202f020", 15020), ("15,020", 15020),
     ("1,015,020", 1015020), ("15020 km", 15020), ("15 020 км", 15020), ("15020.0", 15020), (15020.0, 15020), (0, 0)],
)
def test_whole_numbers_are_read_with_spaces_commas_and_units(written, number):
    assert importing.parse_whole_number(written, ODOMETER) == number


@pytest.mark.parametrize(
    ("written", "message"),
    [("15,5", "odometer 15,5 is not a whole number"), ("15.000", "odometer 15.000 is not a whole number"),
     (15.5, "odometer 15.5 is not a whole number"), ("-3", "odometer -3 is less than 0"),
     (10**30, f"odometer {10**30} is more than 2 000 000"), ("много", "odometer много is not a whole number")],
)
def test_numbers_that_are_not_whole_or_out_of_range_are_refused(written, message):
    with pytest.raises(importing.CellError) as refused:
        importing.parse_whole_number(written, ODOMETER)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("written", "day"),
    [("2025-12-31", dt.date(2025, 12, 31)), ("31.12.2025", dt.date(2025, 12, 31)), ("1.2.2025", dt.date(2025, 2, 1)),
     ("15.01.2025 0:00:00", dt.date(2025, 1, 15)), ("2025-01-15T10:30:00", dt.date(2025, 1, 15)),
     (dt.datetime(2025, 1, 15, 10, 30), dt.date(2025, 1, 15))],  # noqa: DTZ001 - an Excel cell, no zone
)
def test_dates_are_read_in_iso_and_russian_forms(written, day):
    assert importing.parse_date(written, READ_ON, dt.date(2026, 11, 22)) == day


@pytest.mark.parametrize("written", ["31.02.2025", "01/02/2025", "01.02.25", "2025-13-01", "вчера"])
def test_invalid_or_ambiguous_dates_are_refused(written):
    with pytest.raises(importing.CellError) as refused:
        importing.parse_date(written, READ_ON, dt.date(2026, 11, 22))
    assert str(refused.value) == f"reading date {written} is not a valid date (write 31.12.2025 or 2025-12-31)"


def test_no_header_spelling_means_two_columns_of_one_kind():
    # then: the aliases were checked when the module loaded; every kind has its key columns
    assert {kind: set(keys) <= set(importing.ALIASES[kind].values()) for kind, keys in importing.KEYS.items()} == {
        "customers": True, "vehicles": True, "sales": True, "visits": True, "readings": True}


# ------------------------------------------------------------------------------------ every kind


CP1251_FILES = {
    "customers": ("Код клиента;Фамилия;Имя;Телефон\nK-1;Ёлкин;Семён;8 916 000-00-01\n", "Фамилия"),
    "vehicles": (f"VIN;Марка;Модель;Год выпуска;Владелец\n{VIN_3};Лада;Веста;2023;C-1\n", "VIN"),
    "sales": (f"Номер договора;VIN;Покупатель;Дата продажи;Вид продажи\nS-9;{VIN_1};C-1;01.02.2025;Трейд-ин\n", "Номер договора"),
    "visits": (f"Заказ-наряд;VIN;Дата;Пробег;Вид работ\nV-9;{VIN_1};01.03.2025;5 000;Шиномонтаж\n", "Дата"),
    "readings": (f"VIN;Дата замера;Пробег\n{VIN_1};01.04.2025;6 100\n", "Пробег"),
}


@pytest.fixture
def two_customers_two_cars(moscow):
    run("customers", CUSTOMERS, moscow)
    run("vehicles", VEHICLES, moscow)


@pytest.mark.parametrize("kind", list(CP1251_FILES))
def test_every_kind_reads_a_cp1251_file_with_russian_headers(two_customers_two_cars, moscow, kind):
    # given
    text, _column = CP1251_FILES[kind]
    # when
    report = run(kind, text, moscow, encoding="cp1251")
    # then
    assert counts(report) == (1, 0, 0, 0)


@pytest.mark.parametrize("kind", list(CP1251_FILES))
def test_every_kind_refuses_a_file_without_a_required_column(two_customers_two_cars, moscow, kind):
    # given: the file without one required column
    text, column = CP1251_FILES[kind]
    lines = [line.split(";") for line in text.splitlines()]
    position = lines[0].index(column)
    text = "\n".join(";".join(cell for n, cell in enumerate(line) if n != position) for line in lines)
    # when
    with pytest.raises(ImportFileError, match="^Missing column: "):
        run(kind, text, moscow, encoding="cp1251")


@pytest.mark.parametrize("kind", list(CP1251_FILES))
def test_every_kind_merges_an_identical_repeated_row_and_refuses_a_different_one(two_customers_two_cars, moscow, kind):
    # given: line 3 repeats line 2; line 4 has line 2's key with another (valid) value
    text, _column = CP1251_FILES[kind]
    header, row = text.splitlines()
    changed = {"customers": row.replace("Семён", "Семен"), "vehicles": row.replace("2023", "2024"),
               "sales": row.replace("Трейд-ин", "Новый"), "visits": row.replace("Шиномонтаж", "ТО"),
               "readings": row + ";звонок"}[kind]
    header = header + (";Источник" if kind == "readings" else "")
    # when
    report = run(kind, "\n".join([header, row, row, changed]), moscow)
    # then
    assert counts(report) == (1, 0, 1, 1)
    assert (report.merged, reasons(report)) == ([(3, 2)], [(4, "line 4 repeats line 2 with different values")])


# --------------------------------------------------------------------------------------------- task


def test_ten_thousand_rows_through_the_task_reach_full_progress(moscow, manager):
    # given
    lines = ["Код клиента;Фамилия;Имя;Телефон"] + [f"C{n};Фамилия{n};Имя;+7 916 {n:07d}" for n in range(10_000)]
    batch = ImportBatch.objects.create(kind="customers", dealership=moscow, uploaded_by=manager, file_name="big.csv",
                                       file_content="\n".join(lines).encode("cp1251"), is_dry_run=False)
    progress: list[int] = []

    def record_progress(execute, sql, params, many, context):
        if sql.startswith('UPDATE "customers_importbatch" SET "processed_rows"'):
            progress.append(params[0])
        return execute(sql, params, many, context)

    # when
    with connection.execute_wrapper(record_progress):
        result = tasks.run_import(batch.pk)
    # then
    batch.refresh_from_db()
    assert result == "done"
    assert (batch.status, batch.total_rows, batch.processed_rows, batch.created_count, batch.refused_count) == (
        "done", 10_000, 10_000, 10_000, 0)
    assert progress == [2000, 4000, 6000, 8000, 10_000]
    assert Customer.objects.count() == 10_000


def test_a_refused_file_fails_its_batch_with_the_reason(moscow, manager):
    # given
    batch = ImportBatch.objects.create(kind="sales", dealership=moscow, uploaded_by=manager, file_name="sales.csv",
                                       file_content="vin;дата\n".encode(), is_dry_run=True)
    # when
    result = tasks.run_import(batch.pk)
    # then
    batch.refresh_from_db()
    assert (result, batch.status) == ("refused", "failed")
    assert batch.error.startswith("Missing columns: external_id (external id), customer_external_id (customer).")


def test_nul_characters_in_cells_and_headers_are_refused_and_stored_without_them(moscow, manager):
    # given: PostgreSQL cannot store a NUL character in text or jsonb
    text = "Код клиента;Фамилия;Имя;Прим\x00ечание\nN-1;Ив\x00анов;Пётр;x\nN-2;Петров;Иван;\n"
    batch = ImportBatch.objects.create(kind="customers", dealership=moscow, uploaded_by=manager, file_name="nul.csv",
                                       file_content=text.encode(), is_dry_run=False)
    # when
    tasks.run_import(batch.pk)
    # then
    batch.refresh_from_db()
    assert (batch.status, batch.created_count, batch.refused_count) == ("done", 1, 1)
    assert batch.refused_rows == [{"line": 2, "reason": "last name contains a NUL character",
                                   "row": {"external_id": "N-1", "last_name": "Иванов", "first_name": "Пётр"}}]


def test_a_finished_batch_is_not_run_again(moscow, manager):
    # given
    batch = ImportBatch.objects.create(kind="customers", dealership=moscow, uploaded_by=manager, file_name="c.csv",
                                       file_content=CUSTOMERS.encode(), is_dry_run=False, status="done")
    # when
    result = tasks.run_import(batch.pk)
    # then
    assert result == "skipped"
    assert not Customer.objects.exists()


# -------------------------------------------------------------------------------------------- pages


def upload(client, kind, text, dealership, name="file.csv"):
    content = io.BytesIO(text.encode())
    content.name = name
    return client.post(reverse("customers:imports"), {"kind": kind, "dealership": dealership.pk, "file": content})


def test_an_upload_is_dry_run_first_then_applied(client, manager, moscow, django_capture_on_commit_callbacks):
    # given
    client.force_login(manager)
    # when: the upload runs the dry run
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, "customers", CUSTOMERS + "C-3;;Олег;;;\n", moscow)
    batch = ImportBatch.objects.get()
    preview = client.get(reverse("customers:import", args=[batch.pk])).content.decode()
    # then
    assert response.status_code == 302
    assert (batch.status, batch.is_dry_run, batch.created_count, batch.refused_count) == ("previewed", True, 2, 1)
    assert not Customer.objects.exists()
    assert "would be created" in preview and "line 4: last name is empty" in preview
    # when: applied
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("customers:import_apply", args=[batch.pk]))
    # then
    batch.refresh_from_db()
    assert (batch.status, batch.is_dry_run, batch.created_count) == ("done", False, 2)
    assert Customer.objects.count() == 2


def test_applying_twice_runs_the_import_once(client, manager, moscow, tasks_queued_not_run):
    # given: a previewed batch
    from celery.signals import before_task_publish

    client.force_login(manager)
    batch = ImportBatch.objects.create(kind="customers", dealership=moscow, uploaded_by=manager, file_name="c.csv",
                                       file_content=CUSTOMERS.encode(), status="previewed")
    published: list[tuple[str, tuple]] = []

    def record(sender, body, **kwargs):
        published.append((sender, tuple(body[0])))

    before_task_publish.connect(record)
    # when
    try:
        client.post(reverse("customers:import_apply", args=[batch.pk]))
        client.post(reverse("customers:import_apply", args=[batch.pk]))
    finally:
        before_task_publish.disconnect(record)
    # then
    assert published == [("customers.tasks.run_import", (batch.pk,))]


def test_the_progress_partial_polls_while_running_and_stops_when_done(client, manager, moscow):
    # given
    client.force_login(manager)
    batch = ImportBatch.objects.create(kind="customers", dealership=moscow, uploaded_by=manager, file_name="c.csv",
                                       file_content=b"", status="running", total_rows=8000, processed_rows=2000)
    url = reverse("customers:import", args=[batch.pk])
    # when
    running = client.get(url, headers={"HX-Request": "true"}).content.decode()
    ImportBatch.objects.filter(pk=batch.pk).update(status="done", processed_rows=8000, created_count=8000)
    done = client.get(url, headers={"HX-Request": "true"}).content.decode()
    # then
    assert 'hx-trigger="every 1s"' in running and "2000 of 8000 rows (25 %)" in running
    assert "<html" not in running
    assert 'hx-trigger' not in done and "Applied." in done


def test_the_refused_rows_download_has_the_original_columns_plus_line_and_error(client, manager, moscow):
    # given
    client.force_login(manager)
    text = "Код клиента;Фамилия;Имя;Цвет глаз\nR-1;Иванов;Пётр;серый\nR-2;;Анна;карий\n"
    batch = ImportBatch.objects.create(kind="customers", dealership=moscow, uploaded_by=manager, file_name="c.csv",
                                       file_content=text.encode("cp1251"), is_dry_run=True)
    tasks.run_import(batch.pk)
    # when
    response = client.get(reverse("customers:import_refused", args=[batch.pk]))
    # then
    assert response["Content-Disposition"] == f'attachment; filename="refused-customers-{batch.pk}.csv"'
    assert response.content.decode("utf-8-sig").splitlines() == [
        "Код клиента,Фамилия,Имя,Цвет глаз,Line,Error",
        "R-2,,Анна,карий,3,last name is empty",
    ]
    # and for a Russian reader, as Russian Excel splits it
    russian = client.get(reverse("customers:import_refused", args=[batch.pk]), headers={"Accept-Language": "ru"})
    assert russian.content.decode("utf-8-sig").splitlines()[0] == "Код клиента;Фамилия;Имя;Цвет глаз;Строка;Ошибка"


def test_each_kind_has_a_template_with_its_columns(client, manager):
    # given
    client.force_login(manager)
    # when
    response = client.get(reverse("customers:import_template", args=["sales"]))
    # then
    assert response.content.decode("utf-8-sig").strip() == (
        "external_id,vin,customer_external_id,sold_on,kind,odometer_km,salesperson")


def test_the_history_lists_imports_of_the_users_dealerships_only(client, moscow, yekaterinburg):
    # given
    ekb_manager = factories.make_user("eva", "manager", dealerships=(yekaterinburg,))
    ImportBatch.objects.create(kind="customers", dealership=moscow, file_name="moscow.csv", file_content=b"")
    theirs = ImportBatch.objects.create(kind="sales", dealership=yekaterinburg, uploaded_by=ekb_manager,
                                        file_name="ekb-sales.csv", file_content=b"")
    mine = ImportBatch.objects.filter(dealership=moscow).get()
    client.force_login(ekb_manager)
    # when
    page = client.get(reverse("customers:imports")).content.decode()
    # then
    assert "ekb-sales.csv" in page and "moscow.csv" not in page
    assert client.get(reverse("customers:import", args=[mine.pk])).status_code == 404
    assert client.get(reverse("customers:import", args=[theirs.pk])).status_code == 200


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_only_managers_and_admins_may_import(client, moscow, role):
    # given
    client.force_login(factories.make_user("someone", role, dealerships=(moscow,)))
    # when
    response = upload(client, "customers", CUSTOMERS, moscow)
    # then
    assert response.status_code == 403
    assert client.get(reverse("customers:imports")).status_code == 403
    assert not ImportBatch.objects.exists()


def test_an_upload_of_another_file_type_is_refused_by_the_form(client, manager, moscow):
    # given
    client.force_login(manager)
    # when
    response = upload(client, "customers", CUSTOMERS, moscow, name="customers.pdf")
    # then
    assert response.status_code == 200
    assert "Upload a .csv or .xlsx file." in response.content.decode()
    assert not ImportBatch.objects.exists()


# ------------------------------------------------------------------------------------------ command


def test_the_command_dry_run_prints_every_refused_line_and_writes_nothing(tmp_path, moscow, capsys):
    # given
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS + "C-3;;Олег;;;;\n", encoding="cp1251")
    # when
    call_command("import_data", "customers", str(path), "--dealership", "msk", "--dry-run")
    # then
    out = capsys.readouterr().out.splitlines()
    batch = ImportBatch.objects.get()
    assert out == [
        "3 rows: 2 would be created, 0 would be updated, 0 unchanged, 1 refused.",
        "  line 4: last name is empty",
        f"Import #{batch.pk} (Previewed (dry run)).",
    ]
    assert not Customer.objects.exists()


def test_the_command_imports_and_refuses_bad_arguments(tmp_path, moscow, yekaterinburg, capsys):
    # given
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")
    # when
    call_command("import_data", "customers", str(path), "--dealership", "ekb")
    # then
    assert capsys.readouterr().out.startswith("2 rows: 2 were created, 0 were updated, 0 unchanged, 0 refused.")
    assert Customer.objects.filter(dealership=yekaterinburg).count() == 2
    with pytest.raises(CommandError, match="Give --dealership CODE \\(one of: ekb, msk\\)."):
        call_command("import_data", "customers", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_data", "customers", str(tmp_path / "missing.csv"), "--dealership", "msk")
    with pytest.raises(CommandError, match="Missing columns: vin \\(VIN\\), make"):
        call_command("import_data", "vehicles", str(path), "--dealership", "msk")
