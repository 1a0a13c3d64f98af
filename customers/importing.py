"""DMS imports: customers, vehicles, sales, service visits and odometer readings from CSV or XLSX.

A file is read with tablib (CSV in UTF-8 or cp1251, ``;`` or ``,``; XLSX), its headers matched through
aliases (Russian and English), and each row parsed into a plain dict or refused with its line number
and a reason in plain words. ``import_rows`` then upserts by external id (per dealership) or VIN:
rows already equal are left alone, so importing a file twice changes nothing. Valid rows are written
in one transaction per batch; a refused row writes nothing. A dry run reports the same counts and
refusals without writing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import tablib
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from customers.models import (
    VIN_PATTERN,
    Customer,
    Dealership,
    OdometerReading,
    Sale,
    ServiceVisit,
    Vehicle,
    normalize_phone,
)

BATCH_ROWS = 2000

# Column → accepted header spellings (compared lower-case, without spaces, dots, dashes and underscores).
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        "external_id": ("external_id", "id", "customer_id", "код", "кодклиента", "idклиента", "клиент_id"),
        "last_name": ("last_name", "surname", "фамилия"),
        "first_name": ("first_name", "name", "имя"),
        "middle_name": ("middle_name", "patronymic", "отчество"),
        "phone": ("phone", "mobile", "телефон", "мобильный", "тел"),
        "email": ("email", "e-mail", "почта", "электроннаяпочта"),
        "birthday": ("birthday", "birth_date", "датарождения", "деньрождения"),
        "address": ("address", "адрес"),
    },
    "vehicles": {
        "vin": ("vin", "вин", "vinкод", "vin-код"),
        "make": ("make", "brand", "марка"),
        "model": ("model", "модель"),
        "year": ("year", "годвыпуска", "год"),
        "plate": ("plate", "registration", "госномер", "номер"),
        "owner_external_id": ("owner_external_id", "owner", "customer_id", "владелец", "кодклиента", "клиент"),
    },
    "sales": {
        "external_id": ("external_id", "id", "sale_id", "кодпродажи", "номердоговора", "договор"),
        "vin": ("vin", "вин", "vinкод"),
        "customer_external_id": ("customer_external_id", "customer_id", "customer", "кодклиента", "клиент"),
        "sold_on": ("sold_on", "sale_date", "date", "датапродажи", "дата"),
        "kind": ("kind", "type", "типпродажи", "тип"),
        "odometer_km": ("odometer_km", "odometer", "km", "mileage", "пробег", "пробегкм"),
        "salesperson": ("salesperson", "manager", "продавец", "менеджер"),
    },
    "visits": {
        "external_id": ("external_id", "id", "visit_id", "заказнаряд", "номерзаказнаряда", "кодзаезда"),
        "vin": ("vin", "вин", "vinкод"),
        "visited_on": ("visited_on", "date", "visit_date", "датазаезда", "дата"),
        "odometer_km": ("odometer_km", "odometer", "km", "mileage", "пробег", "пробегкм"),
        "kind": ("kind", "type", "видработ", "тип"),
    },
    "readings": {
        "vin": ("vin", "вин", "vinкод"),
        "read_on": ("read_on", "date", "дата"),
        "odometer_km": ("odometer_km", "odometer", "km", "mileage", "пробег", "пробегкм"),
        "source": ("source", "источник"),
    },
}
REQUIRED = {
    "customers": ("external_id", "last_name", "first_name"),
    "vehicles": ("vin", "make", "model", "year"),
    "sales": ("external_id", "vin", "customer_external_id", "sold_on"),
    "visits": ("external_id", "vin", "visited_on", "odometer_km"),
    "readings": ("vin", "read_on", "odometer_km"),
}
KIND_WORDS = {
    "sales": {"new": "new", "новый": "new", "used": "used", "спробегом": "used", "бу": "used", "б/у": "used",
              "tradein": "trade_in", "trade_in": "trade_in", "трейдин": "trade_in"},
    "visits": {"maintenance": "maintenance", "то": "maintenance", "плановоето": "maintenance", "repair": "repair",
               "ремонт": "repair", "warranty": "warranty", "гарантия": "warranty", "tyres": "tyres", "шины": "tyres",
               "шиномонтаж": "tyres", "body": "body", "кузов": "body", "кузовнойремонт": "body"},
}


class ImportFileError(ValueError):
    """The whole file is refused (unreadable, wrong columns), with the reason in plain words."""


@dataclass
class ImportReport:
    kind: str
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)
    vehicle_ids: set[int] = field(default_factory=set)

    def refuse(self, line: int, reason: str, row: dict[str, Any]) -> None:
        self.refused.append({"line": line, "reason": reason, "row": {k: str(v) for k, v in row.items()}})


def _key(header: str) -> str:
    return re.sub(r"[\s._\-/]", "", header.strip().lower())


def read_table(content: bytes, file_name: str) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of a CSV (UTF-8 or cp1251, ';' or ',') or XLSX file."""
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        try:
            data = tablib.Dataset().load(content, format="xlsx")
        except Exception as error:  # noqa: BLE001 - any parser failure is a bad file for the user
            raise ImportFileError(_("The file is not a readable Excel workbook (%(error)s).") % {"error": error}) from None
        return [str(h or "") for h in data.headers or []], [list(row) for row in data]
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(_("The file is neither UTF-8 nor Windows-1251 text."))
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        data = tablib.Dataset().load(text, format="csv", delimiter=delimiter)
    except Exception as error:  # noqa: BLE001
        raise ImportFileError(_("The file is not readable CSV (%(error)s).") % {"error": error}) from None
    return [str(h or "") for h in data.headers or []], [list(row) for row in data]


def map_headers(kind: str, headers: list[str]) -> dict[str, int]:
    known = COLUMNS[kind]
    mapping: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = _key(header)
        for column, aliases in known.items():
            if column not in mapping and key in {_key(a) for a in aliases}:
                mapping[column] = index
                break
    missing = [c for c in REQUIRED[kind] if c not in mapping]
    if missing:
        raise ImportFileError(
            _("Missing column(s): %(missing)s. Found: %(found)s. Expected: %(expected)s.")
            % {"missing": ", ".join(missing), "found": ", ".join(h for h in headers if h) or "—",
               "expected": ", ".join(known)}
        )
    return mapping


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    raise ValueError(_("date “%(value)s” is not a valid date (use 31.12.2025 or 2025-12-31)") % {"value": text})


def parse_int(value: Any, name: str) -> int:
    text = re.sub(r"[\s\u00a0\u202f,]", "", str(value))
    if re.fullmatch(r"\d+(\.0+)?", text):
        number = int(float(text))
        if number <= 100_000_000:
            return number
    raise ValueError(_("%(name)s “%(value)s” is not a whole number") % {"name": name, "value": value})


def _text(row: dict[str, Any], column: str) -> str:
    value = row.get(column)
    return "" if value is None else str(value).strip()


def _parse_row(kind: str, raw: dict[str, Any]) -> dict[str, Any]:
    """A file row → clean values, or ValueError naming the problem."""
    for column, value in raw.items():
        if isinstance(value, str) and "\x00" in value:
            raise ValueError(_("%(column)s contains a NUL character") % {"column": column})
    for column in REQUIRED[kind]:
        if not _text(raw, column):
            raise ValueError(_("%(column)s is empty") % {"column": column})
    row: dict[str, Any] = {}
    if "vin" in COLUMNS[kind]:
        vin = _text(raw, "vin").upper().replace(" ", "")
        if not VIN_PATTERN.match(vin):
            raise ValueError(_("VIN %(value)s is invalid: it must be 17 letters and digits, without I, O or Q.") % {"value": vin})
        row["vin"] = vin
    if kind == "customers":
        row.update(external_id=_text(raw, "external_id"), last_name=_text(raw, "last_name")[:100],
                   first_name=_text(raw, "first_name")[:100], middle_name=_text(raw, "middle_name")[:100],
                   email=_text(raw, "email")[:254], address=_text(raw, "address")[:300])
        try:
            row["phone"] = normalize_phone(_text(raw, "phone"))
        except ValidationError:
            raise ValueError(_("phone “%(value)s” is not a valid phone number") % {"value": _text(raw, "phone")}) from None
        if row["email"] and "@" not in row["email"]:
            raise ValueError(_("e-mail “%(value)s” is not valid") % {"value": row["email"]})
        row["birthday"] = parse_date(raw["birthday"]) if _text(raw, "birthday") else None
    elif kind == "vehicles":
        year = parse_int(raw["year"], "year")
        if not 1950 <= year <= 2100:
            raise ValueError(_("year %(value)s is out of range") % {"value": year})
        row.update(make=_text(raw, "make")[:60], model=_text(raw, "model")[:60], year=year,
                   plate=_text(raw, "plate")[:20], owner_external_id=_text(raw, "owner_external_id"))
    elif kind == "sales":
        kind_word = _key(_text(raw, "kind") or "new")
        if kind_word not in KIND_WORDS["sales"]:
            raise ValueError(_("sale type “%(value)s” is not new, used or trade-in") % {"value": _text(raw, "kind")})
        row.update(external_id=_text(raw, "external_id"), customer_external_id=_text(raw, "customer_external_id"),
                   sold_on=parse_date(raw["sold_on"]), kind=KIND_WORDS["sales"][kind_word],
                   odometer_km=parse_int(raw["odometer_km"], "odometer") if _text(raw, "odometer_km") else 0,
                   salesperson=_text(raw, "salesperson")[:120])
    elif kind == "visits":
        kind_word = _key(_text(raw, "kind") or "maintenance")
        if kind_word not in KIND_WORDS["visits"]:
            raise ValueError(_("visit type “%(value)s” is not maintenance, repair, warranty, tyres or body") % {"value": _text(raw, "kind")})
        row.update(external_id=_text(raw, "external_id"), visited_on=parse_date(raw["visited_on"]),
                   odometer_km=parse_int(raw["odometer_km"], "odometer"), kind=KIND_WORDS["visits"][kind_word])
    elif kind == "readings":
        source = _text(raw, "source").lower() or "manual"
        if source not in {"sale", "visit", "call", "manual", "telematics"}:
            raise ValueError(_("source “%(value)s” is unknown") % {"value": source})
        row.update(read_on=parse_date(raw["read_on"]), odometer_km=parse_int(raw["odometer_km"], "odometer"), source=source)
    return row


def parse_rows(kind: str, headers: list[str], rows: list[list[Any]], report: ImportReport) -> list[tuple[int, dict[str, Any]]]:
    """Clean rows with their line numbers (the header is line 1); refused ones go to the report."""
    mapping = map_headers(kind, headers)
    parsed: list[tuple[int, dict[str, Any]]] = []
    seen: dict[Any, int] = {}
    for line, values in enumerate(rows, start=2):
        raw = {column: (values[index] if index < len(values) else None) for column, index in mapping.items()}
        if all(v is None or str(v).strip() == "" for v in raw.values()):
            continue  # blank line
        report.total += 1
        try:
            row = _parse_row(kind, raw)
        except ValueError as error:
            report.refuse(line, str(error), raw)
            continue
        natural = _natural_key(kind, row)
        if natural in seen:
            report.refuse(line, _("line %(line)s repeats line %(first)s") % {"line": line, "first": seen[natural]}, raw)
            continue
        seen[natural] = line
        parsed.append((line, row))
    return parsed


def _natural_key(kind: str, row: dict[str, Any]) -> Any:
    if kind == "vehicles":
        return row["vin"]
    if kind == "readings":
        return (row["vin"], row["read_on"], row["odometer_km"])
    return row["external_id"]


# ----------------------------------------------------------------------------------- upserts


def _diff(instance: Any, values: dict[str, Any]) -> list[str]:
    """Fields whose file value differs; an empty cell never blanks out a stored value."""
    changed = []
    for name, value in values.items():
        if value in ("", None):
            continue
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def in_holdout(dealership: Dealership, external_id: str, share_percent: int) -> bool:
    """The hold-out draw for a new customer: random across customers, stable for one customer (a
    re-import of the same file draws the same), recorded on Customer.is_holdout."""
    digest = hashlib.sha256(f"{dealership.code}:{external_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 10_000 < share_percent * 100


def _apply_customers(dealership: Dealership, batch: list[tuple[int, dict[str, Any]]], report: ImportReport, write: bool) -> None:
    from contacts.models import ContactRules

    share = ContactRules.for_dealership(dealership).holdout_share_percent if write else 0
    existing = {c.external_id: c for c in Customer.objects.filter(dealership=dealership, external_id__in=[r["external_id"] for _l, r in batch])}
    new: list[Customer] = []
    for _line, row in batch:
        values = {k: v for k, v in row.items() if k != "external_id"}
        customer = existing.get(row["external_id"])
        if customer is None:
            report.created += 1
            new.append(Customer(dealership=dealership, external_id=row["external_id"],
                                is_holdout=in_holdout(dealership, row["external_id"], share), **values))
        elif _diff(customer, values):
            report.updated += 1
            if write:
                customer.save()
                report.vehicle_ids.update(customer.vehicles.values_list("id", flat=True))
        else:
            report.unchanged += 1
    if write:
        Customer.objects.bulk_create(new, batch_size=BATCH_ROWS)


def _customers_by_external_id(dealership: Dealership, ids: Iterable[str]) -> dict[str, Customer]:
    return {c.external_id or "": c for c in Customer.objects.filter(dealership=dealership, external_id__in=set(ids))}


def _apply_vehicles(dealership: Dealership, batch: list[tuple[int, dict[str, Any]]], report: ImportReport, write: bool) -> None:
    owners = _customers_by_external_id(dealership, [r["owner_external_id"] for _l, r in batch if r["owner_external_id"]])
    existing = {v.vin: v for v in Vehicle.objects.filter(vin__in=[r["vin"] for _l, r in batch])}
    new: list[Vehicle] = []
    for line, row in batch:
        owner = owners.get(row["owner_external_id"]) if row["owner_external_id"] else None
        if row["owner_external_id"] and owner is None:
            report.refuse(line, _("customer %(id)s is not in the database: import customers first") % {"id": row["owner_external_id"]}, row)
            continue
        # Ids, not objects: comparing a foreign key by object would load it, a query per row.
        values = {"make": row["make"], "model": row["model"], "year": row["year"], "plate": row["plate"],
                  "owner_id": owner.id if owner else None}
        vehicle = existing.get(row["vin"])
        if vehicle is None:
            report.created += 1
            new.append(Vehicle(vin=row["vin"], dealership=dealership, **values))
        elif vehicle.dealership_id != dealership.id:
            report.refuse(line, _("VIN %(vin)s belongs to another dealership") % {"vin": row["vin"]}, row)
        elif _diff(vehicle, values):
            report.updated += 1
            if write:
                vehicle.save()
                report.vehicle_ids.add(vehicle.id)
        else:
            report.unchanged += 1
    if write:
        report.vehicle_ids.update(v.id for v in Vehicle.objects.bulk_create(new, batch_size=BATCH_ROWS))


def _vehicles_by_vin(batch: list[tuple[int, dict[str, Any]]]) -> dict[str, Vehicle]:
    return {v.vin: v for v in Vehicle.objects.filter(vin__in=[r["vin"] for _l, r in batch])}


def _apply_sales(dealership: Dealership, batch: list[tuple[int, dict[str, Any]]], report: ImportReport, write: bool) -> None:
    vehicles = _vehicles_by_vin(batch)
    customers = _customers_by_external_id(dealership, [r["customer_external_id"] for _l, r in batch])
    existing = {s.external_id: s for s in Sale.objects.filter(dealership=dealership, external_id__in=[r["external_id"] for _l, r in batch])}
    new_sales: list[Sale] = []
    owners: dict[int, int] = {}
    for line, row in batch:
        vehicle, customer = vehicles.get(row["vin"]), customers.get(row["customer_external_id"])
        if vehicle is None:
            report.refuse(line, _("vehicle %(vin)s is not in the database: import vehicles first") % {"vin": row["vin"]}, row)
            continue
        if customer is None:
            report.refuse(line, _("customer %(id)s is not in the database: import customers first") % {"id": row["customer_external_id"]}, row)
            continue
        values = {"vehicle_id": vehicle.id, "customer_id": customer.id, "sold_on": row["sold_on"], "kind": row["kind"],
                  "odometer_km": row["odometer_km"], "salesperson": row["salesperson"]}
        sale = existing.get(row["external_id"])
        if sale is None:
            report.created += 1
            new_sales.append(Sale(dealership=dealership, external_id=row["external_id"], **values))
            if vehicle.owner_id is None:
                owners[vehicle.pk] = customer.pk
        elif _diff(sale, values):
            report.updated += 1
            if write:
                sale.save()
        else:
            report.unchanged += 1
            continue
        report.vehicle_ids.add(vehicle.id)
    if write:
        Sale.objects.bulk_create(new_sales, batch_size=BATCH_ROWS)
        for vehicle_id, customer_id in owners.items():
            Vehicle.objects.filter(pk=vehicle_id, owner__isnull=True).update(owner_id=customer_id)


def _apply_visits(dealership: Dealership, batch: list[tuple[int, dict[str, Any]]], report: ImportReport, write: bool) -> None:
    vehicles = _vehicles_by_vin(batch)
    existing = {v.external_id: v for v in ServiceVisit.objects.filter(dealership=dealership, external_id__in=[r["external_id"] for _l, r in batch])}
    new_visits: list[ServiceVisit] = []
    for line, row in batch:
        vehicle = vehicles.get(row["vin"])
        if vehicle is None:
            report.refuse(line, _("vehicle %(vin)s is not in the database: import vehicles first") % {"vin": row["vin"]}, row)
            continue
        values = {"vehicle_id": vehicle.id, "visited_on": row["visited_on"], "odometer_km": row["odometer_km"], "kind": row["kind"]}
        visit = existing.get(row["external_id"])
        if visit is None:
            report.created += 1
            new_visits.append(ServiceVisit(dealership=dealership, external_id=row["external_id"], **values))
        elif _diff(visit, values):
            report.updated += 1
            if write:
                visit.save()
        else:
            report.unchanged += 1
            continue
        report.vehicle_ids.add(vehicle.id)
    if write:
        ServiceVisit.objects.bulk_create(new_visits, batch_size=BATCH_ROWS)
        # A visit's odometer is a reading too (the estimator's input).
        OdometerReading.objects.bulk_create(
            [OdometerReading(vehicle_id=v.vehicle_id, read_on=v.visited_on, odometer_km=v.odometer_km, source="visit") for v in new_visits],
            batch_size=BATCH_ROWS,
        )


def _apply_readings(dealership: Dealership, batch: list[tuple[int, dict[str, Any]]], report: ImportReport, write: bool) -> None:
    vehicles = _vehicles_by_vin(batch)
    known = set(
        OdometerReading.objects.filter(vehicle__in=vehicles.values()).values_list("vehicle__vin", "read_on", "odometer_km")
    )
    new = []
    for line, row in batch:
        vehicle = vehicles.get(row["vin"])
        if vehicle is None:
            report.refuse(line, _("vehicle %(vin)s is not in the database: import vehicles first") % {"vin": row["vin"]}, row)
            continue
        if (row["vin"], row["read_on"], row["odometer_km"]) in known:
            report.unchanged += 1
            continue
        report.created += 1
        new.append(OdometerReading(vehicle=vehicle, read_on=row["read_on"], odometer_km=row["odometer_km"], source=row["source"]))
        report.vehicle_ids.add(vehicle.id)
    if write:
        OdometerReading.objects.bulk_create(new, batch_size=BATCH_ROWS)


APPLY: dict[str, Callable[[Dealership, list[tuple[int, dict[str, Any]]], ImportReport, bool], None]] = {
    "customers": _apply_customers,
    "vehicles": _apply_vehicles,
    "sales": _apply_sales,
    "visits": _apply_visits,
    "readings": _apply_readings,
}


def import_file(
    *, kind: str, content: bytes, file_name: str, dealership: Dealership, dry_run: bool,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Read, check and (unless a dry run) apply a file; then queue the re-plan of what it touched."""
    if kind not in COLUMNS:
        raise ImportFileError(_("Unknown kind %(kind)s; use one of: %(kinds)s.") % {"kind": kind, "kinds": ", ".join(COLUMNS)})
    report = ImportReport(kind=kind)
    headers, rows = read_table(content, file_name)
    parsed = parse_rows(kind, headers, rows, report)
    done = 0
    for start in range(0, len(parsed), BATCH_ROWS):
        batch = parsed[start : start + BATCH_ROWS]
        with transaction.atomic():
            APPLY[kind](dealership, batch, report, not dry_run)
            if dry_run:
                transaction.set_rollback(True)
        done += len(batch)
        if progress:
            progress(done)
    if not dry_run and report.vehicle_ids:
        from contacts import tasks

        ids = sorted(report.vehicle_ids)
        for start in range(0, len(ids), 2000):
            tasks.replan_vehicles.delay_on_commit(ids[start : start + 2000])
    report.refused.sort(key=lambda r: r["line"])
    return report


def template_csv(kind: str) -> str:
    """A header line with the canonical column names, for a downloadable template."""
    return ";".join(COLUMNS[kind]) + "\n"
