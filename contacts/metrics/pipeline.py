"""The hand-off pipeline's conversion (README "Figures"): hand-offs created in the period, by the
department they are in and the customer's temperature when handed over, counted by their outcome."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Q

from contacts.metrics.definitions import Scope, _rate
from contacts.models import Handoff

OUTCOMES = tuple(Handoff.Outcome.values)  # sold, test_drive, visit_confirmed, not_interested, no_answer
CONVERTED = (Handoff.Outcome.SOLD, Handoff.Outcome.VISIT_CONFIRMED)
TEMPERATURES = ("hot", "warm", "cold", "")

PIPELINE_COUNTS = {
    "handoffs": Count("id"),
    **{outcome: Count("id", filter=Q(outcome=outcome)) for outcome in OUTCOMES},
    "no_outcome": Count("id", filter=Q(outcome="")),
    "escalated": Count("id", filter=Q(escalated_at__isnull=False)),
    "answered_in_time": Count("id", filter=Q(responded_at__isnull=False, due_at__isnull=False,
                                             responded_at__lte=F("due_at"))),
}


def _with_rates(row: dict[str, Any]) -> dict[str, Any]:
    converted = sum(row[outcome] for outcome in CONVERTED)
    return {**row, "converted": converted, "rate": _rate(converted, row["handoffs"]),
            "in_time_rate": _rate(row["answered_in_time"], row["handoffs"])}


def handoff_pipeline(scope: Scope) -> dict[str, Any]:
    """One row per (department, temperature) and a total; ``rate`` = (sold + visit confirmed) / hand-offs."""
    handoffs = Handoff.objects.filter(dealership_id__in=scope.dealership_ids,
                                      created_at__date__range=(scope.start, scope.end))
    rows = [
        _with_rates({"department": row.pop("department__code"), **row})
        for row in handoffs.values("department__code", "temperature").annotate(**PIPELINE_COUNTS)
    ]
    rank = {temperature: position for position, temperature in enumerate(TEMPERATURES)}
    rows.sort(key=lambda row: (row["department"], rank.get(row["temperature"], len(rank))))
    total = _with_rates(handoffs.aggregate(**PIPELINE_COUNTS))
    return {"rows": rows, "total": total}
