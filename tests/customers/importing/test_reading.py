"""Reading a file: encodings, delimiters, .xlsx, the header row and its columns (customers.importing.reading)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from customers.importing import ImportFileError, import_file
from customers.models import Customer, Vehicle
from tests.customers.importing.helpers import (
    CP1251_FILES,
    CUSTOMERS,
    NOW,
    counts,
    reasons,
    run,
)

pytestmark = pytest.mark.django_db


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
