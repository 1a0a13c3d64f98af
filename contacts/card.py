"""The customer card: every department's data about one customer, loaded in a fixed number of queries.

Shown on the customer page and on the agent's call screen, so a customer is never asked what the
dealer already knows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import Prefetch

from contacts.models import CallAttempt, Handoff, Touchpoint
from customers.models import Customer, OdometerReading, Sale, ServiceVisit, Vehicle


def customer_card(*, customer: Customer, today: dt.date, first_vehicle_ids: Sequence[int] = ()) -> dict[str, Any]:
    """``first_vehicle_ids``: the cars a call is about, listed first in that order (then active cars, then sold)."""
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
    first = {vehicle_id: rank for rank, vehicle_id in enumerate(first_vehicle_ids)}
    vehicles.sort(key=lambda vehicle: first.get(vehicle.pk, len(first)))  # stable: the rest keep their order
    attempts = list(
        CallAttempt.objects.filter(customer=customer).select_related("agent").order_by("-ended_at")[:50]
    )
    handoffs = list(Handoff.objects.filter(customer=customer).select_related("department").order_by("-created_at")[:20])
    return {
        "customer": customer,
        "vehicles": vehicles,
        "attempts": attempts,
        "handoffs": handoffs,
        "consents": list(customer.consents.all()),
        "today": today,
    }
