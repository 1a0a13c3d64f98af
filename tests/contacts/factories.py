"""Call tasks for the workplace tests, made directly (the daily queue build is tested on its own)."""

from __future__ import annotations

import datetime as dt

import factory

from contacts.models import CallTask, CallTaskItem, OutboxMessage, Touchpoint, TouchpointTemplate
from customers.models import Customer, Dealership
from tests import factories

# Monday 2026-11-23.
DAY = dt.date(2026, 11, 23)
SCRIPT = "## {title} — Kia Rio\nHello, this is [[agent]] from the dealership. {body}"


class CallTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CallTask

    customer = factory.SubFactory(factories.CustomerFactory)
    dealership = factory.LazyAttribute(lambda o: o.customer.dealership)
    scheduled_on = DAY
    window_start = factory.LazyAttribute(lambda o: o.scheduled_on)
    window_end = factory.LazyAttribute(lambda o: o.scheduled_on + dt.timedelta(days=10))
    # scheduled_on + the default call gap (7 days), as the queue build writes it.
    blocks_until = factory.LazyAttribute(lambda o: o.scheduled_on + dt.timedelta(days=7))
    priority = 5
    agenda = factory.LazyFunction(
        lambda: [{"touchpoint_id": 0, "code": "service_invite", "title": "Maintenance invitation", "department": "service",
                  "why": "maintenance due soon"}]
    )
    script = SCRIPT.format(title="Maintenance invitation", body="Your car is due for maintenance.")


def make_call_task(
    dealership: Dealership,
    *,
    customer: Customer | None = None,
    scheduled_on: dt.date = DAY,
    priority: int = 5,
    topics: tuple[str, ...] = ("service_invite",),
    reading_km: int | None = 8000,
    **fields: object,
) -> CallTask:
    """A call task with a real agenda: the customer's car, its last reading, one touchpoint per topic."""
    customer = customer or factories.CustomerFactory(dealership=dealership)
    vehicle = customer.vehicles.filter(is_active=True).first()
    if vehicle is None:
        vehicle = factories.SaleFactory(vehicle__owner=customer, sold_on=dt.date(2025, 11, 1)).vehicle
        if reading_km is not None:
            factories.OdometerReadingFactory(vehicle=vehicle, read_on=dt.date(2026, 5, 1), odometer_km=reading_km)
    templates = {t.code: t for t in TouchpointTemplate.objects.filter(code__in=topics)}
    agenda, sections, touchpoints = [], [], []
    for position, code in enumerate(topics):
        template = templates[code]
        touchpoint = Touchpoint.objects.create(
            vehicle=vehicle, customer=customer, template=template, cycle_start=dt.date(2025, 11, 1),
            occurrence=Touchpoint.objects.filter(vehicle=vehicle, template=template).count() + 1,
            due_on=scheduled_on, window_start=scheduled_on, window_end=scheduled_on + dt.timedelta(days=10),
            reason="due", status=Touchpoint.Status.ISSUED,
        )
        touchpoints.append((position, touchpoint))
        agenda.append({"touchpoint_id": touchpoint.pk, "code": code, "title": template.name_en,
                       "department": template.department.code, "why": f"{template.name_en} is due"})
        sections.append(SCRIPT.format(title=template.name_en, body=f"Topic {position + 1}."))
    task = CallTaskFactory(
        dealership=dealership, customer=customer, scheduled_on=scheduled_on, priority=priority, agenda=agenda,
        script="\n\n".join(sections), **fields,
    )
    for position, touchpoint in touchpoints:
        CallTaskItem.objects.create(call_task=task, touchpoint=touchpoint, position=position)
    return task


def make_outbox_message(
    dealership: Dealership, *, send_on: dt.date, code: str = "service_reminder", window_days: int = 3,
    customer: Customer | None = None, channel: str | None = None, body: str | None = None,
) -> OutboxMessage:
    """A message as the morning build writes it: an issued touchpoint of the template ``code`` and its
    outbox row for ``send_on``, to the customer's phone (SMS) or e-mail."""
    template = TouchpointTemplate.objects.get(code=code)
    channel = channel or template.channel
    customer = customer or factories.CustomerFactory(dealership=dealership, email="ivan@example.ru")
    vehicle = customer.vehicles.filter(is_active=True).first() or factories.SaleFactory(
        vehicle__owner=customer, sold_on=dt.date(2025, 11, 1)
    ).vehicle
    touchpoint = Touchpoint.objects.create(
        vehicle=vehicle, customer=customer, template=template, cycle_start=dt.date(2025, 11, 1),
        occurrence=Touchpoint.objects.filter(vehicle=vehicle, template=template).count() + 1, due_on=send_on,
        window_start=send_on, window_end=send_on + dt.timedelta(days=window_days), reason="due",
        status=Touchpoint.Status.ISSUED,
    )
    return OutboxMessage.objects.create(
        dealership=dealership, customer=customer, touchpoint=touchpoint, channel=channel,
        recipient=customer.email if channel == "email" else customer.phone,
        body=body if body is not None else f"{code} for {send_on}", send_on=send_on,
    )
