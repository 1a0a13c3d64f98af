"""Every figure month by month, for the charts and the monthly CSV."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Min, Q

from contacts.core.figures import (
    churn_rate,
    retention_rate,
)
from contacts.metrics.definitions import DAY, Month, Scope, _by_month, _column, _rate, month_buckets
from contacts.metrics.events import (
    _active_windows,
    _customers_by_first_event,
    _customers_with_event_in,
    _events,
    _lapsed_counts,
)
from contacts.metrics.figures import (
    ADHERENCE_COUNTS,
    INVITATION_COUNTS,
    LEAD_COUNTS,
    REPEAT_COUNTS,
    RETURN_COUNTS,
    _dormant_counts,
    _due_touchpoints,
    _forecast_by_month,
    _hot_leads,
    _reached_invitations,
    _repeat_cohort,
    _return_cohort,
    calls_by_month_and_agent,
    per_agent,
)
from customers.models import Sale

# ------------------------------------------------------------------------------------ month by month

# The columns of ``monthly_series`` (besides "months", "starts", "ends" and "agents"), in CSV order.
SERIES_COLUMNS = (
    "repeat_sale_customers", "repeat_sale_repeat", "repeat_sale_rate",
    "service_return_vehicles", "service_return_returned", "service_return_rate",
    "active_at_start", "new_customers", "active_at_end", "retention_rate", "churn_rate",
    "calls", "reached", "reach_rate", "bookings",
    "known_customers", "dead_contacts", "dead_contact_share", "lapsed", "lapsed_share",
    "customers_with_rhythm", "dormant", "dormant_rate",
    "touchpoints_due", "touchpoints_done", "plan_adherence",
    "invitations_reached", "invitations_booked", "invitation_booking_rate",
    "hot_leads", "hot_leads_became_sales",
    "forecast_visits", "forecast_on_time_14", "forecast_on_time_30", "forecast_within_14_days", "forecast_within_30_days",
)


def monthly_series(scope: Scope, *, repeat_years: int = 3, return_months: int = 15, active_months: int = 12) -> dict[str, Any]:
    """Every figure of the period month by month (calendar months cut to the period), for the charts
    and their CSV. Rates of a month are those of that month alone: the calls made in it, the cars
    sold in it (a sales cohort), the touchpoints due in it; stocks (active, lapsed, dormant, dead
    contacts) are taken on the month's last day. One or two queries per figure, whatever the months."""
    months = month_buckets(scope.start, scope.end)
    ids = scope.dealership_ids
    ends = [month.end for month in months]
    series: dict[str, Any] = {"months": [m.label for m in months], "starts": [m.start.isoformat() for m in months],
                              "ends": [day.isoformat() for day in ends]}

    def rates(parts: list[int], wholes: list[int]) -> list[float | None]:
        return [_rate(part, whole) for part, whole in zip(parts, wholes, strict=True)]

    repeat = _by_month(_repeat_cohort(scope, years=repeat_years, holdout=None), "sold_on", **REPEAT_COUNTS)
    series["repeat_sale_customers"] = _column(repeat, months, "customers")
    series["repeat_sale_repeat"] = _column(repeat, months, "repeat")
    series["repeat_sale_rate"] = rates(series["repeat_sale_repeat"], series["repeat_sale_customers"])
    returned = _by_month(_return_cohort(scope, months=return_months, holdout=None), "sold_on", **RETURN_COUNTS)
    series["service_return_vehicles"] = _column(returned, months, "vehicles")
    series["service_return_returned"] = _column(returned, months, "returned")
    series["service_return_rate"] = rates(series["service_return_returned"], series["service_return_vehicles"])

    active = _customers_with_event_in(_events(ids), _active_windows([scope.start - DAY, *ends], active_months))
    new = _customers_by_first_event(_events(ids, visits=False, calls=False), [(m.start, m.end) for m in months])
    series["active_at_start"], series["active_at_end"], series["new_customers"] = active[:-1], active[1:], new
    series["retention_rate"] = [None if crr is None else round(crr, 4) for crr in (
        retention_rate(start_count=s, new_count=n, end_count=e) for s, n, e in zip(active[:-1], new, active[1:], strict=True))]
    series["churn_rate"] = [None if churn is None else round(churn, 4) for churn in (
        churn_rate(start_count=s, new_count=n, end_count=e) for s, n, e in zip(active[:-1], new, active[1:], strict=True))]

    call_rows = calls_by_month_and_agent(scope)
    series["agents"] = agent_series(call_rows, months)
    for name in ("calls", "reached", "bookings"):
        series[name] = [sum(values) for values in zip(*(agent[name] for agent in series["agents"]), strict=True)] or [0] * len(months)
    series["reach_rate"] = rates(series["reached"], series["calls"])
    # Not a column: the agents table of the period, from the same rows (all_figures takes it from here).
    series["agent_totals"] = per_agent(scope, rows=call_rows)

    # Dead contacts among the customers who had bought by the month's end.
    buyers = Sale.objects.filter(customer__dealership_id__in=ids).order_by().values("customer_id").annotate(
        first=Min("sold_on"), dead_since=Min("customer__phone_unreachable_since"))
    stock = buyers.aggregate(**{
        **{f"known{i}": Count("customer_id", filter=Q(first__lte=day)) for i, day in enumerate(ends)},
        **{f"dead{i}": Count("customer_id", filter=Q(first__lte=day, dead_since__lte=day)) for i, day in enumerate(ends)},
    }) if ends else {}
    series["known_customers"] = [stock[f"known{i}"] for i in range(len(ends))]
    series["dead_contacts"] = [stock[f"dead{i}"] for i in range(len(ends))]
    series["dead_contact_share"] = rates(series["dead_contacts"], series["known_customers"])
    lapsed = _lapsed_counts(ids, ends)
    series["lapsed"] = [n for _known, n in lapsed]
    series["lapsed_share"] = [_rate(n, known) for known, n in lapsed]
    dormant = _dormant_counts(ids, ends) if ends else []
    series["customers_with_rhythm"] = [n for n, _dormant in dormant]
    series["dormant"] = [n for _rhythm, n in dormant]
    series["dormant_rate"] = [_rate(n, whole) for whole, n in dormant]

    adherence = _by_month(_due_touchpoints(scope), "window_end", **ADHERENCE_COUNTS)
    series["touchpoints_due"] = _column(adherence, months, "due")
    series["touchpoints_done"] = _column(adherence, months, "done")
    series["plan_adherence"] = rates(series["touchpoints_done"], series["touchpoints_due"])
    invitations = _by_month(_reached_invitations(scope), "ended_at", **INVITATION_COUNTS)
    series["invitations_reached"] = _column(invitations, months, "reached")
    series["invitations_booked"] = _column(invitations, months, "booked")
    series["invitation_booking_rate"] = rates(series["invitations_booked"], series["invitations_reached"])
    leads = _by_month(_hot_leads(scope), "created_at", **LEAD_COUNTS)
    series["hot_leads"] = _column(leads, months, "hot_leads")
    series["hot_leads_became_sales"] = _column(leads, months, "became_sales")
    forecast = _forecast_by_month(scope)
    series["forecast_visits"] = [forecast.get(m.label, (0, 0, 0))[0] for m in months]
    series["forecast_on_time_14"] = [forecast.get(m.label, (0, 0, 0))[1] for m in months]
    series["forecast_on_time_30"] = [forecast.get(m.label, (0, 0, 0))[2] for m in months]
    series["forecast_within_14_days"] = [_rate(forecast.get(m.label, (0, 0, 0))[1], n) for m, n in zip(months, series["forecast_visits"], strict=True)]
    series["forecast_within_30_days"] = [_rate(forecast.get(m.label, (0, 0, 0))[2], n) for m, n in zip(months, series["forecast_visits"], strict=True)]

    return series


def agent_series(rows: list[dict[str, Any]], months: Sequence[Month]) -> list[dict[str, Any]]:
    """Calls, reached calls and bookings of each agent, month by month (agents by name)."""
    index = {month.label: i for i, month in enumerate(months)}
    agents: dict[str, dict[str, list[int]]] = {}
    for row in rows:
        found = agents.setdefault(row["agent"], {key: [0] * len(months) for key in ("calls", "reached", "bookings")})
        at = index.get(row["month"])
        if at is not None:
            for key in ("calls", "reached", "bookings"):
                found[key][at] += row[key]
    return [{"agent": name, **values} for name, values in sorted(agents.items(), key=lambda item: (item[0] == "—", item[0]))]
