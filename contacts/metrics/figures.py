"""The figures of one period: repeat sales, service return, retention, contact figures, dormant and
dead contacts, forecast accuracy, conversions, agents, the hold-out comparison, hand-offs."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate, TruncMonth

from contacts.core.figures import (
    churn_rate,
    difference_interval,
    retention_rate,
)
from contacts.metrics.definitions import DAY, Scope, _interval, _month_key, _rate
from contacts.metrics.events import (
    _active_windows,
    _customers_by_first_event,
    _customers_with_event_in,
    _events,
    _lapsed_counts,
)
from contacts.metrics.experiments import script_variant_figures, touchpoint_conversion
from contacts.metrics.pipeline import handoff_pipeline
from contacts.models import REACHED_OUTCOMES, CallAttempt, Handoff, Touchpoint
from customers.core.calendar import add_months
from customers.models import Customer, Sale, ServiceVisit

# ------------------------------------------------------------------------------------ figures of a period


def _repeat_cohort(scope: Scope, *, years: int, holdout: bool | None) -> QuerySet[Sale]:
    cohort = Sale.objects.filter(dealership_id__in=scope.dealership_ids, sold_on__range=(scope.start, scope.end))
    if holdout is not None:
        cohort = cohort.filter(customer__is_holdout=holdout)
    again = Sale.objects.filter(
        customer_id=OuterRef("customer_id"),
        sold_on__gt=OuterRef("sold_on"),
        sold_on__lte=OuterRef("sold_on") + dt.timedelta(days=round(365.25 * years)),
    ).exclude(vehicle_id=OuterRef("vehicle_id"))
    return cohort.annotate(bought_again=Exists(again))


REPEAT_COUNTS = {"customers": Count("customer_id", distinct=True),
                 "repeat": Count("customer_id", distinct=True, filter=Q(bought_again=True))}


def repeat_sale_rate(scope: Scope, *, years: int = 3, holdout: bool | None = None) -> dict[str, Any]:
    """``holdout``: None for every customer, True / False for the hold-out group / the contacted ones."""
    counts = _repeat_cohort(scope, years=years, holdout=holdout).aggregate(**REPEAT_COUNTS)
    return {"customers": counts["customers"], "repeat": counts["repeat"], "rate": _rate(counts["repeat"], counts["customers"])}


def _return_cohort(scope: Scope, *, months: int, holdout: bool | None) -> QuerySet[Sale]:
    # Only cars that had the whole M months to return by the day of the data (mature cohorts): a car
    # sold last month has not failed to return yet.
    matured_by = add_months(scope.data_day, -months)
    sold = Sale.objects.filter(
        dealership_id__in=scope.dealership_ids, sold_on__range=(scope.start, min(scope.end, matured_by))
    )
    if holdout is not None:
        sold = sold.filter(customer__is_holdout=holdout)
    visit = ServiceVisit.objects.filter(
        vehicle_id=OuterRef("vehicle_id"),
        kind=ServiceVisit.Kind.MAINTENANCE,
        visited_on__gt=OuterRef("sold_on"),
        visited_on__lte=OuterRef("sold_on") + dt.timedelta(days=round(30.4375 * months)),
    )
    return sold.annotate(came_back=Exists(visit))


RETURN_COUNTS = {"vehicles": Count("vehicle_id", distinct=True),
                 "returned": Count("vehicle_id", distinct=True, filter=Q(came_back=True))}


def service_return_rate(scope: Scope, *, months: int = 15, holdout: bool | None = None) -> dict[str, Any]:
    counts = _return_cohort(scope, months=months, holdout=holdout).aggregate(**RETURN_COUNTS)
    return {"vehicles": counts["vehicles"], "returned": counts["returned"], "rate": _rate(counts["returned"], counts["vehicles"])}


def retention(scope: Scope, *, active_months: int = 12, series: dict[str, Any] | None = None) -> dict[str, Any]:
    """``series``: the period's monthly_series (same active_months), whose counts then serve here."""
    if series is not None:
        start_count, end_count = series["active_at_start"][0], series["active_at_end"][-1]
        new_count = sum(series["new_customers"])
    else:
        start_count, end_count = _customers_with_event_in(
            _events(scope.dealership_ids), _active_windows([scope.start - DAY, scope.end], active_months)
        )
        new_count = _customers_by_first_event(_events(scope.dealership_ids, visits=False, calls=False), [(scope.start, scope.end)])[0]
    crr = retention_rate(start_count=start_count, new_count=new_count, end_count=end_count)
    churn = churn_rate(start_count=start_count, new_count=new_count, end_count=end_count)
    return {"start": start_count, "new": new_count, "end": end_count,
            "crr": None if crr is None else round(crr, 4), "churn": None if churn is None else round(churn, 4)}


def _attempts(scope: Scope) -> QuerySet[CallAttempt]:
    return CallAttempt.objects.filter(call_task__dealership_id__in=scope.dealership_ids,
                                      ended_at__date__range=(scope.start, scope.end))


CALL_COUNTS = {"calls": Count("id"), "reached": Count("id", filter=Q(outcome__in=REACHED_OUTCOMES)),
               "bookings": Count("id", filter=Q(outcome="booked"))}


def _due_touchpoints(scope: Scope) -> QuerySet[Touchpoint]:
    return Touchpoint.objects.filter(
        customer__dealership_id__in=scope.dealership_ids, window_end__range=(scope.start, scope.end)
    ).exclude(status=Touchpoint.Status.CANCELLED)


ADHERENCE_COUNTS = {"due": Count("id"), "done": Count("id", filter=Q(status=Touchpoint.Status.DONE))}


def contact_figures(scope: Scope, *, series: dict[str, Any] | None = None) -> dict[str, Any]:
    attempts = _attempts(scope)
    customers = Customer.objects.live().filter(dealership_id__in=scope.dealership_ids).aggregate(
        total=Count("id"), dead=Count("id", filter=Q(phone_unreachable_since__isnull=False))
    )
    if series is not None:
        counts = {name: sum(series[name]) for name in ("calls", "reached", "bookings")}
        lapsed, lapsed_share = series["lapsed"][-1], series["lapsed_share"][-1]
    else:
        counts = attempts.aggregate(**CALL_COUNTS)
        known, lapsed = _lapsed_counts(scope.dealership_ids, [scope.end])[0]
        lapsed_share = _rate(lapsed, known)
    adherence = _due_touchpoints(scope).aggregate(**ADHERENCE_COUNTS)
    elsewhere = list(attempts.filter(outcome="serviced_elsewhere").order_by().values("detail__reason")
                     .annotate(n=Count("id")).order_by("-n", "detail__reason"))
    return {
        "calls": counts["calls"], "reached": counts["reached"], "reach_rate": _rate(counts["reached"], counts["calls"]),
        "bookings": counts["bookings"],
        "customers": customers["total"], "dead_contacts": customers["dead"],
        "dead_contact_share": _rate(customers["dead"], customers["total"]),
        "lapsed": lapsed, "lapsed_share": lapsed_share,
        "touchpoints_due": adherence["due"], "touchpoints_done": adherence["done"],
        "plan_adherence": _rate(adherence["done"], adherence["due"]),
        "serviced_elsewhere": [{"reason": row["detail__reason"] or "—", "count": row["n"]} for row in elsewhere],
    }


def _dormant_counts(dealership_ids: tuple[int, ...], days: Sequence[dt.date]) -> list[tuple[int, int]]:
    """(customers with a rhythm, dormant customers) on each of ``days`` (ascending).

    After visit i the customer's usual gap m_i is the median of their gaps so far, and until the next
    visit they are dormant on any day more than 3 · m_i after visit i. Each visit thus contributes one
    interval of days; counting the chart's days inside the intervals needs one pass over the visits,
    streamed in order (a running median cannot be written as a portable SQL aggregate)."""
    rhythm_steps = [0] * (len(days) + 1)
    dormant_steps = [0] * (len(days) + 1)
    rows = (
        ServiceVisit.objects.filter(vehicle__owner__dealership_id__in=dealership_ids, visited_on__lte=days[-1])
        .order_by("vehicle__owner_id", "visited_on").values_list("vehicle__owner_id", "visited_on").distinct()
    )
    current: int | None = None
    previous: dt.date | None = None
    gaps: list[int] = []
    dormant_from: dt.date | None = None  # the last visit's dormancy start, while waiting for the next visit

    def close(until: dt.date | None) -> None:
        if dormant_from is None:
            return
        low = bisect.bisect_right(days, dormant_from)
        high = len(days) if until is None else bisect.bisect_left(days, until)
        if low < high:
            dormant_steps[low] += 1
            dormant_steps[high] -= 1

    for customer_id, visited_on in rows.iterator(chunk_size=20_000):
        if customer_id != current:
            close(None)
            current, previous, gaps, dormant_from = customer_id, None, [], None
        else:
            close(visited_on)
        if previous is not None:
            if not gaps:
                rhythm_steps[bisect.bisect_left(days, visited_on)] += 1
            bisect.insort(gaps, (visited_on - previous).days)
            dormant_from = visited_on + dt.timedelta(days=3 * gaps[len(gaps) // 2])
        previous = visited_on
    close(None)
    counts, rhythm, dormant = [], 0, 0
    for index in range(len(days)):
        rhythm += rhythm_steps[index]
        dormant += dormant_steps[index]
        counts.append((rhythm, dormant))
    return counts


def dormant_customers(scope: Scope) -> dict[str, Any]:
    """Customers who missed their own visit rhythm more than twice: with at least two visits, the time
    since their last visit (to the end of the period) exceeds three times their median gap."""
    with_rhythm, dormant = _dormant_counts(scope.dealership_ids, [scope.end])[0]
    return {"customers_with_rhythm": with_rhythm, "dormant": dormant, "rate": _rate(dormant, with_rhythm)}


def dead_contacts_by_silence(scope: Scope) -> list[dict[str, Any]]:
    """Unreachable phones by whole years since the customer was last reached (or last bought, if never),
    up to 5 (5 = five years or more, or never)."""
    last_reached = CallAttempt.objects.filter(customer_id=OuterRef("pk"), outcome__in=REACHED_OUTCOMES).order_by(
        "-ended_at").annotate(day=TruncDate("ended_at")).values("day")[:1]
    last_sale = Sale.objects.filter(customer_id=OuterRef("pk")).order_by("-sold_on").values("sold_on")[:1]
    # Grouped by the day itself (a few thousand distinct days at most), so each customer's two lookups
    # run once; the days are then put into years here.
    rows = (
        Customer.objects.live().filter(dealership_id__in=scope.dealership_ids).order_by()
        .annotate(since=Coalesce(Subquery(last_reached), Subquery(last_sale))).values("since")
        .annotate(customers=Count("id"), dead=Count("id", filter=Q(phone_unreachable_since__isnull=False))).order_by()
    )
    totals: dict[int, list[int]] = {}
    for row in rows:
        since = row["since"]
        years = 5 if since is None else max(0, min(5, (scope.end - since).days // 365))
        bucket = totals.setdefault(years, [0, 0])
        bucket[0] += row["customers"]
        bucket[1] += row["dead"]
    return [{"years_since_reached": years, "customers": n, "dead": dead, "share": _rate(dead, n)}
            for years, (n, dead) in sorted(totals.items())]


def _days_between_sql(later: str, earlier: str) -> str:
    if connection.vendor == "postgresql":
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def _forecast_by_month(scope: Scope) -> dict[str, tuple[int, int, int]]:
    """Maintenance visits of each month that a forecast had planned: (visits, within ±14, within ±30 days).

    The forecast of a visit is the latest ForecastSnapshot of its vehicle taken before the visit. The
    lookup runs once per visit in the inner query; the outer one only counts."""
    from customers.models import ForecastSnapshot

    planned = ForecastSnapshot.objects.filter(vehicle_id=OuterRef("vehicle_id"), taken_on__lt=OuterRef("visited_on")).order_by(
        "-taken_on", "-id").values("next_due_on")[:1]
    inner = (
        ServiceVisit.objects.filter(dealership_id__in=scope.dealership_ids, kind=ServiceVisit.Kind.MAINTENANCE,
                                    visited_on__range=(scope.start, scope.end))
        .order_by().annotate(month=TruncMonth("visited_on"), planned=Subquery(planned)).values("month", "visited_on", "planned")
    )
    sql, params = inner.query.sql_with_params()
    error = f"ABS({_days_between_sql('v.visited_on', 'v.planned')})"
    query = (f"SELECT v.month, COUNT(*), SUM(CASE WHEN {error} <= 14 THEN 1 ELSE 0 END), "
             f"SUM(CASE WHEN {error} <= 30 THEN 1 ELSE 0 END) FROM ({sql}) v WHERE v.planned IS NOT NULL GROUP BY v.month")
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return {_month_key(month): (int(n), int(w14 or 0), int(w30 or 0)) for month, n, w14, w30 in cursor.fetchall()}


def forecast_accuracy(scope: Scope) -> dict[str, Any]:
    """Maintenance visits in the period against the forecast that planned their call: the latest
    ForecastSnapshot of the vehicle taken before the visit."""
    months = _forecast_by_month(scope).values()
    visits, within_14, within_30 = (sum(values) for values in zip(*months, strict=True)) if months else (0, 0, 0)
    return {"visits": visits, "within_14_days": _rate(within_14, visits), "within_30_days": _rate(within_30, visits)}


def _reached_invitations(scope: Scope) -> QuerySet[CallAttempt]:
    return _attempts(scope).filter(outcome__in=REACHED_OUTCOMES, call_task__items__touchpoint__template__code="service_invite")


INVITATION_COUNTS = {"reached": Count("id", distinct=True), "booked": Count("id", distinct=True, filter=Q(outcome="booked"))}


def invitation_conversion(scope: Scope) -> dict[str, Any]:
    """Maintenance invitations reached in the period, and those that ended in a booking."""
    counts = _reached_invitations(scope).aggregate(**INVITATION_COUNTS)
    return {"invitations_reached": counts["reached"], "booked": counts["booked"], "rate": _rate(counts["booked"], counts["reached"])}


def calls_by_month_and_agent(scope: Scope) -> list[dict[str, Any]]:
    """One query: each agent's calls of each month, with the sums the per-agent table needs. The
    calls chart, the calls-per-agent chart and the agents table are all made from these rows.

    Agents are counted by their id and shown by name (``agent_names``); calls made by nobody still on
    the staff are the one agent "—"."""
    rows = list(
        _attempts(scope).order_by().annotate(month=TruncMonth("ended_at"))
        .values("month", "agent", "agent__username", "agent__first_name", "agent__last_name")
        .annotate(**CALL_COUNTS, handoffs=Count("id", filter=Q(outcome="hot_lead")),
                  handling=Sum(F("ended_at") - F("started_at")), timed=Count("started_at"))
        .order_by()
    )
    names = agent_names({row["agent"]: (row["agent__first_name"], row["agent__last_name"], row["agent__username"])
                         for row in rows})
    return [
        {key: value for key, value in row.items() if not key.startswith("agent__")}
        | {"month": _month_key(row["month"]), "agent_id": row["agent"], "agent": names[row["agent"]]}
        for row in rows
    ]


def agent_names(people: dict[int | None, tuple[str, str, str]]) -> dict[int | None, str]:
    """Each agent's name as the staff know it: first and last name, else the login; two agents of the
    same name are told apart by their logins; None (calls by nobody still on the staff) is "—"."""
    names = {pk: (f"{first} {last}".strip() or login) for pk, (first, last, login) in people.items() if pk is not None}
    shared = {name for name in names.values() if list(names.values()).count(name) > 1}
    named: dict[int | None, str] = {
        pk: f"{name} ({people[pk][2]})" if name in shared and name != people[pk][2] else name for pk, name in names.items()
    }
    if None in people:
        named[None] = "—"
    return named


def by_name(item: tuple[Any, dict[str, Any]]) -> tuple[bool, str]:
    """The order of the agents' rows: by name, the unnamed agent ("—") last."""
    return item[0] is None, item[1]["agent"].casefold()


def per_agent(scope: Scope, *, rows: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    totals: dict[int | None, dict[str, Any]] = {}
    for row in calls_by_month_and_agent(scope) if rows is None else rows:
        found = totals.setdefault(row["agent_id"], {"agent": row["agent"], "calls": 0, "reached": 0, "bookings": 0,
                                                    "handoffs": 0, "handling": dt.timedelta(0), "timed": 0})
        for key in ("calls", "reached", "bookings", "handoffs", "timed"):
            found[key] += row[key]
        found["handling"] += row["handling"] or dt.timedelta(0)
    return [
        {"agent": row["agent"], "calls": row["calls"], "reach_rate": _rate(row["reached"], row["calls"]),
         "bookings": row["bookings"], "handoffs": row["handoffs"],
         "avg_handling_seconds": round(row["handling"].total_seconds() / row["timed"]) if row["timed"] else None}
        for _agent, row in sorted(totals.items(), key=by_name)
    ]


def holdout_comparison(scope: Scope, *, months: int = 15, repeat_years: int = 3) -> dict[str, Any]:
    a = service_return_rate(scope, months=months, holdout=False)
    b = service_return_rate(scope, months=months, holdout=True)
    diff = difference_interval((a["returned"], a["vehicles"]), (b["returned"], b["vehicles"])) if a["vehicles"] and b["vehicles"] else None
    ra = repeat_sale_rate(scope, years=repeat_years, holdout=False)
    rb = repeat_sale_rate(scope, years=repeat_years, holdout=True)
    return {
        "contacted": {**a, "ci95": _interval(a["returned"], a["vehicles"])},
        "holdout": {**b, "ci95": _interval(b["returned"], b["vehicles"])},
        "difference_ci95": None if diff is None else [round(diff[0], 4), round(diff[1], 4)],
        "repeat_contacted": {**ra, "ci95": _interval(ra["repeat"], ra["customers"])},
        "repeat_holdout": {**rb, "ci95": _interval(rb["repeat"], rb["customers"])},
    }


def _hot_leads(scope: Scope) -> QuerySet[Any]:
    leads = Handoff.objects.filter(dealership_id__in=scope.dealership_ids, kind=Handoff.Kind.HOT_LEAD,
                                   created_at__date__range=(scope.start, scope.end))
    sold = Sale.objects.filter(customer_id=OuterRef("customer_id"), sold_on__gte=OuterRef("created_at__date"))
    return leads.annotate(became_sale=Exists(sold))


LEAD_COUNTS = {"hot_leads": Count("id"), "became_sales": Count("id", filter=Q(became_sale=True))}


def handoffs_to_sales(scope: Scope) -> dict[str, Any]:
    counts = _hot_leads(scope).aggregate(**LEAD_COUNTS)
    return {"hot_leads": counts["hot_leads"], "became_sales": counts["became_sales"],
            "rate": _rate(counts["became_sales"], counts["hot_leads"])}


def all_figures(scope: Scope, *, repeat_years: int = 3, return_months: int = 15, active_months: int = 12,
                series: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every figure of the period. Given the period's ``monthly_series`` (computed with the same
    parameters), the figures that are its sums or its last month are taken from it instead of being
    counted again: the nightly job computes both, and this halves its heaviest queries."""
    if series is not None:
        visits = sum(series["forecast_visits"])
        dormant = {"customers_with_rhythm": series["customers_with_rhythm"][-1], "dormant": series["dormant"][-1],
                   "rate": series["dormant_rate"][-1]}
        forecast = {"visits": visits, "within_14_days": _rate(sum(series["forecast_on_time_14"]), visits),
                    "within_30_days": _rate(sum(series["forecast_on_time_30"]), visits)}
        agents = series["agent_totals"]
    return {
        "period": {"from": scope.start.isoformat(), "to": scope.end.isoformat()},
        "repeat_sale": repeat_sale_rate(scope, years=repeat_years),
        "service_return": service_return_rate(scope, months=return_months),
        "retention": retention(scope, active_months=active_months, series=series),
        "contacts": contact_figures(scope, series=series),
        "handoffs": handoffs_to_sales(scope),
        "pipeline": handoff_pipeline(scope),
        "dormant": dormant if series is not None else dormant_customers(scope),
        "forecast_accuracy": forecast if series is not None else forecast_accuracy(scope),
        "invitations": invitation_conversion(scope),
        "dead_by_silence": dead_contacts_by_silence(scope),
        "holdout": holdout_comparison(scope, months=return_months, repeat_years=repeat_years),
        "agents": agents if series is not None else per_agent(scope),
        "script_variants": script_variant_figures(scope, return_months=return_months, repeat_years=repeat_years),
        "touchpoints": touchpoint_conversion(scope, return_months=return_months, repeat_years=repeat_years),
    }
