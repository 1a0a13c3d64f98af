"""CSV files the product writes: every cell is made safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel and
LibreOffice as a formula (``=HYPERLINK(...)``, DDE): OWASP's rule is to prefix it with an apostrophe,
which spreadsheets show as text. A cell that is only a number, a phone or a date (digits, spaces and
``+-().,/``) cannot call a function and is left as written, so ``+7 916 123-45-67`` stays readable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import tablib
from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[-+]?[\d\s().,/+\-]*")


def neutralise_cell(value: str) -> str:
    if value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_response(*, headers: Sequence[str], rows: Iterable[Sequence[str]], file_name: str) -> HttpResponse:
    """A CSV download for Russian Excel: UTF-8 with a BOM (Cyrillic opens correctly), ``;`` between
    cells, every cell neutralised."""
    data = tablib.Dataset(*([neutralise_cell(str(cell)) for cell in row] for row in rows),
                          headers=[neutralise_cell(str(header)) for header in headers])
    response = HttpResponse("\ufeff" + data.export("csv", delimiter=";"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response
