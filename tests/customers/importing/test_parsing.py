"""Cells into values, and a row's refusals by line (customers.importing.parsing)."""

from __future__ import annotations

import datetime as dt

import pytest

from customers import importing
from customers.models import Customer
from tests.customers.importing.helpers import counts, reasons, run

pytestmark = pytest.mark.django_db


def test_a_full_name_column_fills_last_first_and_middle_names(moscow):
    # given
    text = "ID;ФИО;Телефон\nF-1;Кузнецова Мария Ивановна;89031112233\n"
    # when
    report = run("customers", text, moscow)
    # then
    assert counts(report) == (1, 0, 0, 0)
    assert Customer.objects.values_list("last_name", "first_name", "middle_name").get() == ("Кузнецова", "Мария", "Ивановна")


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
