"""customers.exports: the one CSV writer (formulas neutralised, numbers kept, Excel's layout per language)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from django.utils import translation

from customers.exports import ENGLISH, RUSSIAN, csv_text, format_cell, layout_for


def test_text_that_starts_like_a_formula_is_neutralised_and_numbers_stay_numbers():
    assert format_cell("=1+1", RUSSIAN) == "'=1+1"
    assert format_cell("@evil", ENGLISH) == "'@evil"
    assert format_cell("\t123", ENGLISH) == "'\t123"
    # a figure is a number however it starts: a negative churn, a negative interval bound
    assert format_cell(-50.0, RUSSIAN) == "-50,0"
    assert format_cell(-12.2, ENGLISH) == "-12.2"
    assert format_cell(-3, RUSSIAN) == "-3"
    assert format_cell(Decimal("-0.5"), RUSSIAN) == "-0,5"
    assert format_cell(1e-7, ENGLISH) == "0.0000001"
    assert format_cell(None, RUSSIAN) == ""
    assert format_cell(dt.date(2026, 1, 31), RUSSIAN) == "2026-01-31"


def test_the_layout_follows_the_language():
    assert layout_for("ru") == RUSSIAN and layout_for("ru-ru") == RUSSIAN and layout_for("en") == ENGLISH
    with translation.override("ru"):
        assert layout_for() == RUSSIAN


def test_a_russian_file_opens_as_russian_excel_reads_it():
    # when
    text = csv_text(headers=["Показатель", "Значение"], rows=[["Отток, %", -12.5], ["=cmd", 3]], language="ru")
    # then: a BOM, ';' between cells, a decimal comma, the formula as text
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert rows == [["Показатель", "Значение"], ["Отток, %", "-12,5"], ["'=cmd", "3"]]
    # and English: ',' and a point
    english = csv_text(headers=["Figure", "Value"], rows=[["Churn, %", -12.5]], language="en")
    assert list(csv.reader(io.StringIO(english.removeprefix("\ufeff")))) == [["Figure", "Value"], ["Churn, %", "-12.5"]]
