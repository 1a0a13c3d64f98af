"""The customer card: every department's data about one customer, loaded in a fixed number of queries.

Shown on the customer page and on the agent's call screen, so a customer is never asked what the
dealer already knows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch

from contacts.models import CallAttempt, Handoff, OutboxMessage, Touchpoint
from customers.models import Customer, OdometerReading, Sale, ServiceVisit, Vehicle


def customer_card(*, customer: Customer, today: dt.date) -> dict[str, Any]:
    vehicles = list(
        Vehicle.objects.filter(owner=customer)
        .select_related("forecast")
        .prefetch_related(
            Prefetch("sales", queryset=Sale.objects.order_by("-sold_on")),
            Prefetch("service_visits", queryset=ServiceVisit.objects.order_by("-visited_on")),
            Prefetch("odometer_readings", queryset=OdometerReading.objects.order_by("-read_on", "-id")),
            Prefetch(
                "touchpoints",
                queryset=Touchpoint.objects.select_related("template", "template__department").order_by("due_on"),
            ),
        )
        .order_by("-is_active", "vin")
    )
    attempts = list(
        CallAttempt.objects.filter(customer=customer).select_related("agent").order_by("-ended_at")[:50]
    )
    handoffs = list(Handoff.objects.filter(customer=customer).select_related("department").order_by("-created_at")[:20])
    outbox_messages = list(
        OutboxMessage.objects.filter(customer=customer).select_related("touchpoint__template").order_by("-send_on", "-id")[:20]
    )
    return {
        "customer": customer,
        "vehicles": vehicles,
        "attempts": attempts,
        "handoffs": handoffs,
        "outbox_messages": outbox_messages,
        "consents": list(customer.consents.all()),
        "today": today,
    }
