"""The manager dashboards: figures with definitions, charts over time, CSV export of every table;
cached as MetricSnapshot rows (the nightly job contacts.tasks.compute_metrics_snapshots fills them)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from contacts import metrics, queueing
from contacts.core import figures
from contacts.dashboard_exports import EXPORTS, export_table, pipeline_table
from contacts.models import ContactRules, MetricSnapshot, TouchpointTemplate
from customers import access
from customers.core.calendar import add_months
from customers.exports import csv_response

# Bumped whenever the shape of a snapshot's value changes, so that rows written by older code are
# recomputed instead of breaking the page (part of the snapshot key).
SNAPSHOT_VERSION = 4  # 3: script variants and touchpoint conversion; 4: the hand-off pipeline (value["pipeline"])


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return min(high, max(low, int(value or default)))
    except ValueError:
        return default


def _float(value: str | None, default: float) -> float:
    try:
        number = float((value or "").replace(" ", "").replace(",", ".") or default)
    except ValueError:
        return default
    return number if number >= 0 else default


def _date(value: str | None, default: dt.date) -> dt.date:
    try:
        day = dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default
    return day if 1950 <= day.year <= 2100 else default


def snapshot_key(dealership_ids: tuple[int, ...], params: dict[str, int]) -> str:
    payload = json.dumps([SNAPSHOT_VERSION, dealership_ids, params], sort_keys=True).encode()
    return "figures:" + hashlib.sha1(payload).hexdigest()[:16]


def compute_figures(*, dealership_ids: tuple[int, ...], start: dt.date, end: dt.date, params: dict[str, int],
                    today: dt.date) -> dict[str, Any]:
    """Every figure of the page, and the same figures month by month for the charts."""
    scope = metrics.Scope(dealership_ids, start, end, as_of=today)
    figures = {"repeat_years": params["repeat_years"], "return_months": params["return_months"],
               "active_months": params["active_months"]}
    series = metrics.monthly_series(scope, **figures)
    value = metrics.all_figures(scope, **figures, series=series)
    series.pop("agent_totals")  # the same as value["agents"]
    value["series"] = series
    return value


def _snapshot_of(dealership_ids: tuple[int, ...], start: dt.date, end: dt.date, params: dict[str, int]) -> tuple[
        str, int | None, MetricSnapshot | None]:
    """The key, the single dealership (or None for a group) and the stored snapshot of a scope, whose
    ids the callers have sorted: the page lists dealerships by name, the nightly job by id, and both
    must find one row."""
    key = snapshot_key(dealership_ids, params)
    dealership_id = dealership_ids[0] if len(dealership_ids) == 1 else None
    snapshot = MetricSnapshot.objects.filter(
        key=key, dealership__isnull=dealership_id is None, period_start=start, period_end=end
    ).filter(**({"dealership_id": dealership_id} if dealership_id else {})).first()
    return key, dealership_id, snapshot


def _is_fresh(snapshot: MetricSnapshot | None, today: dt.date, zone: dt.tzinfo) -> bool:
    """Computed on ``today``, a day of the dealership's calendar (not of UTC: at 19:30 UTC it is
    already tomorrow in Yekaterinburg)."""
    return snapshot is not None and snapshot.computed_at.astimezone(zone).date() >= today


def cached_figures(*, dealership_ids: tuple[int, ...], start: dt.date, end: dt.date, params: dict[str, int],
                   today: dt.date, zone: dt.tzinfo = dt.UTC, refresh: bool = False) -> MetricSnapshot:
    """Figures for a scope from the snapshot table, computed (and stored) when missing, older than
    today (in ``zone``) or asked for."""
    dealership_ids = tuple(sorted(dealership_ids))
    key, dealership_id, snapshot = _snapshot_of(dealership_ids, start, end, params)
    if snapshot is None or refresh or not _is_fresh(snapshot, today, zone):
        value = compute_figures(dealership_ids=dealership_ids, start=start, end=end, params=params, today=today)
        snapshot, _created = MetricSnapshot.objects.update_or_create(
            key=key, dealership_id=dealership_id, period_start=start, period_end=end,
            defaults={"computed_at": timezone.now(), "value": value},
        )
    return snapshot


# How long a queued computation keeps others from queueing the same one (a crashed worker's lock expires).
COMPUTING_SECONDS = 30 * 60


def computing_lock(dealership_ids: tuple[int, ...], params: dict[str, int], start: str, end: str) -> str:
    """The cache key held while a worker computes a scope's figures (contacts.tasks.compute_dashboard_figures)."""
    return f"dashboard:computing:{snapshot_key(dealership_ids, params)}:{start}:{end}"


def figures_for_the_page(*, dealership_ids: tuple[int, ...], start: dt.date, end: dt.date, params: dict[str, int],
                         today: dt.date, zone: dt.tzinfo, refresh: bool = False) -> MetricSnapshot | None:
    """Today's snapshot of a scope, or None while a worker computes it.

    The nightly job fills the default view; any other period or scope is computed by a worker the
    first time it is asked for, since on a large group that takes minutes, longer than a web request
    may (the page says so and looks again every few seconds). Where Celery runs tasks in-process
    (tests, CELERY_TASK_ALWAYS_EAGER) the figures are there at once.
    """
    dealership_ids = tuple(sorted(dealership_ids))
    _key, _dealership_id, snapshot = _snapshot_of(dealership_ids, start, end, params)
    if not refresh and _is_fresh(snapshot, today, zone):
        return snapshot
    lock = computing_lock(dealership_ids, params, start.isoformat(), end.isoformat())
    try:
        is_first = cache.add(lock, 1, COMPUTING_SECONDS)
    except Exception:  # noqa: BLE001 - the cache (Redis) is down: queue it; a duplicate only costs time
        is_first = True
    if is_first:
        queueing.send_safely(queueing.COMPUTE_DASHBOARD_FIGURES,
                          (list(dealership_ids), start.isoformat(), end.isoformat(), params, today.isoformat(), str(zone)))
        _key, _dealership_id, snapshot = _snapshot_of(dealership_ids, start, end, params)
        if _is_fresh(snapshot, today, zone):
            return snapshot  # computed in-process (eager Celery)
    return None


# ------------------------------------------------------------------------------------ charts and names

# Each chart: its lines (a series column, its label, "percent" or "count", the axis), and a note.
CHARTS: list[dict[str, Any]] = [
    {"id": "chart-cohorts", "title": gettext_lazy("Sales cohorts: repeat sale and service return"),
     "note": gettext_lazy("Each point: the cars (buyers) of that month's sales. Service return is shown once a cohort is old enough to have returned; recent buyers may still buy again."),
     "lines": [("repeat_sale_rate", gettext_lazy("repeat-sale rate"), "percent", "y"),
               ("service_return_rate", gettext_lazy("service-return rate"), "percent", "y")]},
    {"id": "chart-retention", "title": gettext_lazy("Retention (CRR) and churn per month"),
     "note": gettext_lazy("Each month on its own: S active at its start, E at its end, N new in it. CRR on the left axis, churn on the right."),
     "lines": [("retention_rate", gettext_lazy("retention (CRR)"), "percent", "y"),
               ("churn_rate", gettext_lazy("churn"), "percent", "y1")]},
    {"id": "chart-active", "title": gettext_lazy("Active and new customers"),
     "note": gettext_lazy("Active at the month's end: a visit, a purchase or a reached call in the last 12 months."),
     "lines": [("active_at_end", gettext_lazy("active customers"), "count", "y"),
               ("new_customers", gettext_lazy("new customers"), "count", "y1")]},
    {"id": "chart-calls", "title": gettext_lazy("Calls and reach rate"),
     "note": gettext_lazy("Calls made in the month (left axis) and the share in which the customer was spoken to (right axis)."),
     "lines": [("calls", gettext_lazy("calls"), "count", "y"), ("reach_rate", gettext_lazy("reach rate"), "percent", "y1")]},
    {"id": "chart-base", "title": gettext_lazy("Customer base: dead contacts, lapsed, dormant"),
     "note": gettext_lazy("Shares on the month's last day: unreachable phones and lapsed customers among those who had bought by then; dormant among those with a visit rhythm."),
     "lines": [("dead_contact_share", gettext_lazy("dead contacts"), "percent", "y"),
               ("lapsed_share", gettext_lazy("lapsed"), "percent", "y"),
               ("dormant_rate", gettext_lazy("dormant"), "percent", "y")]},
    {"id": "chart-stock", "title": gettext_lazy("Lapsed and dormant customers"),
     "note": gettext_lazy("Numbers of customers on the month's last day."),
     "lines": [("lapsed", gettext_lazy("lapsed"), "count", "y"), ("dormant", gettext_lazy("dormant"), "count", "y"),
               ("dead_contacts", gettext_lazy("dead contacts"), "count", "y")]},
    {"id": "chart-plan", "title": gettext_lazy("Plan adherence and invitations"),
     "note": gettext_lazy("Touchpoints due in the month that were done; reached maintenance invitations that ended in a booking."),
     "lines": [("plan_adherence", gettext_lazy("plan adherence"), "percent", "y"),
               ("invitation_booking_rate", gettext_lazy("invitations → bookings"), "percent", "y")]},
    {"id": "chart-conversions", "title": gettext_lazy("Conversions"),
     "note": gettext_lazy("Bookings from calls, hot leads handed to departments, and hot leads that became a sale."),
     "lines": [("bookings", gettext_lazy("bookings"), "count", "y"), ("hot_leads", gettext_lazy("hot leads"), "count", "y"),
               ("hot_leads_became_sales", gettext_lazy("hot leads → sales"), "count", "y")]},
    {"id": "chart-forecast", "title": gettext_lazy("Forecast accuracy"),
     "note": gettext_lazy("Maintenance visits of the month within ±14 and ±30 days of the forecast date that planned their call."),
     "lines": [("forecast_within_14_days", gettext_lazy("within ±14 days"), "percent", "y"),
               ("forecast_within_30_days", gettext_lazy("within ±30 days"), "percent", "y")]},
]

DEFINITION_NAMES = {
    "repeat_sale_rate": gettext_lazy("Repeat-sale rate"),
    "service_return_rate": gettext_lazy("Service-return rate"),
    "retention_rate": gettext_lazy("Retention (CRR)"),
    "churn_rate": gettext_lazy("Churn"),
    "reach_rate": gettext_lazy("Reach rate"),
    "dead_contact_share": gettext_lazy("Dead contacts"),
    "lapsed_share": gettext_lazy("Lapsed"),
    "forecast_accuracy": gettext_lazy("Forecast accuracy"),
    "invitation_conversion": gettext_lazy("Invitations → bookings"),
    "dormant_share": gettext_lazy("Dormant"),
    "plan_adherence": gettext_lazy("Plan adherence"),
    "profit_estimate": gettext_lazy("First-year CLM profit"),
    "script_variants": gettext_lazy("Script A/B"),
    "touchpoint_conversion": gettext_lazy("Conversion per touchpoint"),
    "handoff_conversion": gettext_lazy("Hand-off conversion"),
}


MEASURE_NAMES = {
    "reached": gettext_lazy("reached"),
    "booked": gettext_lazy("booked a visit"),
    "hot_leads": gettext_lazy("hot lead"),
    "visited": gettext_lazy("came for maintenance"),
    "sold": gettext_lazy("bought a car"),
}


def _percent_text(rate: float | None) -> str:
    return "—" if rate is None else f"{100 * rate:.1f} %"


def _span(interval: list[float] | None, *, signed: bool = False) -> str:
    if not interval:
        return ""
    low, high = (100 * interval[0], 100 * interval[1])
    return f"{low:+.1f}…{high:+.1f}" if signed else f"{low:.1f}–{high:.1f} %"


def experiment_tables(value: dict[str, Any], names: dict[str, str]) -> list[dict[str, Any]]:
    """Script A/B for the page: per template, per variant, each measure's rate and interval, and for
    B, C, ... the difference from A in percentage points, or "not proven yet"."""
    tables = []
    for test in value.get("script_variants", []):
        rows = []
        for variant in test["variants"]:
            cells = []
            for name in metrics.MEASURES:
                part = variant[name]
                cells.append({"count": part["count"], "rate": _percent_text(part["rate"]), "ci95": _span(part["ci95"]),
                              "difference": _span(part["difference_ci95"], signed=True), "proven": part["proven"],
                              "compared": variant["key"] != "A" and part["difference_ci95"] is not None})
            rows.append({"key": variant["key"], "calls": variant["calls"], "cells": cells})
        tables.append({"code": test["code"], "name": names.get(test["code"], test["code"]), "rows": rows})
    return tables


def touchpoint_table(value: dict[str, Any], names: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"code": row["code"], "name": names.get(row["code"], row["code"]), "calls": row["calls"],
         "cells": [{"count": row[name]["count"], "rate": _percent_text(row[name]["rate"]), "ci95": _span(row[name]["ci95"])}
                   for name in metrics.MEASURES]}
        for row in value.get("touchpoints", [])
    ]


def chart_config() -> dict[str, Any]:
    """What static/js/dashboard.js draws, with the labels already translated."""
    charts = [
        {"id": chart["id"], "lines": [{"key": key, "label": str(label), "unit": unit, "axis": axis}
                                      for key, label, unit, axis in chart["lines"]]}
        for chart in CHARTS
    ]
    charts.append({"id": "chart-agents", "agents": True, "lines": []})
    return {"charts": charts, "empty": _("No data for this period."), "others": _("others")}


# ------------------------------------------------------------------------------------ the page

@access.role_required(access.CAN_SEE_DASHBOARDS)
def dashboard(request: HttpRequest) -> HttpResponse:
    visible = list(access.dealerships_of(request.user))
    chosen = [d for d in visible if str(d.pk) == request.GET.get("dealership")] or visible
    today = (chosen[0].local_date(timezone.now()) if chosen else timezone.now().date())
    end = _date(request.GET.get("to"), today)
    # Two years by default: sales of 15-24 months ago are old enough to judge the service return.
    start = _date(request.GET.get("from"), add_months(end, -24) + dt.timedelta(days=1))
    if start > end:
        start, end = end, start
    params = {
        "repeat_years": _int(request.GET.get("repeat_years"), 3, 1, 10),
        "return_months": _int(request.GET.get("return_months"), 15, 1, 60),
        "active_months": _int(request.GET.get("active_months"), 12, 1, 60),
    }
    zone = chosen[0].zone if chosen else dt.UTC
    snapshot = figures_for_the_page(dealership_ids=tuple(d.pk for d in chosen), start=start, end=end, params=params,
                                    today=today, zone=zone, refresh=request.GET.get("refresh") == "1")
    if snapshot is None:
        query = "&".join(part for part in request.GET.urlencode().split("&") if part and not part.startswith("refresh="))
        return render(request, "contacts/dashboard_pending.html", {
            "dealerships": visible, "chosen": chosen, "start": start, "end": end, "query": query,
        })
    value = snapshot.value
    export = EXPORTS.get(request.GET.get("export") or "")
    if export is not None:
        header, rows = export_table(request.GET["export"], value)
        return csv_response(headers=header, rows=rows, file_name=f"{export[2]}-{start}-{end}.csv")
    profit_inputs = {
        "customers": _float(request.GET.get("x"), float(value["contacts"]["customers"])),
        "margin_service": _float(request.GET.get("y"), 6000), "margin_car": _float(request.GET.get("z"), 40000),
    }
    # a, b, c: one dealership's own (set on the admin's profit page); several dealerships: the method's.
    stored = ContactRules.objects.filter(dealership=chosen[0]).first() if len(chosen) == 1 else None
    profit_inputs.update((stored or ContactRules()).profit_coefficients())
    months = value["series"]["months"]
    russian = (get_language() or "en").startswith("ru")
    names = {t.code: (t.name_ru if russian else t.name_en) or t.code for t in TouchpointTemplate.objects.all()}
    base_query = "&".join(part for part in request.GET.urlencode().split("&") if part and not part.startswith(("export=", "refresh=")))
    return render(request, "contacts/dashboard.html", {
        "value": value, "computed_at": snapshot.computed_at, "dealerships": visible, "chosen": chosen,
        "start": start, "end": end, "params": params, "profit": figures.profit_estimate(**profit_inputs),
        "profit_inputs": profit_inputs, "query": base_query, "charts": CHARTS, "chart_config": chart_config(),
        "definitions": [(DEFINITION_NAMES[key], text) for key, text in metrics.DEFINITIONS.items()],
        "definition_of": metrics.DEFINITIONS,
        "experiments": experiment_tables(value, names), "touchpoint_rows": touchpoint_table(value, names),
        "measure_names": [MEASURE_NAMES[name] for name in metrics.MEASURES],
        "pipeline": pipeline_table(value), "pipeline_total": (value.get("pipeline") or {}).get("total"),
        "partial_months": bool(months) and (start.day != 1 or end != add_months(end.replace(day=1), 1) - dt.timedelta(days=1)),
        "error": _("No data for this period.") if not value["contacts"]["customers"] else "",
    })
