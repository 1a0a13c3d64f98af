"""The manager dashboards: figures with definitions, charts, CSV export; cached as MetricSnapshot rows."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts import metrics
from contacts.models import MetricSnapshot
from customers import access
from customers.mileage import add_months


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


def cached_figures(*, dealership_ids: tuple[int, ...], start: dt.date, end: dt.date, params: dict[str, int],
                   today: dt.date, refresh: bool = False) -> MetricSnapshot:
    """Figures for a scope from the snapshot table, computed (and stored) when missing or asked for."""
    key = "figures:" + hashlib.sha1(json.dumps([dealership_ids, params], sort_keys=True).encode()).hexdigest()[:16]
    dealership_id = dealership_ids[0] if len(dealership_ids) == 1 else None
    snapshot = MetricSnapshot.objects.filter(
        key=key, dealership__isnull=dealership_id is None, period_start=start, period_end=end
    ).filter(**({"dealership_id": dealership_id} if dealership_id else {})).first()
    if snapshot is None or refresh or snapshot.computed_at.date() < today:
        scope = metrics.Scope(dealership_ids, start, end, as_of=today)
        value = metrics.all_figures(scope, repeat_years=params["repeat_years"], return_months=params["return_months"],
                                    active_months=params["active_months"])
        value["series"] = metrics.monthly_series(dealership_ids, end, repeat_years=params["repeat_years"],
                                                 return_months=params["return_months"])
        snapshot, _created = MetricSnapshot.objects.update_or_create(
            key=key, dealership_id=dealership_id, period_start=start, period_end=end,
            defaults={"computed_at": timezone.now(), "value": value},
        )
    return snapshot


def figures_rows(value: dict[str, Any]) -> list[tuple[str, Any]]:
    contacts, retention = value["contacts"], value["retention"]
    return [
        ("repeat_sale_rate", value["repeat_sale"]["rate"]), ("repeat_sale_customers", value["repeat_sale"]["customers"]),
        ("service_return_rate", value["service_return"]["rate"]), ("service_return_vehicles", value["service_return"]["vehicles"]),
        ("retention_rate", retention["crr"]), ("churn_rate", retention["churn"]),
        ("active_at_start", retention["start"]), ("new_customers", retention["new"]), ("active_at_end", retention["end"]),
        ("reach_rate", contacts["reach_rate"]), ("calls", contacts["calls"]), ("bookings", contacts["bookings"]),
        ("dead_contact_share", contacts["dead_contact_share"]), ("lapsed_share", contacts["lapsed_share"]),
        ("plan_adherence", contacts["plan_adherence"]), ("dormant_rate", value["dormant"]["rate"]),
        ("forecast_within_14_days", value["forecast_accuracy"]["within_14_days"]),
        ("forecast_within_30_days", value["forecast_accuracy"]["within_30_days"]),
        ("invitation_booking_rate", value["invitations"]["rate"]), ("hot_leads", value["handoffs"]["hot_leads"]),
        ("hot_leads_became_sales", value["handoffs"]["became_sales"]),
        ("holdout_service_return_rate", value["holdout"]["holdout"]["rate"]),
        ("contacted_service_return_rate", value["holdout"]["contacted"]["rate"]),
    ]


def csv_response(rows: list[tuple[Any, ...]], header: tuple[str, ...], filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # Excel opens UTF-8 Cyrillic correctly with a BOM
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


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
    snapshot = cached_figures(dealership_ids=tuple(d.pk for d in chosen), start=start, end=end, params=params,
                              today=today, refresh=request.GET.get("refresh") == "1")
    value = snapshot.value
    profit_inputs = {
        "customers": _float(request.GET.get("x"), float(value["contacts"]["customers"])),
        "margin_service": _float(request.GET.get("y"), 6000), "margin_car": _float(request.GET.get("z"), 40000),
    }
    profit = metrics.profit_estimate(**profit_inputs)
    export = request.GET.get("export")
    if export == "figures":
        return csv_response(figures_rows(value), ("figure", "value"), f"figures-{start}-{end}.csv")
    if export == "agents":
        return csv_response([tuple(row.values()) for row in value["agents"]],
                            ("agent", "calls", "reach_rate", "bookings", "handoffs", "avg_handling_seconds"), f"agents-{start}-{end}.csv")
    if export == "series":
        series = value["series"]
        return csv_response(list(zip(series["labels"], series["service_return"], series["repeat_sale"], strict=True)),
                            ("cohort_month", "service_return_rate", "repeat_sale_rate"), f"cohorts-{end}.csv")
    return render(request, "contacts/dashboard.html", {
        "value": value, "computed_at": snapshot.computed_at, "dealerships": visible, "chosen": chosen,
        "start": start, "end": end, "params": params, "profit": profit, "profit_inputs": profit_inputs,
        "definitions": metrics.DEFINITIONS, "query": request.GET.urlencode(),
        "error": _("No data for this period.") if not value["contacts"]["customers"] else "",
    })
