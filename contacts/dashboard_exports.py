"""The dashboard's tables as CSV (the page's "CSV" links and ``manage.py export_metrics``): one row
function per table, the columns of each, and the columns and cells in the reader's words; written by
the one CSV writer, customers.exports."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts import metrics
from contacts.models import Department
from customers.models import Customer


def figures_rows(value: dict[str, Any]) -> list[tuple[Any, ...]]:
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


AGENT_COLUMNS = ("agent", "calls", "reach_rate", "bookings", "handoffs", "avg_handling_seconds")


def agent_rows(value: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [tuple(row[column] for column in AGENT_COLUMNS) for row in value["agents"]]


def holdout_rows(value: dict[str, Any]) -> list[tuple[Any, ...]]:
    holdout = value["holdout"]

    def row(group: str, figure: str, part: dict[str, Any], base: str, count: str) -> tuple[Any, ...]:
        low, high = part["ci95"] or ("", "")
        return (group, figure, part[base], part[count], "" if part["rate"] is None else part["rate"], low, high)

    low, high = holdout["difference_ci95"] or ("", "")
    return [
        row("contacted", "service_return", holdout["contacted"], "vehicles", "returned"),
        row("holdout", "service_return", holdout["holdout"], "vehicles", "returned"),
        ("difference", "service_return", "", "", "", low, high),
        row("contacted", "repeat_sale", holdout["repeat_contacted"], "customers", "repeat"),
        row("holdout", "repeat_sale", holdout["repeat_holdout"], "customers", "repeat"),
    ]


def dead_contact_rows(value: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(row["years_since_reached"], row["customers"], row["dead"], "" if row["share"] is None else row["share"])
            for row in value["dead_by_silence"]]


def elsewhere_rows(value: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(row["reason"], row["count"]) for row in value["contacts"]["serviced_elsewhere"]]


def series_rows(value: dict[str, Any]) -> list[tuple[Any, ...]]:
    series = value["series"]
    columns = [series["months"], series["starts"], series["ends"], *(series[name] for name in metrics.SERIES_COLUMNS)]
    return [tuple("" if cell is None else cell for cell in row) for row in zip(*columns, strict=True)]


def agent_series_rows(value: dict[str, Any]) -> list[tuple[Any, ...]]:
    series = value["series"]
    return [
        (month, agent["agent"], agent["calls"][i], agent["reached"][i], agent["bookings"][i])
        for i, month in enumerate(series["months"]) for agent in series["agents"] if agent["calls"][i]
    ]


def script_variant_rows(value: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Script A/B, one row per template, variant and measure; B, C, ... with their difference from A."""
    rows = []
    for test in value.get("script_variants", []):
        for variant in test["variants"]:
            for name in metrics.MEASURES:
                part = variant[name]
                low, high = part["ci95"] or ("", "")
                diff_low, diff_high = part["difference_ci95"] or ("", "")
                verdict = "" if variant["key"] == "A" else (_("proven") if part["proven"] else _("not proven yet"))
                rows.append((test["code"], variant["key"], str(COLUMN_LABELS.get(name, name)), variant["calls"], part["count"],
                             "" if part["rate"] is None else part["rate"], low, high, diff_low, diff_high, verdict))
    return rows


def touchpoint_rows(value: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (row["code"], row["calls"], *(cell for name in metrics.MEASURES
                                      for cell in (row[name]["count"], "" if row[name]["rate"] is None else row[name]["rate"])))
        for row in value.get("touchpoints", [])
    ]


PIPELINE_COLUMNS = ("department", "temperature", "handoffs", "sold", "test_drive", "visit_confirmed",
                    "not_interested", "no_answer", "no_outcome", "converted", "rate", "escalated", "answered_in_time")


def pipeline_table(value: dict[str, Any]) -> list[dict[str, Any]]:
    """The hand-off conversion rows, department and temperature in the reader's words (a snapshot from
    before the pipeline has none)."""
    names = {d.code: d.name for d in Department.objects.all()}
    temperatures = dict(Customer.Temperature.choices)
    return [{**row, "department": names.get(row["department"], row["department"]),
             "temperature": temperatures.get(row["temperature"], "—")}
            for row in (value.get("pipeline") or {}).get("rows", [])]


def pipeline_rows(value: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [tuple("" if row[column] is None else row[column] for column in PIPELINE_COLUMNS) for row in pipeline_table(value)]


# name: (column keys, rows, file name prefix)
EXPORTS: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Any]], list[tuple[Any, ...]]], str]] = {
    "figures": (("figure", "value"), figures_rows, "figures"),
    "agents": (AGENT_COLUMNS, agent_rows, "agents"),
    "holdout": (("group", "figure", "base", "count", "rate", "ci95_low", "ci95_high"), holdout_rows, "holdout"),
    "dead_contacts": (("years_since_reached", "customers", "unreachable", "share"), dead_contact_rows, "dead-contacts"),
    "elsewhere": (("reason", "calls"), elsewhere_rows, "serviced-elsewhere"),
    "series": (("month", "from", "to", *metrics.SERIES_COLUMNS), series_rows, "monthly"),
    "agent_series": (("month", "agent", "calls", "reached", "bookings"), agent_series_rows, "agents-monthly"),
    "script_variants": (("template", "variant", "measure", "calls", "count", "rate", "ci95_low", "ci95_high",
                         "difference_from_a_low", "difference_from_a_high", "verdict"), script_variant_rows,
                        "script-variants"),
    "touchpoints": (("template", "calls", *(f"{name}{suffix}" for name in metrics.MEASURES for suffix in ("", "_rate"))),
                    touchpoint_rows, "touchpoint-conversion"),
    "pipeline": (PIPELINE_COLUMNS, pipeline_rows, "handoff-conversion"),
}

# The exported columns and figures in words. A rate is exported as the percentage the page shows
# (12.5, written 12,5 for a Russian reader): a number Excel can compute with, its unit in the header.
COLUMN_LABELS: dict[str, Any] = {
    "figure": gettext_lazy("Figure"), "value": gettext_lazy("Value"),
    "repeat_sale_rate": gettext_lazy("Repeat-sale rate, %"), "repeat_sale_customers": gettext_lazy("Buyers"),
    "repeat_sale_repeat": gettext_lazy("Bought again"),
    "service_return_rate": gettext_lazy("Service-return rate, %"), "service_return_vehicles": gettext_lazy("Cars sold"),
    "service_return_returned": gettext_lazy("Returned to service"),
    "retention_rate": gettext_lazy("Retention (CRR), %"), "churn_rate": gettext_lazy("Churn, %"),
    "active_at_start": gettext_lazy("Active at the start"), "new_customers": gettext_lazy("New customers"),
    "active_at_end": gettext_lazy("Active at the end"),
    "reach_rate": gettext_lazy("Reach rate, %"), "calls": gettext_lazy("Calls"), "reached": gettext_lazy("Reached"),
    "bookings": gettext_lazy("Bookings"), "known_customers": gettext_lazy("Customers"),
    "dead_contacts": gettext_lazy("Dead contacts"), "dead_contact_share": gettext_lazy("Dead contacts, %"),
    "lapsed": gettext_lazy("Lapsed"), "lapsed_share": gettext_lazy("Lapsed, %"),
    "customers_with_rhythm": gettext_lazy("Customers with a visit rhythm"), "dormant": gettext_lazy("Dormant"),
    "dormant_rate": gettext_lazy("Dormant, %"),
    "touchpoints_due": gettext_lazy("Touchpoints due"), "touchpoints_done": gettext_lazy("Touchpoints done"),
    "plan_adherence": gettext_lazy("Plan adherence, %"),
    "invitations_reached": gettext_lazy("Invitations reached"), "invitations_booked": gettext_lazy("Invitations booked"),
    "invitation_booking_rate": gettext_lazy("Invitations → bookings, %"),
    "hot_leads": gettext_lazy("Hot leads"), "hot_leads_became_sales": gettext_lazy("Hot leads → sales"),
    "forecast_visits": gettext_lazy("Maintenance visits with a forecast"),
    "forecast_on_time_14": gettext_lazy("Within ±14 days"), "forecast_on_time_30": gettext_lazy("Within ±30 days"),
    "forecast_within_14_days": gettext_lazy("Within ±14 days, %"),
    "forecast_within_30_days": gettext_lazy("Within ±30 days, %"),
    "holdout_service_return_rate": gettext_lazy("Service-return rate of the hold-out group, %"),
    "contacted_service_return_rate": gettext_lazy("Service-return rate of the contacted, %"),
    "agent": gettext_lazy("Agent"), "handoffs": gettext_lazy("Hand-offs"),
    "avg_handling_seconds": gettext_lazy("Avg. handling, s"),
    "group": gettext_lazy("Group"), "base": gettext_lazy("Base"), "count": gettext_lazy("Count"),
    "rate": gettext_lazy("Rate, %"), "ci95_low": gettext_lazy("95 % interval from, %"),
    "ci95_high": gettext_lazy("95 % interval to, %"),
    "years_since_reached": gettext_lazy("Years since the last reached call"), "customers": gettext_lazy("Customers"),
    "unreachable": gettext_lazy("Unreachable"), "share": gettext_lazy("Share, %"),
    "reason": gettext_lazy("Reason"), "month": gettext_lazy("Month"), "from": gettext_lazy("From"), "to": gettext_lazy("To"),
    "template": gettext_lazy("Touchpoint"), "variant": gettext_lazy("Script variant"), "measure": gettext_lazy("Measure"),
    "difference_from_a_low": gettext_lazy("Difference from A from, percentage points"),
    "difference_from_a_high": gettext_lazy("Difference from A to, percentage points"), "verdict": gettext_lazy("Verdict"),
    "booked": gettext_lazy("Booked"), "visited": gettext_lazy("Visited service"), "sold": gettext_lazy("Bought a car"),
    "reached_rate": gettext_lazy("Reached, %"), "booked_rate": gettext_lazy("Booked, %"),
    "hot_leads_rate": gettext_lazy("Hot leads, %"), "visited_rate": gettext_lazy("Visited service, %"),
    "sold_rate": gettext_lazy("Bought a car, %"),
    "department": gettext_lazy("Department"), "temperature": gettext_lazy("Temperature"),
    "test_drive": gettext_lazy("Test drive booked"), "visit_confirmed": gettext_lazy("Visit confirmed"),
    "not_interested": gettext_lazy("Not interested"), "no_answer": gettext_lazy("No answer"),
    "no_outcome": gettext_lazy("No outcome yet"), "converted": gettext_lazy("Converted"),
    "escalated": gettext_lazy("Escalated"), "answered_in_time": gettext_lazy("Answered in time"),
}
# Keys whose values are rates (fractions in the figures): written as percentages.
PERCENT_COLUMNS = frozenset({
    "repeat_sale_rate", "service_return_rate", "retention_rate", "churn_rate", "reach_rate", "dead_contact_share",
    "lapsed_share", "dormant_rate", "plan_adherence", "invitation_booking_rate", "forecast_within_14_days",
    "forecast_within_30_days", "holdout_service_return_rate", "contacted_service_return_rate", "rate", "ci95_low",
    "ci95_high", "share", "difference_from_a_low", "difference_from_a_high", "reached_rate", "booked_rate",
    "hot_leads_rate", "visited_rate", "sold_rate",
})
# Words for the holdout table's cells.
CELL_WORDS: dict[str, Any] = {
    "contacted": gettext_lazy("contacted"), "holdout": gettext_lazy("hold-out (no calls)"),
    "difference": gettext_lazy("difference"), "service_return": gettext_lazy("service-return rate"),
    "repeat_sale": gettext_lazy("repeat-sale rate"),
}


def _percent(value: Any) -> Any:
    """A fraction as a percentage to 0.1, half up (0.7935 → 79.4, as the charts round it)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return value
    return float((Decimal(str(value)) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def export_table(name: str, value: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """One export's header and rows in the active language: words for keys, rates as percentages."""
    columns, rows_of, _prefix = EXPORTS[name]
    header = [str(COLUMN_LABELS.get(column, column)) for column in columns]
    rows: list[list[Any]] = []
    for row in rows_of(value):
        if name == "figures":
            key, figure = row
            cells = [str(COLUMN_LABELS.get(key, key)), _percent(figure) if key in PERCENT_COLUMNS else figure]
        else:
            cells = [_percent(cell) if column in PERCENT_COLUMNS else cell for column, cell in zip(columns, row, strict=True)]
        if name == "holdout":
            cells[:2] = [str(CELL_WORDS.get(cell, cell)) for cell in cells[:2]]
        rows.append(cells)
    return header, rows
