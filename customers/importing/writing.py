"""One batch of changes in one transaction; the re-plan of its vehicles announced on commit."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from django.db import models, transaction
from django.utils.translation import gettext as _

from audit import trail
from customers import hooks
from customers.duplicates import detect_duplicates
from customers.importing.base import BATCH_ROWS, REPLAN_IDS_PER_TASK
from customers.importing.deciding import ADDRESS_FIELDS, Change, Context, chunks, load_by_keys
from customers.models import (
    Customer,
    OdometerReading,
    RefusalSource,
    Sale,
    ServiceVisit,
    Vehicle,
)
from customers.refusals import apply_suppression_list, record_refusal

# ----------------------------------------------------------------------------------------- writing


def write_batch(changes: Sequence[Change], ctx: Context) -> set[int]:
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
        trail.record_many(audit_entries(changes, ctx))
        # Refusals the file records, then: a customer created or given a new phone or e-mail that a
        # refusal keeps is refused again.
        for change in changes:
            if change.refuse_channels:
                customer_id = id_of_record(change)
                assert customer_id is not None
                record_refusal(customer=Customer(pk=customer_id), channels=change.refuse_channels, now=ctx.now,
                               reason=_("Refused, according to the DMS"), source=RefusalSource.IMPORT,
                               purposes=change.refuse_purposes or None)
        addressed = [c.pk for c in inserts.get(Customer, [])] + [
            c.pk for (model, fields), instances in updates.items()
            if model is Customer and set(fields) & ADDRESS_FIELDS for c in instances
        ]
        if addressed:
            apply_suppression_list(customer_ids=addressed, now=ctx.now)
        written_customers = [c.pk for c in inserts.get(Customer, [])] + [
            c.pk for (model, _fields), instances in updates.items() if model is Customer for c in instances
        ]
        if written_customers:
            detect_duplicates(dealership=ctx.dealership, now=ctx.now, customer_ids=written_customers)
        vehicle_ids = {item if isinstance(item, int) else item.pk for change in changes for item in change.replan}
        owner_ids = [owner for change in changes for owner in change.replan_owner_ids]
        vehicle_ids.update(id_ for (id_,) in load_by_keys(Vehicle.objects.all(), "owner_id", owner_ids, "id"))
        for chunk in chunks(sorted(vehicle_ids), REPLAN_IDS_PER_TASK):
            hooks.vehicles_changed(chunk)
    return vehicle_ids


def rows_by_table_of(changes: Sequence[Change]) -> Counter[str]:
    """The rows these changes insert or update, per table."""
    counts: Counter[str] = Counter()
    for change in changes:
        for instance in change.inserts:
            counts[instance._meta.db_table] += 1
        for instance, _fields in change.updates:
            counts[instance._meta.db_table] += 1
    return counts


def id_of_record(change: Change) -> int | None:
    return change.record if isinstance(change.record, int) else change.record.pk


# ------------------------------------------------------------------------------------- audit trail

OBJECT_TYPES: dict[type[models.Model], str] = {
    Customer: trail.ObjectType.CUSTOMER, Vehicle: trail.ObjectType.VEHICLE, Sale: trail.ObjectType.SALE,
    ServiceVisit: trail.ObjectType.VISIT, OdometerReading: trail.ObjectType.READING,
}


def audit_entries(changes: Sequence[Change], ctx: Context) -> list[trail.AuditEntry]:
    """One entry per written row (after the inserts, so new rows have their ids): a created row with its
    values, an updated one with the old and new value of each changed field."""
    source = trail.Source.API if ctx.source == "api" else trail.Source.IMPORT
    entries = []
    for change in changes:
        record = change.inserts[0] if change.inserts else (change.updates[0][0] if change.updates else None)
        if record is None:  # only new refusals: recorded as consents (customers.refusals)
            continue
        if change.outcome == "created":
            values = {name: [None, value] for name, value in change.row.values.items() if value is not None}
            action = trail.Action.CREATE
        else:
            fields = [name for name in change.updates[0][1] if name != "updated_at"]
            values = {name: [change.old.get(name), getattr(record, name)] for name in fields}
            action = trail.Action.UPDATE
        customer_id = record.pk if isinstance(record, Customer) else getattr(record, "customer_id", None) or getattr(
            record, "owner_id", None)
        entries.append(trail.entry(object_type=OBJECT_TYPES[type(record)], object_id=record.pk, action=action,
                                   changes=values, dealership_id=ctx.dealership.pk, customer_id=customer_id,
                                   source=source, at=ctx.now))
    return entries
