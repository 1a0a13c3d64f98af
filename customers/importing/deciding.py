"""Per kind of file: what each parsed row changes (insert, update, nothing) or why it is refused,
loaded in bulk for a batch of rows."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import connection, models
from django.db.models import F, Lookup
from django.utils.translation import gettext as _

from customers import hooks
from customers.core import consent as consent_rules
from customers.duplicates import look_alike_refs
from customers.importing.base import LOAD_CHUNK, T
from customers.importing.columns import REFUSAL_COLUMNS
from customers.importing.parsing import ParsedRow
from customers.importing.report import ImportReport
from customers.models import (
    Customer,
    Dealership,
    OdometerReading,
    Sale,
    ServiceVisit,
    Vehicle,
)

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
    refuse_purposes: list[str] = field(default_factory=list)  # what they are for; empty: every purpose
    old: dict[str, Any] = field(default_factory=dict)  # an updated record's stored values (the audit trail)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
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


def load_by_keys(queryset: Any, field_name: str, keys: Iterable[Any], *columns: str) -> list[tuple[Any, ...]]:
    """``values_list(*columns)`` of the rows whose ``field_name`` is one of ``keys``, in chunks, unordered."""
    found: list[tuple[Any, ...]] = []
    for chunk in chunks(sorted(set(keys)), LOAD_CHUNK):
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


def _old(stored: Sequence[Any], fields: Sequence[str], differences: Mapping[str, Any]) -> dict[str, Any]:
    """The stored values of the fields that change, for the audit trail."""
    return {name: old for name, old in zip(fields, stored, strict=True) if name in differences}


def _vehicles_by_vin(rows: Sequence[ParsedRow], ctx: Context) -> dict[str, tuple[int, int | None]]:
    """VIN → (vehicle id, owner id) for the vehicles the rows name and the importer may see."""
    queryset = Vehicle.objects.all()
    if ctx.vehicle_dealership_ids is not None:
        queryset = queryset.filter(dealership_id__in=ctx.vehicle_dealership_ids)
    return {vin: (pk, owner) for vin, pk, owner in load_by_keys(queryset, "vin", (r.values["vin"] for r in rows), "vin", "id", "owner_id")}


def _customer_ids(keys: Iterable[str], ctx: Context) -> dict[str, int]:
    """External id → the customer's id; a merged customer's id is its survivor's."""
    queryset = Customer.objects.filter(dealership=ctx.dealership)
    return {
        external_id: merged_into or pk
        for external_id, pk, merged_into in load_by_keys(queryset, "external_id", keys, "external_id", "id", "merged_into_id")
    }


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
        found[0]: (found[2] or found[1], found[2] is not None, found[3:])
        for found in load_by_keys(Customer.objects.filter(dealership=ctx.dealership), "external_id",
                           (r.values["external_id"] for r in rows), "external_id", "id", "merged_into_id",
                           *CUSTOMER_FIELDS)
    }
    share = holdout_share_percent(ctx.dealership)
    refused = _refused_channels([customer_id for customer_id, _merged, _values in stored.values()])
    report.look_alike += len(look_alike_refs(dealership=ctx.dealership, rows=[
        (row.ref, row.values, stored[row.values["external_id"]][0] if row.values["external_id"] in stored else None)
        for row in rows
    ]))
    changes: list[Change] = []
    for row in rows:
        external_id = row.values["external_id"]
        incoming = {name: row.values[name] for name in CUSTOMER_FIELDS if row.values[name] is not None}
        refusing = [channel for name, channel in REFUSAL_COLUMNS.items() if row.values[name] == "yes"]
        purpose = row.values.get("refusal_purpose")
        purposes = [purpose] if purpose and purpose != consent_rules.ALL else []
        if external_id not in stored:
            customer = Customer(dealership=ctx.dealership, external_id=external_id,
                                is_holdout=in_holdout(ctx.dealership, external_id, share), **incoming)
            changes.append(Change(row, "created", customer, inserts=[customer], refuse_channels=refusing,
                                  refuse_purposes=purposes))
            continue
        customer_id, merged, values = stored[external_id]
        # A merged customer's row is its survivor's (customers.duplicates): only its refusals count, the
        # survivor's name and phones are the row that was kept.
        differences = {} if merged else _differences(values, CUSTOMER_FIELDS, incoming)
        already = refused.get(customer_id, frozenset())
        new_refusals = [
            channel for channel in refusing
            if any((channel, p) not in already for p in (purposes or consent_rules.PURPOSES))
        ]
        if not differences and not new_refusals:
            changes.append(Change(row, "unchanged", customer_id))
            continue
        updates: list[tuple[models.Model, tuple[str, ...]]] = [
            (Customer(pk=customer_id, updated_at=ctx.now, **differences), (*differences, "updated_at"))]
        changes.append(Change(row, "updated", customer_id, updates=updates if differences else [],
                              replan_owner_ids=[customer_id], refuse_channels=new_refusals,
                              refuse_purposes=purposes, old=_old(values, CUSTOMER_FIELDS, differences)))
    return changes


def _refused_channels(customer_ids: Sequence[int]) -> dict[int, frozenset[tuple[str, str]]]:
    """The (channel, purpose) pairs each customer refused (customers.core.consent)."""
    from customers.models import Consent

    rows: dict[int, list[tuple[str, str, bool]]] = defaultdict(list)
    for customer_id, channel, purpose, is_allowed in load_by_keys(
        Consent.objects.all(), "customer_id", customer_ids, "customer_id", "channel", "purpose", "is_allowed"
    ):
        rows[customer_id].append((channel, purpose, is_allowed))
    return {customer_id: consent_rules.refused_pairs(consent_rows) for customer_id, consent_rows in rows.items()}


VEHICLE_FIELDS = ("make", "model", "year", "plate", "owner_id", "maintenance_interval_km",
                  "maintenance_interval_months", "warranty_months", "warranty_km")


def _decide_vehicles(rows: Sequence[ParsedRow], ctx: Context, report: ImportReport) -> list[Change]:
    owners = _customer_ids((r.values["owner_external_id"] for r in rows if r.values["owner_external_id"]), ctx)
    stored = {
        found[0]: (found[1], found[2], found[3:])
        for found in load_by_keys(Vehicle.objects.all(), "vin", (r.values["vin"] for r in rows),
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
                              replan=[vehicle_id], old=_old(values, VEHICLE_FIELDS, differences)))
    return changes


SALE_FIELDS = ("vehicle_id", "customer_id", "sold_on", "kind", "salesperson", "odometer_km")


def _decide_sales(rows: Sequence[ParsedRow], ctx: Context, report: ImportReport) -> list[Change]:
    vehicles = _vehicles_by_vin(rows, ctx)
    customers = _customer_ids((r.values["customer_external_id"] for r in rows), ctx)
    stored = {
        found[0]: (found[1], found[2:])
        for found in load_by_keys(Sale.objects.filter(dealership=ctx.dealership), "external_id",
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
                              replan=replan, old=_old(values, SALE_FIELDS, differences)))
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
    for sale_id, vehicle_id, sold_on, customer_id in load_by_keys(Sale.objects.all(), "vehicle_id", touched,
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
        for found in load_by_keys(ServiceVisit.objects.filter(dealership=ctx.dealership), "external_id",
                           (r.values["external_id"] for r in rows), "external_id", "id", *VISIT_FIELDS)
    }
    vehicle_ids = {pk for pk, _owner in vehicles.values()}
    # A visit's odometer is also a reading: the mileage estimator (customers.forecasting) reads only
    # OdometerReading. (vehicle, day, km) → (reading id, source) of what is stored.
    readings = {
        (vehicle_id, read_on, km): (pk, source)
        for pk, vehicle_id, read_on, km, source in load_by_keys(OdometerReading.objects.all(), "vehicle_id", vehicle_ids,
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
                        replan=sorted({vehicle_id, values[0]}), old=_old(values, VISIT_FIELDS, differences))
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
        for pk, vehicle_id, read_on, km in load_by_keys(OdometerReading.objects.all(), "vehicle_id",
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
