"""A person's data on request (152-FZ, the GDPR): everything held about one customer as one JSON
document, and the customer erased on request.

Erasure keeps only what must stay:
- **the refusal**, on every channel, so the person is never contacted again: the suppression list
  keeps it under an HMAC of each phone and e-mail (customers.privacy.address_hash), the address itself
  blanked, so a re-import of the same phone or e-mail comes back refused;
- **the anonymised counts** the figures need: the customer row stays without a name, phones, e-mail,
  address, birthday or external id, its cars stay without VIN or plate (inactive, so never planned
  again), its sales, visits, calls and messages stay as dated, typed events without their text (call
  notes, scripts, message bodies and recipients, hand-off notes, consent reasons). Retention, reach
  rate and the other figures of past periods therefore do not change.

The export holds the customer's audit entries too (those about the customer, its cars, visits and
readings). Erasure scrubs what else would name the person: the old and new values of personal fields
in those entries (names, phones, e-mail, address, VIN, plate, reasons in the customer's words), and any
value mentioning them; the free text of call results, hand-off results and hand-off event notes; the
plate in a call's agenda, the object's name in the Django admin's history, mentions in the error text
of a processing problem. Each becomes ``ERASED``;
the rows stay, so the counts do not change. The customers merged into this one (tombstones: the same
person, kept by name and external id) are erased with it.

Both are recorded in the audit trail (Action.EXPORT, Action.ERASE, in the same transaction: who, which
customer, how many rows of each kind, no personal data) and logged (logger ``contacts.privacy``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.db import transaction
from django.db.models import Q, QuerySet

from audit import trail
from audit.models import AuditEntry, ObjectType
from contacts.models import (
    CallAttempt,
    CallTask,
    CallTaskItem,
    Handoff,
    HandoffEvent,
    OutboxMessage,
    Problem,
    Touchpoint,
)
from customers.models import (
    Channel,
    Consent,
    Customer,
    OdometerReading,
    RefusalSource,
    Sale,
    ServiceVisit,
    Suppression,
    Vehicle,
    VehicleForecast,
    normalize_email,
)
from customers.privacy import address_hash
from customers.refusals import record_refusal

logger = logging.getLogger(__name__)

ERASED_NAME = "—"
ERASURE_REASON = "erased on request"
# What replaces an erased value in the audit trail and an erased free text (stored, so not translated).
ERASED = "erased"
# Audit entries' fields whose values are the person's data, whatever the object.
PERSONAL_FIELDS = frozenset({
    "external_id", "first_name", "middle_name", "last_name", "phone", "phone_alt", "email", "address", "birthday",
    "preferred_hours_start", "preferred_hours_end", "vin", "plate", "reason", "note", "notes", "result", "recipient",
    "body",
})
# Shorter values are not searched for inside other text (a two-letter name would match everywhere).
SHORTEST_SEARCHED = 3


def _rows(queryset: QuerySet[Any]) -> list[dict[str, Any]]:
    return [{"id": row["pk"], **row["fields"]} for row in serializers.serialize("python", queryset.order_by("pk"))]


def _addresses(customer: Customer) -> list[tuple[str, str]]:
    found = [(Suppression.Kind.PHONE.value, phone) for phone in {customer.phone, customer.phone_alt} - {""}]
    if customer.email:
        found.append((Suppression.Kind.EMAIL.value, normalize_email(customer.email)))
    return found


def _suppressions(customer: Customer) -> QuerySet[Suppression]:
    condition = Q(customer=customer)
    for kind, value in _addresses(customer):
        condition |= Q(kind=kind, value=value) | Q(kind=kind, value_hash=address_hash(kind, value))
    return Suppression.objects.filter(condition)


def _tombstones(customer: Customer) -> QuerySet[Customer]:
    """The customers merged into this one (customers.duplicates): the same person, kept by name for the record."""
    return Customer.objects.filter(merged_into=customer)


def _audit_entries(customer: Customer) -> QuerySet[AuditEntry]:
    """The entries about the customer: recorded with its id or the id of a customer merged into it, or
    about one of its cars, visits or readings (an import or the admin records those without the customer)."""
    vehicles = Vehicle.objects.filter(owner=customer)
    about = {
        ObjectType.VEHICLE: vehicles.values_list("pk", flat=True),
        ObjectType.VISIT: ServiceVisit.objects.filter(vehicle__in=vehicles).values_list("pk", flat=True),
        ObjectType.READING: OdometerReading.objects.filter(vehicle__in=vehicles).values_list("pk", flat=True),
    }
    condition = Q(customer_id__in=[customer.pk, *_tombstones(customer).values_list("pk", flat=True)])
    for object_type, ids in about.items():
        condition |= Q(object_type=object_type, object_id__in=[str(pk) for pk in ids])
    return AuditEntry.objects.filter(condition)


def _record(action: str, *, customer: Customer, now: dt.datetime, requested_by: str, counts: dict[str, int]) -> None:
    """The audit entry of an export or an erasure: who asked and how many rows of each kind, nothing personal."""
    trail.record(object_type=ObjectType.CUSTOMER, object_id=customer.pk, action=action, at=now,
                 changes={"requested_by": [None, requested_by], **{kind: [None, n] for kind, n in counts.items()}},
                 dealership_id=customer.dealership_id, customer_id=customer.pk)


def customer_data(*, customer: Customer, now: dt.datetime, requested_by: str) -> dict[str, Any]:
    """Everything held about the customer, by kind, each row with all its stored fields; the export is
    recorded in the audit trail."""
    with transaction.atomic():
        data = _customer_data(customer=customer, now=now)
        counts = {key: len(value) for key, value in data.items() if isinstance(value, list)}
        _record(trail.Action.EXPORT, customer=customer, now=now, requested_by=requested_by, counts=counts)
    logger.info("personal data of customer %s exported by %s (%s)", customer.pk, requested_by,
                ", ".join(f"{key} {n}" for key, n in counts.items()))
    return data


def _customer_data(*, customer: Customer, now: dt.datetime) -> dict[str, Any]:
    vehicles = Vehicle.objects.filter(owner=customer)
    tasks = CallTask.objects.filter(customer=customer)
    data: dict[str, Any] = {
        "exported_at": now.isoformat(),
        "customer": _rows(Customer.objects.filter(pk=customer.pk))[0],
        "merged_customers": _rows(_tombstones(customer)),
        "consents": _rows(Consent.objects.filter(customer=customer)),
        "refusals": _rows(_suppressions(customer)),
        "vehicles": _rows(vehicles),
        "sales": _rows(Sale.objects.filter(Q(customer=customer) | Q(vehicle__in=vehicles)).distinct()),
        "service_visits": _rows(ServiceVisit.objects.filter(vehicle__in=vehicles)),
        "odometer_readings": _rows(OdometerReading.objects.filter(vehicle__in=vehicles)),
        "forecasts": _rows(VehicleForecast.objects.filter(vehicle__in=vehicles)),
        "touchpoints": _rows(Touchpoint.objects.filter(customer=customer)),
        "calls": _rows(tasks),
        "call_items": _rows(CallTaskItem.objects.filter(call_task__in=tasks)),
        "call_attempts": _rows(CallAttempt.objects.filter(customer=customer)),
        "handoffs": _rows(Handoff.objects.filter(customer=customer)),
        "messages": _rows(OutboxMessage.objects.filter(customer=customer)),
        "audit_entries": _rows(_audit_entries(customer)),
    }
    return data


def erase_customer(*, customer: Customer, now: dt.datetime, requested_by: str) -> dict[str, int]:
    """Erase the customer's personal data, keeping the refusal (hashed) and the anonymised counts;
    recorded in the audit trail. Returns what was kept, by kind (the counts the figures go on using)."""
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        entries = list(_audit_entries(locked))  # the refusal's own entries below say nothing personal
        # Refused on every channel first: open calls and pending messages are cancelled by the hooks.
        record_refusal(customer=locked, channels=Channel.values, now=now, reason=ERASURE_REASON,
                       source=RefusalSource.ADMIN)
        searched = _searched_values(locked, entries)
        kept = {
            "refusals_hashed": _hash_refusals(locked),
            "audit_entries": _scrub_audit_entries(entries, searched),
            "admin_history": _scrub_admin_history(locked),
            **_scrub_free_text(locked, searched),
        }
        vehicles = Vehicle.objects.filter(owner=locked)
        for vehicle in vehicles.only("pk"):
            Vehicle.objects.filter(pk=vehicle.pk).update(vin=f"ERASED{vehicle.pk:011d}"[-17:], plate="", is_active=False)
        kept |= {
            "vehicles": vehicles.count(),
            "sales": Sale.objects.filter(customer=locked).count(),
            "service_visits": ServiceVisit.objects.filter(vehicle__owner=locked).count(),
            "calls": CallTask.objects.filter(customer=locked).update(script="", explanation={}),
            "call_attempts": CallAttempt.objects.filter(customer=locked).update(note=""),
            "handoffs": Handoff.objects.filter(customer=locked).update(notes=""),
            "messages": OutboxMessage.objects.filter(customer=locked).update(body="", recipient="", error=""),
            "consents": Consent.objects.filter(customer=locked).update(reason=""),
        }
        erased = {"external_id": None, "first_name": "", "middle_name": "", "last_name": ERASED_NAME, "phone": "",
                  "phone_alt": "", "email": "", "address": "", "birthday": None, "preferred_hours_start": None,
                  "preferred_hours_end": None, "updated_at": now}
        kept["merged_customers"] = _tombstones(locked).update(**erased)
        Customer.objects.filter(pk=locked.pk).update(**erased, status=Customer.Status.INACTIVE)
        _record(trail.Action.ERASE, customer=locked, now=now, requested_by=requested_by, counts=kept)
    logger.warning("customer %s erased on request by %s; kept: %s", customer.pk, requested_by,
                   ", ".join(f"{key} {value}" for key, value in kept.items()))
    return kept


def _hash_refusals(customer: Customer) -> int:
    """The customer's refusals kept under the hash of the address, the address blanked; how many."""
    hashed = 0
    for entry in list(_suppressions(customer).exclude(value="")):
        digest = address_hash(entry.kind, entry.value)
        duplicate = Suppression.objects.filter(kind=entry.kind, channel=entry.channel, value_hash=digest)
        if duplicate.exclude(pk=entry.pk).exists():
            entry.delete()  # the same address erased before: its hashed refusal stays
            continue
        Suppression.objects.filter(pk=entry.pk).update(value="", value_hash=digest, reason="", customer=None)
        hashed += 1
    return hashed


# ------------------------------------------------------------------------------------- scrubbing
# What names the person outside its own rows: searched for, and replaced by ERASED.


def _searched_values(customer: Customer, entries: list[AuditEntry]) -> list[str]:
    """The person's values as stored now and as its audit entries knew them (old names and phones),
    lower-cased, longest first."""
    found = {str(value or "") for person in [customer, *_tombstones(customer)] for value in
             (person.first_name, person.middle_name, person.last_name, person.phone, person.phone_alt, person.email,
              person.address, person.external_id)}
    for vin, plate in Vehicle.objects.filter(owner=customer).values_list("vin", "plate"):
        found |= {vin, plate}
    for entry in entries:
        for name, pair in entry.changes.items():
            if name in PERSONAL_FIELDS:
                found |= {value for value in (pair if isinstance(pair, list) else [pair]) if isinstance(value, str)}
    return sorted({value.strip().lower() for value in found if len(value.strip()) >= SHORTEST_SEARCHED},
                  key=lambda value: (-len(value), value))


def _mentions(value: Any, searched: list[str]) -> bool:
    if isinstance(value, str):
        lowered = value.lower()
        return any(item in lowered for item in searched)
    if isinstance(value, dict):
        return any(_mentions(item, searched) for item in value.values())
    if isinstance(value, list):
        return any(_mentions(item, searched) for item in value)
    return False


def _without(text: str, searched: list[str]) -> str:
    """The text with every mention of the person replaced by ERASED."""
    for item in searched:
        text = re.sub(re.escape(item), ERASED, text, flags=re.IGNORECASE)
    return text


def _erased(pair: Any) -> Any:
    """An entry's [old, new] with each value that was there replaced by ERASED (None stays None)."""
    if isinstance(pair, list):
        return [None if value is None else ERASED for value in pair]
    return None if pair is None else ERASED


def _scrub_audit_entries(entries: list[AuditEntry], searched: list[str]) -> int:
    """The entries stay (who changed which field when); the values of the person's fields go. How many."""
    changed = []
    for entry in entries:
        scrubbed = {name: _erased(pair) if name in PERSONAL_FIELDS or _mentions(pair, searched) else pair
                    for name, pair in entry.changes.items()}
        if scrubbed != entry.changes:
            entry.changes = scrubbed
            changed.append(entry)
    AuditEntry.objects.bulk_update(changed, ["changes"], batch_size=trail.BULK_ROWS)
    return len(entries)


def _scrub_admin_history(customer: Customer) -> int:
    """The Django admin's own history names the object it changed ("Ольга Смирнова", "Kia Rio A123BC77")."""
    kinds = ContentType.objects.get_for_models(Customer, Vehicle)
    people = [customer.pk, *_tombstones(customer).values_list("pk", flat=True)]
    condition = Q(content_type=kinds[Customer], object_id__in=[str(pk) for pk in people])
    condition |= Q(content_type=kinds[Vehicle], object_id__in=[str(pk) for pk in
                                                              Vehicle.objects.filter(owner=customer).values_list("pk", flat=True)])
    return LogEntry.objects.filter(condition).update(object_repr=ERASED)


def _scrub_free_text(customer: Customer, searched: list[str]) -> dict[str, int]:
    """The results and notes typed about the customer become ERASED, the rows (and so the counts) stay;
    a call's agenda and an attempt's detail lose their mentions of the person (the plate, typed results)."""
    items = CallTaskItem.objects.filter(call_task__customer=customer)
    handoffs = Handoff.objects.filter(customer=customer)
    events = HandoffEvent.objects.filter(handoff__customer=customer)
    counts = {"call_items": items.count(), "handoff_events": events.count()}
    items.exclude(result="").update(result=ERASED)
    handoffs.exclude(result="").update(result=ERASED)
    events.exclude(note="").update(note=ERASED)
    # The agenda's car ("Kia Rio A123BC77"); its codes, reasons and dates are not the person's and stay.
    tasks = list(CallTask.objects.filter(customer=customer).only("pk", "agenda"))
    for task in tasks:
        task.agenda = [{**item, "vehicle": _without(item["vehicle"], searched)} if "vehicle" in item else item
                       for item in task.agenda]
    CallTask.objects.bulk_update(tasks, ["agenda"], batch_size=trail.BULK_ROWS)
    # The results typed per topic, kept in the attempt's detail too; its churn reason is a code and stays.
    attempts = [attempt for attempt in CallAttempt.objects.filter(customer=customer).only("pk", "detail")
                if "results" in (attempt.detail or {})]
    for attempt in attempts:
        attempt.detail = {**attempt.detail, "results": {position: ERASED for position in attempt.detail["results"]}}
    CallAttempt.objects.bulk_update(attempts, ["detail"], batch_size=trail.BULK_ROWS)
    # A processing problem's error is an exception's text: it may quote a phone or an address.
    problems = list(Problem.objects.filter(Q(customer=customer) | Q(vehicle__owner=customer)).only("pk", "error"))
    for problem in problems:
        problem.error = _without(problem.error, searched)
    Problem.objects.bulk_update(problems, ["error"], batch_size=trail.BULK_ROWS)
    return counts | {"problems": len(problems)}
