"""Reading a file (CSV in UTF-8, UTF-16 or Windows-1251 with ; or , and Excel .xlsx) into rows, and
finding its header row and columns."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.importing.base import HEADER_SEARCH_ROWS, ImportFileError
from customers.importing.columns import ALIASES, KINDS, header_key
from customers.importing.parsing import cell_text

# ------------------------------------------------------------------------------------------ reading


@dataclass(frozen=True, slots=True)
class SourceRow:
    line: int  # the row's line in the file: what a user sees in a text editor or in Excel
    cells: tuple[Any, ...]


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    header_line: int
    rows: list[SourceRow]


def read_table(*, content: bytes, kind: str) -> Table:
    """The header and data rows of a CSV or XLSX file, each row with its line number.

    Python's csv module and openpyxl do the parsing. tablib (which wraps both) is not used for reading
    because its CSV loader drops blank lines and so shifts every later line number in the report.
    """
    if content.startswith(b"PK\x03\x04"):
        records = _xlsx_records(content)
    elif content.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(_("This is an old Excel .xls workbook: save it as .xlsx or as CSV and upload it again."))
    else:
        records = _csv_records(_decode(content))
    non_empty = [row for row in records if any(cell_text(cell) for cell in row.cells)]
    if not non_empty:
        raise ImportFileError(_("The file is empty: it has no header line and no rows."))
    header_row = _find_header(kind, non_empty[:HEADER_SEARCH_ROWS]) or non_empty[0]
    return Table(
        # Headers are quoted in messages stored on ImportBatch: no NUL characters (PostgreSQL refuses them).
        headers=tuple(cell_text(cell).replace("\x00", "") for cell in header_row.cells),
        header_line=header_row.line,
        rows=[row for row in non_empty if row.line > header_row.line],
    )


def _decode(content: bytes) -> str:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1251")
    except UnicodeDecodeError:
        raise ImportFileError(
            _("The file is neither UTF-8 nor Windows-1251 text: save it as CSV (UTF-8) or .xlsx.")
        ) from None


def _delimiter(text: str) -> str:
    """``;`` (1C and Russian Excel), ``,`` or tab: whichever the first lines have most of (a title
    line above the table has few)."""
    lines = [line for line in text.splitlines()[:HEADER_SEARCH_ROWS * 2] if line.strip()][:HEADER_SEARCH_ROWS]
    counts = {delimiter: sum(line.count(delimiter) for line in lines) for delimiter in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_records(text: str) -> list[SourceRow]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows: list[SourceRow] = []
    line = 1
    try:
        for cells in reader:
            rows.append(SourceRow(line=line, cells=tuple(cells)))
            line = reader.line_num + 1  # a quoted cell may span lines: the next record starts after it
    except csv.Error as error:
        raise ImportFileError(_("Line %(line)s is not readable CSV: %(error)s.") % {"line": line, "error": error}) from None
    return rows


def _xlsx_records(content: bytes) -> list[SourceRow]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - any reader failure means a damaged workbook for the user
        raise ImportFileError(_("The Excel workbook cannot be read (%(error)s).") % {"error": error}) from None
    try:
        sheet = workbook.worksheets[0]
        # Read-only mode trusts the sheet size stored in the file, which some DMS exporters leave
        # stale (a file of 100 rows saying A1:G2 read as 2 rows): forget it and read every row there is.
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()
        # Read-only sheets yield empty rows for gaps, so the n-th row is the sheet's row n.
        return [SourceRow(line=number, cells=tuple(cells))
                for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        workbook.close()


def _find_header(kind: str, rows: Sequence[SourceRow]) -> SourceRow | None:
    aliases = ALIASES[kind]
    for row in rows:
        matched = {aliases[key] for key in (header_key(cell_text(cell)) for cell in row.cells) if key in aliases}
        if len(matched) >= 2:
            return row
    return None


@dataclass(frozen=True)
class ColumnMap:
    positions: dict[str, int]  # column name → index of the cell in a row
    ignored: list[str]  # the file's headers that match no column


def map_columns(*, kind: str, headers: Sequence[str]) -> ColumnMap:
    """Which cell holds which column; ImportFileError when a required column is missing or doubled."""
    aliases = ALIASES[kind]
    labels = {column.name: column for column in KINDS[kind]}
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for index, header in enumerate(headers):
        name = aliases.get(header_key(header))
        if name is None:
            if header.strip():
                ignored.append(header.strip())
            continue
        if name in positions:
            raise ImportFileError(
                _("The columns “%(first)s” and “%(second)s” both mean %(column)s: keep one of them.")
                % {"first": headers[positions[name]], "second": header, "column": name}
            )
        positions[name] = index
    required = [column.name for column in KINDS[kind] if column.required]
    if kind == "customers" and "full_name" in positions:
        required = [name for name in required if name not in ("last_name", "first_name")]
    missing = [name for name in required if name not in positions]
    if missing:
        found = ", ".join(f"“{h.strip()}”" for h in headers if h.strip()) or _("none")
        optional = [column.name for column in KINDS[kind] if not column.required]
        raise ImportFileError(
            ngettext("Missing column: %(missing)s.", "Missing columns: %(missing)s.", len(missing))
            % {"missing": ", ".join(f"{name} ({_(labels[name].label)})" for name in missing)}
            + " "
            + _("The file's columns are: %(found)s. A %(kind)s file needs %(required)s, and may have %(optional)s.")
            % {"found": found, "kind": kind, "required": ", ".join(c.name for c in KINDS[kind] if c.required),
               "optional": ", ".join(optional)}
        )
    return ColumnMap(positions=positions, ignored=ignored)
