"""Cells into values: dates, whole numbers, choices, names; one row into its fields or its refusals."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from customers.importing.base import EARLIEST_DATE, EARLIEST_MODEL_YEAR, CellError
from customers.importing.columns import CHOICE_WORDS, KINDS, Column, header_key
from customers.models import (
    VIN_PATTERN,
    normalize_phone,
)

# ------------------------------------------------------------------------------------------ parsing


def cell_text(value: Any) -> str:
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
        text = cell_text(value)
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
        raise CellError(_("%(column)s %(value)s is in the future") % {"column": _(column.label), "value": cell_text(value)})
    if day < EARLIEST_DATE:
        raise CellError(_("%(column)s %(value)s is before 1900") % {"column": _(column.label), "value": cell_text(value)})
    return day


def parse_whole_number(value: Any, column: Column) -> int:
    """Whole numbers written with spaces, non-breaking spaces or commas between thousands ("15 020",
    "15,020"), an optional "km"/"км", or Excel's 15020.0. "15.000" is refused as ambiguous."""
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise CellError(_("%(column)s %(value)s is not a whole number") % {"column": _(column.label), "value": cell_text(value)})
        number = int(value)
    else:
        text = re.sub(r"[\s\u00a0\u202f']+", "", str(value))
        text = re.sub(r"(?i)(km|км)$", "", text)
        if re.fullmatch(r"-?\d{1,3}(,\d{3})+", text):
            text = text.replace(",", "")
        elif re.fullmatch(r"-?\d+\.0+", text) and not re.fullmatch(r"-?\d{1,3}\.000", text):
            text = text.split(".")[0]
        if not re.fullmatch(r"-?\d{1,15}", text):
            raise CellError(_("%(column)s %(value)s is not a whole number") % {"column": _(column.label), "value": cell_text(value)})
        number = int(text)
    if number < column.minimum:
        raise CellError(
            _("%(column)s %(value)s is less than %(minimum)s") % {"column": _(column.label), "value": cell_text(value), "minimum": column.minimum}
        )
    if number > column.maximum:
        raise CellError(
            _("%(column)s %(value)s is more than %(maximum)s")
            % {"column": _(column.label), "value": cell_text(value), "maximum": f"{column.maximum:,}".replace(",", " ")}
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
    text = cell_text(value)
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
        return raw_text(self.cells)


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


def raw_text(raw: Mapping[str, Any]) -> dict[str, str]:
    """Cells as text for the refused-rows list, without NUL characters (PostgreSQL's jsonb refuses them)."""
    return {str(name).replace("\x00", ""): cell_text(value).replace("\x00", "")[:500] for name, value in raw.items()}
