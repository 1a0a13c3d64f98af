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

Both are logged (logger ``contacts.privacy``: who, which customer, what was exported or erased).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core import serializers
from django.db import transaction
from django.db.models import Q, QuerySet

from contacts.models import CallAttempt, CallTask, CallTaskItem, Handoff, OutboxMessage, Touchpoint
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


def customer_data(*, customer: Customer, now: dt.datetime, requested_by: str) -> dict[str, Any]:
    """Everything held about the customer, by kind, each row with all its stored fields."""
    vehicles = Vehicle.objects.filter(owner=customer)
    tasks = CallTask.objects.filter(customer=customer)
    data: dict[str, Any] = {
        "exported_at": now.isoformat(),
        "customer": _rows(Customer.objects.filter(pk=customer.pk))[0],
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
    }
    logger.info("personal data of customer %s exported by %s (%s)", customer.pk, requested_by,
                ", ".join(f"{key} {len(value)}" for key, value in data.items() if isinstance(value, list)))
    return data


def erase_customer(*, customer: Customer, now: dt.datetime, requested_by: str) -> dict[str, int]:
    """Erase the customer's personal data, keeping the refusal (hashed) and the anonymised counts.
    Returns what was kept, by kind (the counts the figures go on using)."""
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        # Refused on every channel first: open calls and pending messages are cancelled by the hooks.
        record_refusal(customer=locked, channels=Channel.values, now=now, reason=ERASURE_REASON,
                       source=RefusalSource.ADMIN)
        hashed = 0
        for entry in list(_suppressions(locked).exclude(value="")):
            digest = address_hash(entry.kind, entry.value)
            duplicate = Suppression.objects.filter(kind=entry.kind, channel=entry.channel, value_hash=digest)
            if duplicate.exclude(pk=entry.pk).exists():
                entry.delete()  # the same address erased before: its hashed refusal stays
                continue
            Suppression.objects.filter(pk=entry.pk).update(value="", value_hash=digest, reason="", customer=None)
            hashed += 1
        vehicles = Vehicle.objects.filter(owner=locked)
        for vehicle in vehicles.only("pk"):
            Vehicle.objects.filter(pk=vehicle.pk).update(vin=f"ERASED{vehicle.pk:011d}"[-17:], plate="", is_active=False)
        kept = {
            "refusals_hashed": hashed,
            "vehicles": vehicles.count(),
            "sales": Sale.objects.filter(customer=locked).count(),
            "service_visits": ServiceVisit.objects.filter(vehicle__owner=locked).count(),
            "calls": CallTask.objects.filter(customer=locked).update(script="", explanation={}),
            "call_attempts": CallAttempt.objects.filter(customer=locked).update(note=""),
            "handoffs": Handoff.objects.filter(customer=locked).update(notes=""),
            "messages": OutboxMessage.objects.filter(customer=locked).update(body="", recipient="", error=""),
            "consents": Consent.objects.filter(customer=locked).update(reason=""),
        }
        Customer.objects.filter(pk=locked.pk).update(
            external_id=None, first_name="", middle_name="", last_name=ERASED_NAME, phone="", phone_alt="", email="",
            address="", birthday=None, preferred_hours_start=None, preferred_hours_end=None,
            status=Customer.Status.INACTIVE, updated_at=now,
        )
    logger.warning("customer %s erased on request by %s; kept: %s", customer.pk, requested_by,
                   ", ".join(f"{key} {value}" for key, value in kept.items()))
    return kept
