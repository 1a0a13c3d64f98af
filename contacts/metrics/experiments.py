"""Script A/B and touchpoint conversion: what the calls of each template (and of each of its script
variants) did. A call counts once per template on its agenda (a merged call for every template, as
the program page counts them), by its final outcome, on the day it was finished; its later visit and
sale are counted within the figures' own windows: a maintenance visit of the topic's car within M
months (the service-return window), a purchase of another car within N years (the repeat-sale window).

Each rate has its 95 % Wilson interval; each variant is compared with variant A (the template's own
script) by Newcombe's interval for the difference, and the difference is "not proven yet" until the
interval leaves out zero, as the hold-out comparison says it (contacts.core.figures)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate

from contacts.core.figures import difference_interval, is_proven
from contacts.metrics.definitions import Scope, _interval, _rate
from contacts.models import REACHED_OUTCOMES, CallAttempt, CallTask, CallTaskItem
from customers.models import Sale, ServiceVisit

#: What a call can lead to, each counted out of the calls.
MEASURES = ("reached", "booked", "hot_leads", "visited", "sold")


def _finished_items(scope: Scope, *, return_months: int, repeat_years: int) -> QuerySet[CallTaskItem]:
    items = CallTaskItem.objects.filter(
        call_task__dealership_id__in=scope.dealership_ids, call_task__status=CallTask.Status.DONE,
        call_task__completed_at__date__range=(scope.start, scope.end),
    ).annotate(day=TruncDate("call_task__completed_at"))
    visit = ServiceVisit.objects.filter(
        vehicle_id=OuterRef("touchpoint__vehicle_id"), kind=ServiceVisit.Kind.MAINTENANCE,
        visited_on__gt=OuterRef("day"), visited_on__lte=OuterRef("day") + dt.timedelta(days=round(30.4375 * return_months)),
    )
    sale = Sale.objects.filter(
        customer_id=OuterRef("call_task__customer_id"), sold_on__gt=OuterRef("day"),
        sold_on__lte=OuterRef("day") + dt.timedelta(days=round(365.25 * repeat_years)),
    ).exclude(vehicle_id=OuterRef("touchpoint__vehicle_id"))
    return items.annotate(visited=Exists(visit), sold=Exists(sale))


CALL_OUTCOME_COUNTS = {
    "calls": Count("call_task", distinct=True),
    "reached": Count("call_task", distinct=True, filter=Q(call_task__outcome__in=REACHED_OUTCOMES)),
    "booked": Count("call_task", distinct=True, filter=Q(call_task__outcome=CallAttempt.Outcome.BOOKED)),
    "hot_leads": Count("call_task", distinct=True, filter=Q(call_task__outcome=CallAttempt.Outcome.HOT_LEAD)),
    "visited": Count("call_task", distinct=True, filter=Q(visited=True)),
    "sold": Count("call_task", distinct=True, filter=Q(sold=True)),
}


def _measured(counts: dict[str, int]) -> dict[str, Any]:
    calls = counts["calls"]
    return {
        "calls": calls,
        **{name: {"count": counts[name], "rate": _rate(counts[name], calls), "ci95": _interval(counts[name], calls)}
           for name in MEASURES},
    }


def compare_variants(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of one template's variants ({"key", "calls", measure counts}), A first: each measure with its
    rate and interval, and for B, C, ... the difference from A with its interval and whether it is proven."""
    rows = sorted(rows, key=lambda row: row["key"])
    control = next((row for row in rows if row["key"] == "A"), None)
    compared = []
    for row in rows:
        result = {"key": row["key"], **_measured(row)}
        for name in MEASURES:
            difference = None
            if control is not None and row is not control and row["calls"] and control["calls"]:
                found = difference_interval((row[name], row["calls"]), (control[name], control["calls"]))
                difference = None if found is None else [round(found[0], 4), round(found[1], 4)]
            result[name]["difference_ci95"] = difference
            result[name]["proven"] = is_proven(difference)
        compared.append(result)
    return compared


def script_variant_figures(scope: Scope, *, return_months: int = 15, repeat_years: int = 3) -> list[dict[str, Any]]:
    """Per template with an A/B test in the period: its variants compared (one query)."""
    rows = (
        _finished_items(scope, return_months=return_months, repeat_years=repeat_years).exclude(script_variant="")
        .order_by().values("touchpoint__template__code", "script_variant").annotate(**CALL_OUTCOME_COUNTS).order_by()
    )
    by_template: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        code = row.pop("touchpoint__template__code")
        by_template.setdefault(code, []).append({"key": row.pop("script_variant"), **row})
    return [{"code": code, "variants": compare_variants(variants)} for code, variants in sorted(by_template.items())]


def touchpoint_conversion(scope: Scope, *, return_months: int = 15, repeat_years: int = 3) -> list[dict[str, Any]]:
    """Per template (touchpoint type): its calls of the period and what they led to, most bookings first."""
    rows = (
        _finished_items(scope, return_months=return_months, repeat_years=repeat_years)
        .order_by().values("touchpoint__template__code").annotate(**CALL_OUTCOME_COUNTS).order_by()
    )
    measured = [{"code": row.pop("touchpoint__template__code"), **_measured(row)} for row in rows]
    return sorted(measured, key=lambda row: (-row["booked"]["count"], -row["sold"]["count"], row["code"]))
