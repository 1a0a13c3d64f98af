"""Every CSV file the product writes goes through here: safe to open in a spreadsheet, and laid out
for Excel in the reader's language.

**Formulas.** A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read by Excel and LibreOffice as a formula (``=HYPERLINK(...)``, DDE): OWASP's rule is to prefix it
with an apostrophe, which spreadsheets show as text. Only text is neutralised: a figure (an ``int``,
``float`` or ``Decimal``, e.g. a churn of -50 %) is written as a number, and so is a text that is
only a number or a phone (digits, spaces and ``+-().,/``, which cannot call a function), so
``+7 916 123-45-67`` and ``-15`` stay readable.

**Language.** Excel takes its list separator and decimal mark from the system's regional settings:
Russian Excel splits cells on ``;`` and reads ``12,5`` as a number, English Excel uses ``,`` and
``12.5``. So a Russian reader gets ``;`` and decimal commas, an English one ``,`` and points; both get
UTF-8 with a BOM (without it Excel reads Cyrillic names as Windows-1252). Headers are whatever the
caller passes, already translated (lazy strings are rendered in the active language).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from django.http import HttpResponse
from django.utils import translation

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A signed number or phone: no letters, no quotes, no '|' or '!', so nothing a spreadsheet could run.
PLAIN_NUMBER = re.compile(r"[-+][\d ().,/+\-]*")
BOM = "\ufeff"


@dataclass(frozen=True)
class CsvLayout:
    delimiter: str
    decimal: str


ENGLISH = CsvLayout(delimiter=",", decimal=".")
RUSSIAN = CsvLayout(delimiter=";", decimal=",")


def layout_for(language: str | None = None) -> CsvLayout:
    """The layout Excel expects in this language (the active one by default)."""
    code = (language or translation.get_language() or "en").lower()
    return RUSSIAN if code.startswith("ru") else ENGLISH


def neutralise_cell(value: str) -> str:
    if value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def format_cell(value: Any, layout: CsvLayout) -> str:
    """One cell as text: numbers with the layout's decimal mark (never neutralised), dates in ISO
    (which Excel reads as dates in both languages), everything else as neutralised text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return neutralise_cell(str(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        text = format(value, "f") if isinstance(value, Decimal) else repr(value)
        if "e" in text or "E" in text:
            text = f"{value:.10f}".rstrip("0").rstrip(".")
        return text.replace(".", layout.decimal)
    if isinstance(value, dt.date):
        return value.isoformat()
    return neutralise_cell(str(value))


def csv_text(*, headers: Sequence[Any], rows: Iterable[Sequence[Any]], language: str | None = None) -> str:
    """The BOM, the header line and the rows, every cell through format_cell."""
    layout = layout_for(language)
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=layout.delimiter, lineterminator="\r\n")
    writer.writerow([neutralise_cell(str(header)) for header in headers])
    writer.writerows([format_cell(cell, layout) for cell in row] for row in rows)
    return out.getvalue()


class Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def write_csv(out: Writable, *, headers: Sequence[Any], rows: Iterable[Sequence[Any]],
              language: str | None = None) -> None:
    """The same to a stream (a command's standard output), in one write."""
    out.write(csv_text(headers=headers, rows=rows, language=language))


def csv_response(*, headers: Sequence[Any], rows: Iterable[Sequence[Any]], file_name: str,
                 language: str | None = None) -> HttpResponse:
    """A CSV download in the request's language (the active one)."""
    response = HttpResponse(csv_text(headers=headers, rows=rows, language=language),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response
