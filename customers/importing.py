"""DMS imports and API upserts of the facts: customers, vehicles, sales, service visits, odometer readings.

One flow for a file (``import_file``: the Imports page, ``manage.py import_data``) and for API rows
(``import_rows``: customers.api), so both refuse the same things with the same words:

1. read the file (``read_table``): XLSX through openpyxl; CSV in UTF-8 (with or without BOM), else
   Windows-1251, with ``;``, ``,`` or tab between cells. Every row keeps its line number in the file;
2. match the headers to columns through aliases, Russian and English (``map_columns``); a missing
   required column refuses the whole file, naming the columns found and expected;
3. parse every row into clean values, pure, no database (``parse_row``), or refuse it with each problem
   in plain words. A row whose key repeats an earlier row's is merged into it when identical and
   refused when different;
4. load what already exists for the whole file, in a few chunked queries (keys and compared fields);
5. decide each row: create, update (only the cells that differ; an empty cell never erases a stored
   value), unchanged, or refused (a customer or vehicle that is not in the database);
6. unless it is a dry run, write the decisions in batches of ``BATCH_ROWS``, one transaction each, with
   bulk_create / bulk_update, and queue the re-plan of the touched vehicles on each batch's commit.

Decisions are made before anything is written, so a refused row never writes anything, and importing
the same file twice changes nothing the second time. The user's guide is docs/import.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, connection, models, transaction
from django.db.models import F, Lookup
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from customers import hooks
from customers.models import (
    VIN_PATTERN,
    Customer,
    Dealership,
    ImportBatch,
    OdometerReading,
    RefusalSource,
    Sale,
    ServiceVisit,
    Vehicle,
    normalize_phone,
)
from customers.refusals import apply_suppression_list, record_refusal

logger = logging.getLogger(__name__)

# Rows per write transaction: big enough that bulk statements dominate, small enough that a batch
# holds its locks for well under a second and a failure redoes little (a rerun is idempotent anyway).
BATCH_ROWS = 2000
# Rows parsed, decided and written together: the memory an import holds besides the file itself.
WINDOW_ROWS = 20_000
# Keys per ``__in`` query when loading what exists: SQLite accepts 32,766 parameters, and 5,000 keeps
# each PostgreSQL statement short.
LOAD_CHUNK = 5000
# Vehicle ids per re-plan task: the same chunk contacts.planning.REPLAN_CHUNK uses (a worker re-plans
# ~2,000 vehicles in a few seconds with flat memory); the brief's ceiling is 5,000.
REPLAN_IDS_PER_TASK = 2000
# Rows with a header among the first few non-empty lines are found (1C puts a title above the table).
HEADER_SEARCH_ROWS = 10
MAX_ODOMETER_KM = 2_000_000
EARLIEST_DATE = dt.date(1900, 1, 1)
EARLIEST_MODEL_YEAR = 1950  # Vehicle's check constraint vehicle_year_range

T = TypeVar("T")


class ImportFileError(ValueError):
    """The whole file is refused (unreadable, empty, a required column missing), in plain words."""


class CellError(ValueError):
    """One cell's problem, in words that name the column and the value."""


# ----------------------------------------------------------------------------------------- columns


ValueType = Literal["key", "text", "vin", "phone", "email", "date", "year", "number", "choice"]


@dataclass(frozen=True)
class Column:
    """A column of an import kind: its canonical name (the template's header and the API's field),
    the words used for it in messages, the header spellings accepted, and how its cells are read."""

    name: str
    label: str  # an English msgid (gettext_noop), translated when a message is built
    aliases: tuple[str, ...]
    type: ValueType = "text"
    required: bool = False
    max_length: int = 0
    minimum: int = 0
    maximum: int = 0
    choices: Mapping[str, tuple[str, ...]] | None = None  # stored value → accepted words


SALE_KINDS = {
    "new": ("new", "new car", "новый", "новая", "новое", "нов"),
    "used": ("used", "pre-owned", "second hand", "с пробегом", "б/у", "подержанный", "вторичный"),
    "trade_in": ("trade-in", "trade in", "trade_in", "трейд-ин", "трейдин", "трейд ин"),
}
VISIT_KINDS = {
    "maintenance": ("maintenance", "scheduled maintenance", "service", "то", "плановое то", "техобслуживание",
                    "техническое обслуживание", "регламентное то"),
    "repair": ("repair", "ремонт", "слесарный ремонт", "текущий ремонт"),
    "warranty": ("warranty", "warranty repair", "гарантия", "гарантийный", "гарантийный ремонт"),
    "tyres": ("tyres", "tires", "tyre", "tire", "шины", "шиномонтаж", "сезонная замена шин", "замена шин"),
    "body": ("body", "bodywork", "body repair", "кузов", "кузовной", "кузовной ремонт", "покраска"),
}
READING_SOURCES = {
    "sale": ("sale", "продажа"),
    "visit": ("visit", "service visit", "визит", "сервис", "заезд"),
    "call": ("call", "звонок"),
    "manual": ("manual", "вручную", "ручной ввод"),
    "telematics": ("telematics", "телематика"),
}
REFUSAL_WORDS = {"yes": ("yes", "y", "true", "1", "x", "да", "д", "отказ"), "no": ("no", "n", "false", "0", "нет", "н")}
# The refusal columns of a customers file and the channel each refuses.
REFUSAL_COLUMNS = {"do_not_call": "call", "do_not_sms": "sms", "do_not_email": "email"}
LANGUAGES = {"ru": ("ru", "russian", "русский", "рус"), "en": ("en", "english", "английский", "англ")}

VIN_ALIASES = ("vin", "VIN-код", "VIN код", "вин", "вин код", "VIN number", "идентификационный номер")
ODOMETER_ALIASES = ("odometer_km", "odometer", "km", "mileage", "пробег", "пробег, км", "пробег км", "показания одометра")


def _column(name: str, label: str, *aliases: str, **options: Any) -> Column:
    return Column(name=name, label=label, aliases=(name, *aliases), **options)


KINDS: dict[str, tuple[Column, ...]] = {
    "customers": (
        _column("external_id", gettext_noop("external id"), "external id", "id", "customer id", "client id",
                "код", "код клиента", "id клиента", "ид клиента", "номер клиента", "код контрагента",
                type="key", required=True, max_length=64),
        _column("last_name", gettext_noop("last name"), "last name", "surname", "family name", "фамилия",
                required=True, max_length=100),
        _column("first_name", gettext_noop("first name"), "first name", "name", "given name", "имя",
                required=True, max_length=100),
        _column("middle_name", gettext_noop("middle name"), "middle name", "patronymic", "отчество", max_length=100),
        _column("full_name", gettext_noop("full name"), "full name", "customer name", "client name", "фио",
                "фио клиента", "клиент фио", max_length=300),
        _column("phone", gettext_noop("phone"), "phone number", "mobile", "mobile phone", "tel", "телефон",
                "мобильный", "мобильный телефон", "сотовый", "тел", "номер телефона", type="phone"),
        _column("phone_alt", gettext_noop("second phone"), "phone 2", "second phone", "other phone",
                "телефон 2", "доп телефон", "дополнительный телефон", "рабочий телефон", type="phone"),
        _column("email", gettext_noop("e-mail"), "e-mail", "mail", "e-mail address", "почта",
                "электронная почта", "эл почта", "эл. почта", type="email", max_length=254),
        _column("birthday", gettext_noop("birthday"), "birth date", "date of birth", "dob", "дата рождения",
                "день рождения", type="date"),
        _column("address", gettext_noop("address"), "адрес", max_length=300),
        _column("language", gettext_noop("language"), "язык", type="choice", choices=LANGUAGES),
        # A refusal recorded in the DMS: "yes" refuses the channel; "no" or empty changes nothing (a
        # refusal is lifted only by the customer's consent, recorded in the admin: customers.refusals).
        _column("do_not_call", gettext_noop("refuses calls"), "no calls", "do not call", "не звонить",
                "отказ от звонков", "запрет звонков", type="choice", choices=REFUSAL_WORDS),
        _column("do_not_sms", gettext_noop("refuses SMS"), "no sms", "do not sms", "не отправлять sms",
                "отказ от sms", "запрет sms", type="choice", choices=REFUSAL_WORDS),
        _column("do_not_email", gettext_noop("refuses e-mail"), "no email", "no e-mail", "do not email",
                "не отправлять email", "отказ от email", "отказ от e-mail", "запрет email", type="choice",
                choices=REFUSAL_WORDS),
    ),
    "vehicles": (
        _column("vin", gettext_noop("VIN"), *VIN_ALIASES[1:], type="vin", required=True),
        _column("make", gettext_noop("make"), "brand", "марка", required=True, max_length=60),
        _column("model", gettext_noop("model"), "модель", required=True, max_length=60),
        _column("year", gettext_noop("year"), "model year", "year of manufacture", "год", "год выпуска",
                "год изготовления", type="year", required=True),
        _column("plate", gettext_noop("plate"), "plate number", "license plate", "registration",
                "registration number", "госномер", "гос номер", "гос. номер", "государственный номер",
                "регистрационный номер", max_length=20),
        _column("owner_external_id", gettext_noop("owner"), "owner external id", "owner", "owner id",
                "customer id", "customer external id", "client id", "владелец", "код владельца", "код клиента",
                "клиент", "id клиента", type="key", max_length=64),
        _column("maintenance_interval_km", gettext_noop("maintenance interval, km"), "maintenance interval km",
                "service interval km", "интервал то км", "межсервисный интервал км", type="number",
                minimum=1000, maximum=100_000),
        _column("maintenance_interval_months", gettext_noop("maintenance interval, months"),
                "maintenance interval months", "service interval months", "интервал то мес",
                "интервал то месяцев", type="number", minimum=1, maximum=60),
        _column("warranty_months", gettext_noop("warranty, months"), "warranty months", "гарантия мес",
                "гарантия месяцев", type="number", minimum=0, maximum=240),
        _column("warranty_km", gettext_noop("warranty, km"), "warranty km", "гарантия км", type="number",
                minimum=0, maximum=MAX_ODOMETER_KM),
    ),
    "sales": (
        _column("external_id", gettext_noop("external id"), "external id", "id", "sale id", "deal id",
                "contract", "contract number", "код продажи", "номер договора", "№ договора", "договор",
                "номер сделки", type="key", required=True, max_length=64),
        _column("vin", gettext_noop("VIN"), *VIN_ALIASES[1:], type="vin", required=True),
        _column("customer_external_id", gettext_noop("customer"), "customer external id", "customer id",
                "customer", "client id", "buyer id", "код клиента", "клиент", "покупатель", "код покупателя",
                "id клиента", type="key", required=True, max_length=64),
        _column("sold_on", gettext_noop("sale date"), "sold on", "sale date", "date", "дата продажи", "дата",
                "дата договора", "дата выдачи", type="date", required=True),
        _column("kind", gettext_noop("sale type"), "type", "sale type", "тип", "тип продажи", "вид продажи",
                type="choice", choices=SALE_KINDS),
        _column("odometer_km", gettext_noop("odometer"), *ODOMETER_ALIASES[1:], type="number",
                minimum=0, maximum=MAX_ODOMETER_KM),
        _column("salesperson", gettext_noop("salesperson"), "sales manager", "seller", "продавец", "менеджер",
                "менеджер продаж", max_length=120),
    ),
    "visits": (
        _column("external_id", gettext_noop("external id"), "external id", "id", "visit id", "order",
                "work order", "repair order", "заказ-наряд", "номер заказ-наряда", "№ заказ-наряда",
                "код визита", type="key", required=True, max_length=64),
        _column("vin", gettext_noop("VIN"), *VIN_ALIASES[1:], type="vin", required=True),
        _column("visited_on", gettext_noop("visit date"), "visited on", "visit date", "date", "дата",
                "дата визита", "дата заезда", "дата заказ-наряда", "дата закрытия", type="date", required=True),
        _column("odometer_km", gettext_noop("odometer"), *ODOMETER_ALIASES[1:], type="number", required=True,
                minimum=0, maximum=MAX_ODOMETER_KM),
        _column("kind", gettext_noop("visit type"), "type", "visit type", "work type", "тип", "вид работ",
                "тип работ", "вид ремонта", type="choice", choices=VISIT_KINDS),
    ),
    "readings": (
        _column("vin", gettext_noop("VIN"), *VIN_ALIASES[1:], type="vin", required=True),
        _column("read_on", gettext_noop("reading date"), "read on", "reading date", "date", "дата",
                "дата замера", "дата показаний", type="date", required=True),
        _column("odometer_km", gettext_noop("odometer"), *ODOMETER_ALIASES[1:], type="number", required=True,
                minimum=0, maximum=MAX_ODOMETER_KM),
        _column("source", gettext_noop("source"), "источник", type="choice", choices=READING_SOURCES),
    ),
}
# What a row is known by in its file: a second row with the same key is merged or refused.
KEYS: dict[str, tuple[str, ...]] = {
    "customers": ("external_id",),
    "vehicles": ("vin",),
    "sales": ("external_id",),
    "visits": ("external_id",),
    "readings": ("vin", "read_on", "odometer_km"),
}


def header_key(text: str) -> str:
    """A header or a word as compared: lower case, ё as е, letters and digits only ("VIN-код" → "vinкод")."""
    return re.sub(r"[\W_]+", "", text.lower().replace("ё", "е"))


def _aliases(columns: Iterable[Column]) -> dict[str, str]:
    found: dict[str, str] = {}
    for column in columns:
        for alias in column.aliases:
            key = header_key(alias)
            if found.setdefault(key, column.name) != column.name:
                raise ImproperlyDeclared(f"header {alias!r} means both {found[key]} and {column.name}")
    return found


class ImproperlyDeclared(RuntimeError):
    """Two columns of one kind claim the same header spelling (a programming error)."""


ALIASES: dict[str, dict[str, str]] = {kind: _aliases(columns) for kind, columns in KINDS.items()}
CHOICE_WORDS: dict[str, dict[str, str]] = {
    f"{kind}.{column.name}": {header_key(word): value for value, words in column.choices.items() for word in (value, *words)}
    for kind, columns in KINDS.items()
    for column in columns
    if column.choices
}


def columns_of(kind: str) -> tuple[Column, ...]:
    return KINDS[kind]


def template_headers(kind: str) -> list[str]:
    """The canonical header line of a kind (the downloadable template)."""
    return [column.name for column in KINDS[kind]]


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
    non_empty = [row for row in records if any(_cell_text(cell) for cell in row.cells)]
    if not non_empty:
        raise ImportFileError(_("The file is empty: it has no header line and no rows."))
    header_row = _find_header(kind, non_empty[:HEADER_SEARCH_ROWS]) or non_empty[0]
    return Table(
        # Headers are quoted in messages stored on ImportBatch: no NUL characters (PostgreSQL refuses them).
        headers=tuple(_cell_text(cell).replace("\x00", "") for cell in header_row.cells),
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
        matched = {aliases[key] for key in (header_key(_cell_text(cell)) for cell in row.cells) if key in aliases}
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


# ------------------------------------------------------------------------------------------ parsing


def _cell_text(value: Any) -> str:
    """A cell as text: Excel's whole floats without ".0", dates as ISO dates, None as ""."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip()


DATE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
DATE_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?")


def parse_date(value: Any, column: Column, today: dt.date) -> dt.date:
    """ISO (2025-12-31) or Russian (31.12.2025) dates, optionally with a time, and Excel date cells.
    Two-digit years and slashes are refused: 01/02/25 means different days to different people."""
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        text = _cell_text(value)
        iso, dotted = DATE_ISO.fullmatch(text), DATE_DOTTED.fullmatch(text)
        try:
            if iso:
                day = dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
            elif dotted:
                day = dt.date(int(dotted[3]), int(dotted[2]), int(dotted[1]))
            else:
                raise ValueError(text)
        except ValueError:
            raise CellError(
                _("%(column)s %(value)s is not a valid date (write 31.12.2025 or 2025-12-31)")
                % {"column": _(column.label), "value": text}
            ) from None
    if day > today:
        raise CellError(_("%(column)s %(value)s is in the future") % {"column": _(column.label), "value": _cell_text(value)})
    if day < EARLIEST_DATE:
        raise CellError(_("%(column)s %(value)s is before 1900") % {"column": _(column.label), "value": _cell_text(value)})
    return day


def parse_whole_number(value: Any, column: Column) -> int:
    """Whole numbers written with spaces, non-breaking spaces or commas between thousands ("15 020",
    "15,020"), an optional "km"/"км", or Excel's 15020.0. "15.000" is refused as ambiguous."""
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise CellError(_("%(column)s %(value)s is not a whole number") % {"column": _(column.label), "value": _cell_text(value)})
        number = int(value)
    else:
        text = re.sub(r"[\s\u00a0\u202f']+", "", str(value))
        text = re.sub(r"(?i)(km|км)$", "", text)
        if re.fullmatch(r"-?\d{1,3}(,\d{3})+", text):
            text = text.replace(",", "")
        elif re.fullmatch(r"-?\d+\.0+", text) and not re.fullmatch(r"-?\d{1,3}\.000", text):
            text = text.split(".")[0]
        if not re.fullmatch(r"-?\d{1,15}", text):
            raise CellError(_("%(column)s %(value)s is not a whole number") % {"column": _(column.label), "value": _cell_text(value)})
        number = int(text)
    if number < column.minimum:
        raise CellError(
            _("%(column)s %(value)s is less than %(minimum)s") % {"column": _(column.label), "value": _cell_text(value), "minimum": column.minimum}
        )
    if number > column.maximum:
        raise CellError(
            _("%(column)s %(value)s is more than %(maximum)s")
            % {"column": _(column.label), "value": _cell_text(value), "maximum": f"{column.maximum:,}".replace(",", " ")}
        )
    return number


CELL_TYPES = (str, int, float, dt.date, dt.time)  # what CSV, openpyxl and JSON give; bool is refused


def parse_cell(column: Column, value: Any, *, kind: str, today: dt.date) -> Any:
    """A cell's clean value, None when it is empty; CellError naming the problem otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, CELL_TYPES):
        raise CellError(
            _("%(column)s must be text or a number, not %(type)s") % {"column": _(column.label), "type": type(value).__name__}
        )
    if column.type == "date":
        return parse_date(value, column, today)
    if column.type == "number":
        return parse_whole_number(value, column)
    if column.type == "year":
        return _parse_year(value, column, today)
    text = _cell_text(value)
    if "\x00" in text:
        raise CellError(_("%(column)s contains a NUL character") % {"column": _(column.label)})
    text = " ".join(text.split())
    if column.max_length and len(text) > column.max_length:
        raise CellError(
            _("%(column)s is longer than %(length)s characters") % {"column": _(column.label), "length": column.max_length}
        )
    if column.type == "vin":
        vin = re.sub(r"[\s-]", "", text).upper()
        if not VIN_PATTERN.match(vin):
            raise CellError(
                _("VIN %(value)s is invalid: it must be 17 letters and digits, without I, O or Q.") % {"value": vin}
            )
        return vin
    if column.type == "phone":
        try:
            return normalize_phone(text)
        except ValidationError:
            raise CellError(_("%(column)s %(value)s is not a valid phone number") % {"column": _(column.label), "value": text}) from None
    if column.type == "email":
        try:
            validate_email(text)
        except ValidationError:
            raise CellError(_("%(column)s %(value)s is not a valid address") % {"column": _(column.label), "value": text}) from None
        return text
    if column.type == "choice":
        words = CHOICE_WORDS[f"{kind}.{column.name}"]
        key = header_key(text)
        if kind == "visits" and re.fullmatch(r"то\d+", key):  # ТО-1, ТО-2...: the numbered maintenances
            return "maintenance"
        if key not in words:
            raise CellError(
                _("%(column)s %(value)s is not one of: %(choices)s")
                % {"column": _(column.label), "value": text, "choices": ", ".join(c.replace("_", "-") for c in column.choices or ())}
            )
        return words[key]
    return text


def _parse_year(value: Any, column: Column, today: dt.date) -> int:
    if isinstance(value, dt.date):
        return value.year
    latest = today.year + 1  # model years run a year ahead
    unbounded = Column(name=column.name, label=column.label, aliases=(), minimum=-(10**100), maximum=10**100)
    year = parse_whole_number(value, unbounded)
    if not EARLIEST_MODEL_YEAR <= year <= latest:
        raise CellError(
            _("year %(value)s is not between %(earliest)s and %(latest)s")
            % {"value": year, "earliest": EARLIEST_MODEL_YEAR, "latest": latest}
        )
    return year


@dataclass(slots=True)
class ParsedRow:
    ref: int  # line in the file, or index in the API request
    values: dict[str, Any]  # column name → clean value; None: empty, keep what is stored
    cells: Mapping[str, Any]  # column name → the cell as read

    @property
    def raw(self) -> dict[str, str]:
        """The cells as written, for the refused-rows list."""
        return _raw_text(self.cells)


def parse_row(*, kind: str, raw: Mapping[str, Any], today: dt.date) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """A row's clean values and its problems by column (pure: no database)."""
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for column in KINDS[kind]:
        try:
            values[column.name] = parse_cell(column, raw.get(column.name), kind=kind, today=today)
        except CellError as error:
            errors.setdefault(column.name, []).append(str(error))
    if kind == "customers":
        _split_full_name(values, errors)
    for column in KINDS[kind]:
        if column.required and values.get(column.name) is None and column.name not in errors:
            errors[column.name] = [_("%(column)s is empty") % {"column": _(column.label)}]
    return values, errors


def _split_full_name(values: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """"Иванов Пётр Сергеевич" in a full-name column fills empty last, first and middle names."""
    full_name = values.pop("full_name", None)
    if not full_name or (values["last_name"] and values["first_name"]):
        return
    parts = full_name.split(" ")
    if len(parts) < 2:
        errors.setdefault("full_name", []).append(
            _("full name %(value)s needs at least a last and a first name") % {"value": full_name}
        )
        return
    for name, part in zip(("last_name", "first_name"), parts, strict=False):
        if values[name] is None:
            values[name] = part[:100]
    if values["middle_name"] is None and len(parts) > 2:
        values["middle_name"] = " ".join(parts[2:])[:100]


# ------------------------------------------------------------------------------------------ report


@dataclass(slots=True)
class Refusal:
    ref: int
    errors: dict[str, list[str]]  # column name → problems; "row" for the row as a whole
    raw: dict[str, str]

    @property
    def reason(self) -> str:
        return "; ".join(message for messages in self.errors.values() for message in messages)


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # includes rows merged into an identical earlier row of the same file
    refused: list[Refusal] = field(default_factory=list)
    merged: list[tuple[int, int]] = field(default_factory=list)  # (ref, the earlier ref it repeats)
    ignored_columns: list[str] = field(default_factory=list)
    vehicle_ids: set[int] = field(default_factory=set)  # queued for re-planning
    record_ids: dict[int, int] = field(default_factory=dict)  # API rows: ref → id of its record (once written)
    error: str = ""  # why the import stopped part-way (the batches before were written)

    def refuse(self, row: ParsedRow, errors: dict[str, list[str]]) -> None:
        self.refused.append(Refusal(ref=row.ref, errors=errors, raw=row.raw))

    def refused_rows(self) -> list[dict[str, Any]]:
        """The shape stored on ImportBatch.refused_rows."""
        return [{"line": r.ref, "reason": r.reason, "row": r.raw} for r in sorted(self.refused, key=lambda r: r.ref)]


# ---------------------------------------------------------------------------------------- deciding


@dataclass
class Context:
    dealership: Dealership
    today: dt.date
    now: dt.datetime
    # Dealerships whose vehicles a row may refer to by VIN (the user's); None: every dealership.
    vehicle_dealership_ids: frozenset[int] | None
    source: Literal["file", "api"]


@dataclass(slots=True)
class Change:
    """What one valid row does: the rows it inserts and updates, and which vehicles to re-plan."""

    row: ParsedRow
    outcome: Literal["created", "updated", "unchanged"]
    record: models.Model | int  # the new instance (its id is known once inserted) or a stored id
    inserts: list[models.Model] = field(default_factory=list)
    updates: list[tuple[models.Model, tuple[str, ...]]] = field(default_factory=list)
    replan: list[Vehicle | int] = field(default_factory=list)
    replan_owner_ids: list[int] = field(default_factory=list)  # re-plan these customers' vehicles
    refuse_channels: list[str] = field(default_factory=list)  # a customers row's new refusals


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _EqualsAny(Lookup):
    """``column = ANY(%s)`` with the keys as one array parameter, on PostgreSQL. Django's ``__in`` sends
    5,000 placeholders that psycopg's client-side binding parses in Python (~0.1 s a query here)."""

    lookup_name = "equals_any"
    prepare_rhs = False

    def get_db_prep_lookup(self, value: Any, connection: Any) -> tuple[str, list[Any]]:
        return "%s", [list(value)]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs_sql} = ANY({rhs_sql})", [*lhs_params, *rhs_params]


def _load(queryset: Any, field_name: str, keys: Iterable[Any], *columns: str) -> list[tuple[Any, ...]]:
    """``values_list(*columns)`` of the rows whose ``field_name`` is one of ``keys``, in chunks, unordered."""
    found: list[tuple[Any, ...]] = []
    for chunk in _chunks(sorted(set(keys)), LOAD_CHUNK):
        if connection.vendor == "postgresql":
            matching = queryset.filter(_EqualsAny(F(field_name), chunk))
        else:
            matching = queryset.filter(**{f"{field_name}__in": chunk})
        found.extend(matching.order_by().values_list(*columns))
    return found


def _differences(stored: Sequence[Any], fields: Sequence[str], incoming: Mapping[str, Any]) -> dict[str, Any]:
    """The incoming values that differ from the stored ones; None (an empty cell) never counts."""
    return {
        name: incoming[name]
        for name, old in zip(fields, stored, strict=True)
        if incoming.get(name) is not None and incoming[name] != old
    }


def _vehicles_by_vin(rows: Sequence[ParsedRow], ctx: Context) -> dict[str, tuple[int, int | None]]:
    """VIN → (vehicle id, owner id) for the vehicles the rows name and the importer may see."""
    queryset = Vehicle.objects.all()
    if ctx.vehicle_dealership_ids is not None:
        queryset = queryset.filter(dealership_id__in=ctx.vehicle_dealership_ids)
    return {vin: (pk, owner) for vin, pk, owner in _load(queryset, "vin", (r.values["vin"] for r in rows), "vin", "id", "owner_id")}


def _customer_ids(keys: Iterable[str], ctx: Context) -> dict[str, int]:
    queryset = Customer.objects.filter(dealership=ctx.dealership)
    return dict(_load(queryset, "external_id", keys, "external_id", "id"))


def _missing_customer(external_id: str) -> str:
    return _("customer %(id)s is not in the database (import or create the customer first)") % {"id": external_id}


def _missing_vehicle(vin: str) -> str:
    return _("vehicle %(vin)s is not in the database (import or create the vehicle first)") % {"vin": vin}


def holdout_share_percent(dealership: Dealership) -> int:
    return hooks.holdout_share_percent(dealership)


def in_holdout(dealership: Dealership, external_id: str, share_percent: int) -> bool:
    """The hold-out draw for a new customer: random across customers, stable for one customer (a
    re-import draws the same), recorded on Customer.is_holdout."""
    digest = hashlib.sha256(f"{dealership.code}:{external_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 10_000 < share_percent * 100


ADDRESS_FIELDS = frozenset({"phone", "phone_alt", "email"})
CUSTOMER_FIELDS = ("last_name", "first_name", "middle_name", "phone", "phone_alt", "email", "birthday", "address", "language")


def _decide_customers(rows: Sequence[ParsedRow], ctx: Context, report: ImportReport) -> list[Change]:
    stored = {
        found[0]: (found[1], found[2:])
        for found in _load(Customer.objects.filter(dealership=ctx.dealership), "external_id",
                           (r.values["external_id"] for r in rows), "external_id", "id", *CUSTOMER_FIELDS)
    }
    share = holdout_share_percent(ctx.dealership)
    refused = _refused_channels([customer_id for customer_id, _values in stored.values()])
    changes: list[Change] = []
    for row in rows:
        external_id = row.values["external_id"]
        incoming = {name: row.values[name] for name in CUSTOMER_FIELDS if row.values[name] is not None}
        refusing = [channel for name, channel in REFUSAL_COLUMNS.items() if row.values[name] == "yes"]
        if external_id not in stored:
            customer = Customer(dealership=ctx.dealership, external_id=external_id,
                                is_holdout=in_holdout(ctx.dealership, external_id, share), **incoming)
            changes.append(Change(row, "created", customer, inserts=[customer], refuse_channels=refusing))
            continue
        customer_id, values = stored[external_id]
        differences = _differences(values, CUSTOMER_FIELDS, incoming)
        new_refusals = [channel for channel in refusing if channel not in refused.get(customer_id, ())]
        if not differences and not new_refusals:
            changes.append(Change(row, "unchanged", customer_id))
            continue
        updates: list[tuple[models.Model, tuple[str, ...]]] = [
            (Customer(pk=customer_id, updated_at=ctx.now, **differences), (*differences, "updated_at"))]
        changes.append(Change(row, "updated", customer_id, updates=updates if differences else [],
                              replan_owner_ids=[customer_id], refuse_channels=new_refusals))
    return changes


def _refused_channels(customer_ids: Sequence[int]) -> dict[int, set[str]]:
    from customers.models import Consent

    found: dict[int, set[str]] = defaultdict(set)
    for customer_id, channel in _load(Consent.objects.filter(is_allowed=False), "customer_id", customer_ids,
                                      "customer_id", "channel"):
        found[customer_id].add(channel)
    return found


VEHICLE_FIELDS = ("make", "model", "year", "plate", "owner_id", "maintenance_interval_km",
                  "maintenance_interval_months", "warranty_months", "warranty_km")


def _decide_vehicles(rows: Sequence[ParsedRow], ctx: Context, report: ImportReport) -> list[Change]:
    owners = _customer_ids((r.values["owner_external_id"] for r in rows if r.values["owner_external_id"]), ctx)
    stored = {
        found[0]: (found[1], found[2], found[3:])
        for found in _load(Vehicle.objects.all(), "vin", (r.values["vin"] for r in rows),
                           "vin", "id", "dealership_id", *VEHICLE_FIELDS)
    }
    changes: list[Change] = []
    for row in rows:
        vin, owner_key = row.values["vin"], row.values["owner_external_id"]
        if owner_key and owner_key not in owners:
            report.refuse(row, {"owner_external_id": [_missing_customer(owner_key)]})
            continue
        incoming = {name: row.values.get(name) for name in VEHICLE_FIELDS}
        incoming["owner_id"] = owners.get(owner_key) if owner_key else None
        incoming = {name: value for name, value in incoming.items() if value is not None}
        if vin not in stored:
            vehicle = Vehicle(vin=vin, dealership=ctx.dealership, **incoming)
            changes.append(Change(row, "created", vehicle, inserts=[vehicle], replan=[vehicle]))
            continue
        vehicle_id, dealership_id, values = stored[vin]
        if dealership_id != ctx.dealership.pk:
            report.refuse(row, {"vin": [
                _("VIN %(vin)s is registered at another dealership of the group: import it there") % {"vin": vin}
            ]})
            continue
        differences = _differences(values, VEHICLE_FIELDS, incoming)
        if not differences:
            changes.append(Change(row, "unchanged", vehicle_id))
            continue
        update = Vehicle(pk=vehicle_id, updated_at=ctx.now, **differences)
        changes.append(Change(row, "updated", vehicle_id, updates=[(update, (*differences, "updated_at"))],
                              replan=[vehicle_id]))
    return changes


SALE_FIELDS = ("vehicle_id", "customer_id", "sold_on", "kind", "salesperson", "odometer_km")


def _decide_sales(rows: Sequence[ParsedRow], ctx: Context, report: ImportReport) -> list[Change]:
    vehicles = _vehicles_by_vin(rows, ctx)
    customers = _customer_ids((r.values["customer_external_id"] for r in rows), ctx)
    stored = {
        found[0]: (found[1], found[2:])
        for found in _load(Sale.objects.filter(dealership=ctx.dealership), "external_id",
                           (r.values["external_id"] for r in rows), "external_id", "id", *SALE_FIELDS)
    }
    changes: list[Change] = []
    buyers: dict[int, int] = {}  # row ref → the customer id the row names
    for row in rows:
        vin, customer_key = row.values["vin"], row.values["customer_external_id"]
        errors: dict[str, list[str]] = {}
        if vin not in vehicles:
            errors["vin"] = [_missing_vehicle(vin)]
        if customer_key not in customers:
            errors["customer_external_id"] = [_missing_customer(customer_key)]
        if errors:
            report.refuse(row, errors)
            continue
        vehicle_id = vehicles[vin][0]
        buyers[row.ref] = customers[customer_key]
        incoming = {name: row.values.get(name) for name in SALE_FIELDS}
        incoming.update(vehicle_id=vehicle_id, customer_id=customers[customer_key])
        incoming = {name: value for name, value in incoming.items() if value is not None}
        external_id = row.values["external_id"]
        if external_id not in stored:
            sale = Sale(dealership=ctx.dealership, external_id=external_id, **incoming)
            changes.append(Change(row, "created", sale, inserts=[sale], replan=[vehicle_id]))
            continue
        sale_id, values = stored[external_id]
        differences = _differences(values, SALE_FIELDS, incoming)
        if not differences:
            changes.append(Change(row, "unchanged", sale_id))
            continue
        replan = [vehicle_id] + ([values[0]] if values[0] != vehicle_id else [])  # a sale moved to another car
        changes.append(Change(row, "updated", sale_id, updates=[(Sale(pk=sale_id, **differences), tuple(differences))],
                              replan=replan))
    _move_owners_to_latest_buyers(changes, vehicles, stored, buyers, ctx)
    return changes


def _move_owners_to_latest_buyers(
    changes: Sequence[Change], vehicles: Mapping[str, tuple[int, int | None]],
    stored: Mapping[str, tuple[int, Sequence[Any]]], buyers: Mapping[int, int], ctx: Context,
) -> None:
    """The buyer of a vehicle's latest sale owns it (contacts.planning plans a car for its owner's
    purchase): when a new or changed sale is the latest, the vehicle's owner moves to its buyer."""
    written = [c for c in changes if c.outcome != "unchanged"]
    if not written:
        return
    owner_of = {vehicle_id: owner_id for vehicle_id, owner_id in vehicles.values()}
    touched = {vehicles[c.row.values["vin"]][0] for c in written}
    rewritten_ids = {stored[c.row.values["external_id"]][0] for c in written if c.outcome == "updated"}
    # (sold_on, order) → buyer; stored sales first, so a file's sale on the same day is the later one.
    latest: dict[int, tuple[tuple[dt.date, int], int, Change | None]] = {}
    for sale_id, vehicle_id, sold_on, customer_id in _load(Sale.objects.all(), "vehicle_id", touched,
                                                           "id", "vehicle_id", "sold_on", "customer_id"):
        if sale_id not in rewritten_ids and (vehicle_id not in latest or (sold_on, 0) > latest[vehicle_id][0]):
            latest[vehicle_id] = ((sold_on, 0), customer_id, None)
    for order, change in enumerate(written, start=1):
        values = change.row.values
        vehicle_id = vehicles[values["vin"]][0]
        candidate: tuple[tuple[dt.date, int], int, Change | None] = (
            (values["sold_on"], order), buyers[change.row.ref], change)
        if vehicle_id not in latest or candidate[0] > latest[vehicle_id][0]:
            latest[vehicle_id] = candidate
    for vehicle_id, (_when, customer_id, latest_change) in latest.items():
        if latest_change is not None and owner_of.get(vehicle_id) != customer_id:
            latest_change.updates.append((Vehicle(pk=vehicle_id, owner_id=customer_id, updated_at=ctx.now),
                                   ("owner_id", "updated_at")))


VISIT_FIELDS = ("vehicle_id", "visited_on", "odometer_km", "kind")


def _decide_visits(rows: Sequence[ParsedRow], ctx: Context, report: ImportReport) -> list[Change]:
    vehicles = _vehicles_by_vin(rows, ctx)
    stored = {
        found[0]: (found[1], found[2:])
        for found in _load(ServiceVisit.objects.filter(dealership=ctx.dealership), "external_id",
                           (r.values["external_id"] for r in rows), "external_id", "id", *VISIT_FIELDS)
    }
    vehicle_ids = {pk for pk, _owner in vehicles.values()}
    # A visit's odometer is also a reading: the mileage estimator (customers.forecasting) reads only
    # OdometerReading. (vehicle, day, km) → (reading id, source) of what is stored.
    readings = {
        (vehicle_id, read_on, km): (pk, source)
        for pk, vehicle_id, read_on, km, source in _load(OdometerReading.objects.all(), "vehicle_id", vehicle_ids,
                                                         "id", "vehicle_id", "read_on", "odometer_km", "source")
    }
    changes: list[Change] = []
    for row in rows:
        vin = row.values["vin"]
        if vin not in vehicles:
            report.refuse(row, {"vin": [_missing_vehicle(vin)]})
            continue
        vehicle_id = vehicles[vin][0]
        incoming: dict[str, Any] = {name: row.values.get(name) for name in VISIT_FIELDS}
        incoming["vehicle_id"] = vehicle_id
        incoming = {name: value for name, value in incoming.items() if value is not None}
        external_id = row.values["external_id"]
        reading_key = (vehicle_id, incoming["visited_on"], incoming["odometer_km"])
        if external_id not in stored:
            visit = ServiceVisit(dealership=ctx.dealership, external_id=external_id, **incoming)
            change = Change(row, "created", visit, inserts=[visit], replan=[vehicle_id])
            if reading_key not in readings:
                readings[reading_key] = (0, "visit")
                change.inserts.append(OdometerReading(vehicle_id=vehicle_id, read_on=reading_key[1],
                                                      odometer_km=reading_key[2], source="visit"))
            changes.append(change)
            continue
        visit_id, values = stored[external_id]
        differences = _differences(values, VISIT_FIELDS, incoming)
        if not differences:
            changes.append(Change(row, "unchanged", visit_id))
            continue
        change = Change(row, "updated", visit_id, updates=[(ServiceVisit(pk=visit_id, **differences), tuple(differences))],
                        replan=sorted({vehicle_id, values[0]}))
        old_key = (values[0], values[1], values[2])
        if reading_key not in readings:
            old = readings.get(old_key)
            if old and old[1] == "visit" and old[0]:  # the reading this visit made moves with it
                del readings[old_key]
                change.updates.append((OdometerReading(pk=old[0], vehicle_id=vehicle_id, read_on=reading_key[1],
                                                       odometer_km=reading_key[2]), ("vehicle_id", "read_on", "odometer_km")))
            else:
                change.inserts.append(OdometerReading(vehicle_id=vehicle_id, read_on=reading_key[1],
                                                      odometer_km=reading_key[2], source="visit"))
            readings[reading_key] = (0, "visit")
        changes.append(change)
    return changes


def _decide_readings(rows: Sequence[ParsedRow], ctx: Context, report: ImportReport) -> list[Change]:
    vehicles = _vehicles_by_vin(rows, ctx)
    stored = {
        (vehicle_id, read_on, km): pk
        for pk, vehicle_id, read_on, km in _load(OdometerReading.objects.all(), "vehicle_id",
                                                 (pk for pk, _owner in vehicles.values()),
                                                 "id", "vehicle_id", "read_on", "odometer_km")
    }
    changes: list[Change] = []
    for row in rows:
        vin = row.values["vin"]
        if vin not in vehicles:
            report.refuse(row, {"vin": [_missing_vehicle(vin)]})
            continue
        vehicle_id = vehicles[vin][0]
        key = (vehicle_id, row.values["read_on"], row.values["odometer_km"])
        if key in stored:
            changes.append(Change(row, "unchanged", stored[key]))
            continue
        reading = OdometerReading(vehicle_id=vehicle_id, read_on=key[1], odometer_km=key[2],
                                  source=row.values["source"] or OdometerReading.Source.MANUAL)
        changes.append(Change(row, "created", reading, inserts=[reading], replan=[vehicle_id]))
    return changes


DECIDE: dict[str, Callable[[Sequence[ParsedRow], Context, ImportReport], list[Change]]] = {
    "customers": _decide_customers,
    "vehicles": _decide_vehicles,
    "sales": _decide_sales,
    "visits": _decide_visits,
    "readings": _decide_readings,
}


# ----------------------------------------------------------------------------------------- writing


def _write_batch(changes: Sequence[Change], ctx: Context) -> set[int]:
    """One batch in one transaction: inserts per model, updates per (model, fields); the re-plan of
    its vehicles is queued on commit. Returns those vehicle ids."""
    inserts: dict[type[models.Model], list[models.Model]] = defaultdict(list)
    updates: dict[tuple[type[models.Model], tuple[str, ...]], list[models.Model]] = defaultdict(list)
    for change in changes:
        for instance in change.inserts:
            inserts[type(instance)].append(instance)
        for instance, fields in change.updates:
            updates[(type(instance), fields)].append(instance)
    with transaction.atomic():
        for model, instances in inserts.items():
            model._default_manager.bulk_create(instances, batch_size=BATCH_ROWS)
        for (model, fields), instances in updates.items():
            model._default_manager.bulk_update(instances, fields, batch_size=500)
        # Refusals the file records, then: a customer created or given a new phone or e-mail that a
        # refusal keeps is refused again.
        for change in changes:
            if change.refuse_channels:
                customer_id = _record_id(change)
                assert customer_id is not None
                record_refusal(customer=Customer(pk=customer_id), channels=change.refuse_channels, now=ctx.now,
                               reason=_("Refused, according to the DMS"), source=RefusalSource.IMPORT)
        addressed = [c.pk for c in inserts.get(Customer, [])] + [
            c.pk for (model, fields), instances in updates.items()
            if model is Customer and set(fields) & ADDRESS_FIELDS for c in instances
        ]
        if addressed:
            apply_suppression_list(customer_ids=addressed, now=ctx.now)
        vehicle_ids = {item if isinstance(item, int) else item.pk for change in changes for item in change.replan}
        owner_ids = [owner for change in changes for owner in change.replan_owner_ids]
        vehicle_ids.update(id_ for (id_,) in _load(Vehicle.objects.all(), "owner_id", owner_ids, "id"))
        for chunk in _chunks(sorted(vehicle_ids), REPLAN_IDS_PER_TASK):
            hooks.vehicles_changed(chunk)
    return vehicle_ids


def _record_id(change: Change) -> int | None:
    return change.record if isinstance(change.record, int) else change.record.pk


# -------------------------------------------------------------------------------------------- flows


Progress = Callable[[int, int], None]  # (rows processed, rows in all)


def import_file(
    *,
    kind: str,
    content: bytes,
    dealership: Dealership,
    dry_run: bool,
    vehicle_dealership_ids: frozenset[int] | None = None,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Read, check and (unless ``dry_run``) apply a file of ``kind`` for ``dealership``.

    Raises ImportFileError when the whole file is refused. Rows refer to vehicles of
    ``vehicle_dealership_ids`` (None: of any dealership) by VIN.
    """
    if kind not in KINDS:
        raise ImportFileError(_("Unknown kind %(kind)s: use one of %(kinds)s.") % {"kind": kind, "kinds": ", ".join(KINDS)})
    table = read_table(content=content, kind=kind)
    mapping = map_columns(kind=kind, headers=table.headers)
    rows: list[tuple[int, dict[str, Any]]] = []
    for source in table.rows:
        raw = {name: source.cells[i] if i < len(source.cells) else None for name, i in mapping.positions.items()}
        if any(_cell_text(value) for value in raw.values()):  # a row with only unknown columns filled is a note
            rows.append((source.line, raw))
    report = ImportReport(kind=kind, dry_run=dry_run, total=len(rows), ignored_columns=mapping.ignored)
    ctx = _context(dealership, now, vehicle_dealership_ids, "file")
    _run(kind, rows, ctx, report, progress)
    return report


def import_rows(
    *,
    kind: str,
    rows: Sequence[Mapping[str, Any]],
    dealership: Dealership,
    dry_run: bool = False,
    vehicle_dealership_ids: frozenset[int] | None = None,
    now: dt.datetime | None = None,
) -> ImportReport:
    """API rows (JSON objects keyed by the canonical column names), checked and applied like a file's;
    a refusal's ref is the row's index in ``rows``."""
    known = {column.name for column in KINDS[kind]}
    report = ImportReport(kind=kind, dry_run=dry_run, total=len(rows))
    accepted: list[tuple[int, dict[str, Any]]] = []
    for index, raw in enumerate(rows):
        unknown = sorted(str(name) for name in raw if name not in known)
        if unknown:
            message = _("unknown field; the fields are: %(fields)s") % {"fields": ", ".join(template_headers(kind))}
            report.refused.append(Refusal(ref=index, errors={name: [message] for name in unknown}, raw=_raw_text(raw)))
            continue
        accepted.append((index, dict(raw)))
    _run(kind, accepted, _context(dealership, now, vehicle_dealership_ids, "api"), report, None)
    return report


def _context(dealership: Dealership, now: dt.datetime | None, vehicle_dealership_ids: frozenset[int] | None,
             source: Literal["file", "api"]) -> Context:
    moment = now or timezone.now()
    return Context(dealership=dealership, today=dealership.local_date(moment), now=moment,
                   vehicle_dealership_ids=vehicle_dealership_ids, source=source)


def _raw_text(raw: Mapping[str, Any]) -> dict[str, str]:
    """Cells as text for the refused-rows list, without NUL characters (PostgreSQL's jsonb refuses them)."""
    return {str(name).replace("\x00", ""): _cell_text(value).replace("\x00", "")[:500] for name, value in raw.items()}


def _run(kind: str, rows: Sequence[tuple[int, dict[str, Any]]], ctx: Context, report: ImportReport,
         progress: Progress | None) -> None:
    """Parse, decide and write the rows window by window, so memory stays flat whatever the file's size:
    what exists is still loaded in queries of LOAD_CHUNK keys, as many as for the whole file at once."""
    first_of: dict[tuple[Any, ...], tuple[int, int]] = {}  # a key → the first row with it, its values' hash
    done = 0
    for window in _chunks(rows, WINDOW_ROWS):
        parsed = _parse_and_merge(kind, window, ctx, report, first_of)
        changes = DECIDE[kind](parsed, ctx, report) if parsed else []
        for change in changes:
            setattr(report, change.outcome, getattr(report, change.outcome) + 1)
        batches = list(_chunks(changes, BATCH_ROWS)) or [[]]
        for number, batch in enumerate(batches, start=1):
            written = [c for c in batch if c.outcome != "unchanged"]
            if not report.dry_run and written:
                try:
                    report.vehicle_ids |= _write_batch(written, ctx)
                except DatabaseError as error:
                    _stop(report, kind, ctx, batch, error, [c for b in batches[number - 1:] for c in b])
                    return
            if progress:
                progress(done + round(len(window) * number / len(batches)), report.total)
        done += len(window)
        if ctx.source == "api":
            report.record_ids.update(
                (change.row.ref, record_id) for change in changes if (record_id := _record_id(change)) is not None
            )
    report.unchanged += len(report.merged)
    if progress and not rows:
        progress(0, 0)


def _stop(report: ImportReport, kind: str, ctx: Context, batch: Sequence[Change], error: DatabaseError,
          unwritten: Sequence[Change]) -> None:
    """A batch failed (another import wrote the same records at the same moment): stop, say which rows."""
    logger.warning("import of %s stopped at %s: %s", kind, batch[0].row.ref, error)
    report.error = _(
        "The rows from %(first)s to %(last)s %(unit)s could not be written (%(error)s); the rows "
        "before them were. Import the file again: rows already written are left as they are."
    ) % {"first": batch[0].row.ref, "last": batch[-1].row.ref, "error": str(error).splitlines()[0][:200],
         "unit": _("in the request") if ctx.source == "api" else _("of the file")}
    for change in unwritten:
        if change.outcome != "unchanged":
            setattr(report, change.outcome, getattr(report, change.outcome) - 1)
    report.unchanged += len(report.merged)


def _parse_and_merge(kind: str, rows: Sequence[tuple[int, dict[str, Any]]], ctx: Context, report: ImportReport,
                     first_of: dict[tuple[Any, ...], tuple[int, int]]) -> list[ParsedRow]:
    """Parse every row; a row repeating an earlier row's key is merged when identical, else refused."""
    parsed: list[ParsedRow] = []
    for ref, raw in rows:
        values, errors = parse_row(kind=kind, raw=raw, today=ctx.today)
        row = ParsedRow(ref=ref, values=values, cells=raw)
        if errors:
            report.refuse(row, errors)
            continue
        key = tuple(values[name] for name in KEYS[kind])
        fingerprint = hash(tuple(values.items()))
        earlier = first_of.get(key)
        if earlier is None:
            first_of[key] = (ref, fingerprint)
            parsed.append(row)
        elif earlier[1] == fingerprint:
            report.merged.append((ref, earlier[0]))
        else:
            report.refuse(row, {"row": [_repeats(ctx, ref, earlier[0])]})
    return parsed


def _repeats(ctx: Context, ref: int, earlier: int) -> str:
    if ctx.source == "api":
        return _("row %(row)s repeats the key of row %(earlier)s with different values") % {"row": ref, "earlier": earlier}
    return _("line %(line)s repeats line %(earlier)s with different values") % {"line": ref, "earlier": earlier}


# ------------------------------------------------------------------------------------ import batches


def run_import_batch(*, batch: ImportBatch) -> ImportReport | None:
    """Run (or dry-run) an uploaded file, recording progress, counts, refusals or the failure on the
    batch. Returns None when the whole file was refused. Called by customers.tasks.run_import and by
    ``manage.py import_data``."""
    from customers import access

    started = timezone.now()
    scope = None
    if batch.uploaded_by is not None:
        scope = frozenset(access.dealerships_of(batch.uploaded_by).values_list("id", flat=True)) | {batch.dealership_id}
    rows = ImportBatch.objects.filter(pk=batch.pk)

    def progress(processed: int, total: int) -> None:
        rows.update(processed_rows=processed, total_rows=total, progressed_at=timezone.now())

    try:
        report = import_file(kind=batch.kind, content=bytes(batch.file_content), dealership=batch.dealership,
                             dry_run=batch.is_dry_run, vehicle_dealership_ids=scope, now=started, progress=progress)
    except ImportFileError as error:
        rows.update(status=ImportBatch.Status.FAILED, error=str(error), finished_at=timezone.now())
        return None
    rows.update(
        status=ImportBatch.Status.FAILED if report.error else (
            ImportBatch.Status.PREVIEWED if batch.is_dry_run else ImportBatch.Status.DONE),
        error=report.error, total_rows=report.total, processed_rows=report.total, created_count=report.created,
        updated_count=report.updated, unchanged_count=report.unchanged, refused_count=len(report.refused),
        refused_rows=report.refused_rows(), finished_at=timezone.now(),
    )
    return report


def refused_rows_table(*, batch: ImportBatch) -> tuple[list[str], list[list[str]]]:
    """The refused rows of a batch as in the uploaded file (its header, its cells) plus "line" and
    "error" columns: fix them and import this file again."""
    reasons = {item["line"]: item["reason"] for item in batch.refused_rows}
    try:
        table = read_table(content=bytes(batch.file_content), kind=batch.kind)
    except ImportFileError:
        return ["line", "error"], [[str(line), reason] for line, reason in sorted(reasons.items())]
    width = len(table.headers)
    rows = [
        [*(_cell_text(cell) for cell in row.cells[:width]), *([""] * (width - len(row.cells))), str(row.line), reasons[row.line]]
        for row in table.rows
        if row.line in reasons
    ]
    return [*table.headers, "line", "error"], rows
