"""The customer card: every department's data about one customer, loaded in a fixed number of queries.

Shown on the customer page and on the agent's call screen, so a customer is never asked what the
dealer already knows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Prefetch

from contacts.models import CallAttempt, Handoff, OutboxMessage, Touchpoint, TouchpointTemplate
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
        CallAttempt.objects.filter(customer=customer).select_related("agent", "call_task").order_by("-ended_at")[:50]
    )
    handoffs = list(
        Handoff.objects.filter(customer=customer).select_related("department", "dealership").order_by("-created_at")[:20]
    )
    outbox_messages = list(
        OutboxMessage.objects.filter(customer=customer).select_related("touchpoint__template").order_by("-send_on", "-id")[:20]
    )
    return {
        "customer": customer,
        "vehicles": vehicles,
        "attempts": attempts,
        "handoffs": handoffs,
        "outbox_messages": outbox_messages,
        "consents": list(customer.consents.select_related("recorded_by")),
        "topic_results": topic_results(attempts),
        # The latest call said the number is wrong (and no call reached the customer since): say so by the number.
        "wrong_number_on": _wrong_number_on(attempts, customer),
        "today": today,
    }


def topic_results(attempts: Iterable[CallAttempt | None]) -> dict[int, list[tuple[str, str]]]:
    """The result the agent typed beside each topic of a call, by attempt: (topic title in the reader's
    language, result). The attempts come with their call task (select_related); one query for the titles."""
    typed: dict[int, list[tuple[str, str]]] = {}
    codes: dict[int, list[str]] = {}
    for attempt in attempts:
        if attempt is None or not (attempt.detail or {}).get("results"):
            continue
        agenda = attempt.call_task.agenda or []
        typed[attempt.pk] = [(position, text) for position, text in sorted(attempt.detail["results"].items(), key=lambda i: int(i[0]))]
        codes[attempt.pk] = [str(item.get("code", "")) if isinstance(item, dict) else "" for item in agenda]
    names = {t.code: t.name for t in TouchpointTemplate.objects.filter(code__in={c for cs in codes.values() for c in cs})} if typed else {}
    return {
        pk: [(names.get(codes[pk][int(position)], "") if int(position) < len(codes[pk]) else "", text) for position, text in rows]
        for pk, rows in typed.items()
    }


def _wrong_number_on(attempts: list[CallAttempt], customer: Customer) -> dt.date | None:
    latest = attempts[0] if attempts else None  # newest first
    if latest is None or latest.outcome != CallAttempt.Outcome.WRONG_NUMBER or latest.ended_at is None:
        return None
    return customer.dealership.local_date(latest.ended_at)
