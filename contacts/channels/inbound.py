"""Workflow: a customer's SMS reply, from the signed inbound webhook (contacts.channels.webhooks).

STOP / СТОП / "не присылайте" records a refusal of SMS at once (through contacts.calls.set_do_not_contact
until the shared refusal workflow lands); "45 000 km" / "пробег 45000" becomes an odometer reading of
source "sms" for the customer's only active car, and the car is re-planned on commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from contacts import queueing
from contacts.calls import OutcomeError, set_do_not_contact, validate_reading
from contacts.core.replies import ReplyKind, read_reply
from customers.models import Customer, OdometerReading, normalize_phone


@dataclass
class InboundResult:
    """What the reply did: ``outcome`` is one of refused, reading_recorded, which_car, implausible,
    other, unknown_sender."""

    outcome: str
    customer_ids: list[int] = field(default_factory=list)
    detail: str = ""


def handle_inbound_sms(*, phone: str, text: str, now: dt.datetime) -> InboundResult:
    try:
        number = normalize_phone(phone)
    except ValidationError:
        return InboundResult("unknown_sender", detail=phone[:30])
    customers = list(Customer.objects.filter(Q(phone=number) | Q(phone_alt=number)).select_related("dealership"))
    if not customers:
        return InboundResult("unknown_sender", detail=number)
    ids = [c.pk for c in customers]
    reply = read_reply(text)
    if reply.kind is ReplyKind.STOP:
        with transaction.atomic():
            for customer in customers:
                set_do_not_contact(customer=customer, channels=["sms"], now=now, reason=f"SMS reply: {text[:200]}")
        return InboundResult("refused", ids)
    if reply.kind is ReplyKind.MILEAGE and reply.odometer_km is not None:
        return _record_reading(customers=customers, odometer_km=reply.odometer_km, now=now)
    return InboundResult("other", ids, detail=text[:500])


def _record_reading(*, customers: list[Customer], odometer_km: int, now: dt.datetime) -> InboundResult:
    ids = [c.pk for c in customers]
    vehicles = [v for c in customers for v in c.vehicles.filter(is_active=True)]
    if len(vehicles) != 1:
        # Several cars (or none): a person has to ask which one; the number is kept in the result.
        return InboundResult("which_car", ids, detail=f"{odometer_km} km, {len(vehicles)} cars")
    vehicle = vehicles[0]
    day = vehicle.dealership.local_date(now)
    try:
        validate_reading(vehicle=vehicle, odometer_km=odometer_km, day=day)
    except OutcomeError as error:
        return InboundResult("implausible", ids, detail=str(error))
    with transaction.atomic():
        OdometerReading.objects.create(vehicle=vehicle, read_on=day, odometer_km=odometer_km, source=OdometerReading.Source.SMS)
        queueing.replan_on_commit([vehicle.pk])
    return InboundResult("reading_recorded", ids, detail=f"{vehicle.vin}: {odometer_km} km")
