"""The figures managers see, with their definitions (README "Figures"): the ORM computations, each over a set of dealerships and a period [start, end] (inclusive dates), then the
same figures month by month for the charts (``monthly_series``).

Everything is counted in the database: a query returns one row per month (or per bucket), never one
row per customer, so the nightly job stays linear in the data and light in memory. The one exception
is the dormant figure, whose "usual gap" is a running median: it streams visit days in order.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils.translation import gettext_lazy as _

from contacts.core.figures import (
    churn_rate,
    difference_interval,
    retention_rate,
    wilson_interval,
)
from contacts.models import REACHED_OUTCOMES, CallAttempt, Handoff, Touchpoint
from customers.core.calendar import add_months
from customers.models import Customer, Sale, ServiceVisit

# The pure formulas (CRR, churn, profit, the Wilson and Newcombe intervals) are in contacts.core.figures.


# ------------------------------------------------------------------------------------ definitions

DEFINITIONS = {
    "repeat_sale_rate": _("Of customers who bought a car in the period, the share who bought another car from the group within N years of that purchase."),
    "service_return_rate": _("Of vehicles sold in the period (and at least M months before today), the share with a scheduled-maintenance visit at the group within M months of the sale."),
    "retention_rate": _("CRR = (E − N) / S: S customers active at the start, E active at the end, N new in the period. Active: a visit, a purchase or a reached call in the last 12 months."),
    "churn_rate": _("Churn = (S + N − E) / S, with S, N, E as for CRR."),
    "reach_rate": _("Calls in the period in which the customer was spoken to, out of all calls."),
    "dead_contact_share": _("Customers whose phone is marked unreachable (three failed calls in a row), out of all customers."),
    "lapsed_share": _("Customers whose last purchase or service visit was more than 12 months before the end of the period, out of the customers who had bought or visited by then."),
    "forecast_accuracy": _("Maintenance visits in the period compared with the forecast that planned their call (the last forecast snapshot before the visit): the share within ±14 and ±30 days."),
    "invitation_conversion": _("Maintenance invitations in which the customer was reached, and the share that ended in a booking."),
    "dormant_share": _("Customers with at least two visits whose time since the last visit is more than three times their own usual (median) gap between visits."),
    "plan_adherence": _("Touchpoints due in the period that were done, out of those due (cancelled ones excluded)."),
    "profit_estimate": _("First-year CLM profit Π = X · (a · b · Y + a · c · Z): X customers, a live contacts 0.7, b service conversions 0.07, c repeat sales 0.02, Y margin per service, Z margin per car."),
}


@dataclass(frozen=True)
class Scope:
    dealership_ids: tuple[int, ...]
    start: dt.date
    end: dt.date
    # The day of the data ("today"): decides which sales cohorts are old enough to judge. Default: end.
    as_of: dt.date | None = None

    @property
    def data_day(self) -> dt.date:
        return self.as_of or self.end


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


DAY = dt.timedelta(days=1)
EARLIEST = dt.date(1900, 1, 1)


@dataclass(frozen=True)
class Month:
    """One bucket of a chart: a calendar month cut to the period (the first and last may be partial)."""

    label: str
    start: dt.date
    end: dt.date


def month_buckets(start: dt.date, end: dt.date) -> list[Month]:
    buckets, first = [], start.replace(day=1)
    while first <= end:
        following = add_months(first, 1)
        buckets.append(Month(first.strftime("%Y-%m"), max(first, start), min(following - DAY, end)))
        first = following
    return buckets


def _month_key(value: Any) -> str:
    # TruncMonth gives a date (or an aware datetime) through the ORM, a string through SQLite raw SQL.
    return str(value)[:7]


def _by_month(queryset: QuerySet[Any], field: str, **aggregates: Any) -> dict[str, dict[str, Any]]:
    """One query: the aggregates of each calendar month of ``field`` (UTC months for moments)."""
    rows = queryset.order_by().annotate(month=TruncMonth(field)).values("month").annotate(**aggregates).order_by()
    return {_month_key(row.pop("month")): row for row in rows}


def _column(by_month: dict[str, dict[str, Any]], months: Sequence[Month], name: str) -> list[int]:
    return [by_month.get(month.label, {}).get(name) or 0 for month in months]


# ------------------------------------------------------------------------------------ customer events
# "Active" and "lapsed" ask, for many days at once, which customers had an event (a purchase, a visit, a
# reached call) in a window before that day. The events of the scope are one UNION ALL; each question is
# then one query joining it to the list of windows, so the database does the counting.

Events = tuple[str, tuple[Any, ...]]


def _events(dealership_ids: tuple[int, ...], *, visits: bool = True, calls: bool = True) -> Events:
    parts: list[QuerySet[Any]] = [
        Sale.objects.filter(customer__dealership_id__in=dealership_ids).order_by()
        .annotate(who=F("customer_id"), day=F("sold_on")).values_list("who", "day"),
    ]
    if visits:
        parts.append(ServiceVisit.objects.filter(vehicle__owner__dealership_id__in=dealership_ids).order_by()
                     .annotate(who=F("vehicle__owner_id"), day=F("visited_on")).values_list("who", "day"))
    if calls:
        parts.append(CallAttempt.objects.filter(customer__dealership_id__in=dealership_ids, outcome__in=REACHED_OUTCOMES)
                     .order_by().annotate(who=F("customer_id"), day=TruncDate("ended_at")).values_list("who", "day"))
    union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    sql, params = union.query.sql_with_params()
    return sql, tuple(params)


def _customers_with_event_in(events: Events, windows: Sequence[tuple[dt.date, dt.date]]) -> list[int]:
    """For each window [since, until] (inclusive), the customers with at least one event in it.

    A customer is counted through their last event on or before ``until`` (the one whose next event,
    from LEAD, comes after it), so each customer matches a window at most once and the count needs no
    DISTINCT: on 100,000 vehicles this is several times faster than COUNT(DISTINCT) over the join."""
    if not windows:
        return []
    sql, params = events
    values = ", ".join(["(%s, %s, %s)"] * len(windows))
    query = (
        "SELECT w.column1, COUNT(*) FROM ("
        f"SELECT e.day, LEAD(e.day) OVER (PARTITION BY e.who ORDER BY e.day) AS next_day FROM ({sql}) e "
        "WHERE e.day >= %s AND e.day <= %s) e "
        f"INNER JOIN (VALUES {values}) w ON e.day >= w.column2 AND e.day <= w.column3 "
        "AND (e.next_day IS NULL OR e.next_day > w.column3) GROUP BY w.column1"
    )
    window_params = [value for index, (since, until) in enumerate(windows) for value in (index, since, until)]
    counts = [0] * len(windows)
    with connection.cursor() as cursor:
        # Events before the earliest window can match none, and dropping them changes no later event's
        # LEAD: the window function only sees the days that matter (half the rows over six years of data).
        bounds = [min(since for since, _until in windows), max(until for _since, until in windows)]
        cursor.execute(query, [*params, *bounds, *window_params])
        for index, count in cursor.fetchall():
            counts[int(index)] = int(count)
    return counts


def _customers_by_first_event(events: Events, ranges: Sequence[tuple[dt.date, dt.date]]) -> list[int]:
    """For each range [low, high], the customers whose first event falls in it."""
    if not ranges:
        return []
    sql, params = events
    cases = ", ".join(["SUM(CASE WHEN f.first_day >= %s AND f.first_day <= %s THEN 1 ELSE 0 END)"] * len(ranges))
    query = f"SELECT {cases} FROM (SELECT e.who, MIN(e.day) AS first_day FROM ({sql}) e GROUP BY e.who) f"
    with connection.cursor() as cursor:
        cursor.execute(query, [*(value for pair in ranges for value in pair), *params])
        row = cursor.fetchone()
    return [int(value or 0) for value in (row or ())] or [0] * len(ranges)


def _active_windows(days: Sequence[dt.date], months: int) -> list[tuple[dt.date, dt.date]]:
    return [(add_months(day, -months), day) for day in days]


def _lapsed_counts(dealership_ids: tuple[int, ...], days: Sequence[dt.date]) -> list[tuple[int, int]]:
    """(known, lapsed) on each day: customers with a purchase or visit by then, and those of them whose
    last purchase or visit was more than 12 months before."""
    events = _events(dealership_ids, calls=False)
    known = _customers_by_first_event(events, [(EARLIEST, day) for day in days])
    recent = _customers_with_event_in(events, [(add_months(day, -12) + DAY, day) for day in days])
    return [(k, k - r) for k, r in zip(known, recent, strict=True)]


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
    customers = Customer.objects.filter(dealership_id__in=scope.dealership_ids).aggregate(
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
        Customer.objects.filter(dealership_id__in=scope.dealership_ids).order_by()
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
    calls chart, the calls-per-agent chart and the agents table are all made from these rows."""
    rows = (
        _attempts(scope).order_by().annotate(month=TruncMonth("ended_at")).values("month", "agent__username")
        .annotate(**CALL_COUNTS, handoffs=Count("id", filter=Q(outcome="hot_lead")),
                  handling=Sum(F("ended_at") - F("started_at")), timed=Count("started_at"))
        .order_by()
    )
    return [{**row, "month": _month_key(row["month"]), "agent": row.pop("agent__username") or "—"} for row in rows]


def per_agent(scope: Scope, *, rows: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    totals: dict[str, dict[str, Any]] = {}
    for row in calls_by_month_and_agent(scope) if rows is None else rows:
        found = totals.setdefault(row["agent"], {"calls": 0, "reached": 0, "bookings": 0, "handoffs": 0,
                                                 "handling": dt.timedelta(0), "timed": 0})
        for key in ("calls", "reached", "bookings", "handoffs", "timed"):
            found[key] += row[key]
        found["handling"] += row["handling"] or dt.timedelta(0)
    return [
        {"agent": agent, "calls": row["calls"], "reach_rate": _rate(row["reached"], row["calls"]),
         "bookings": row["bookings"], "handoffs": row["handoffs"],
         "avg_handling_seconds": round(row["handling"].total_seconds() / row["timed"]) if row["timed"] else None}
        # the unnamed agent ("—", calls made by nobody still on the staff) last
        for agent, row in sorted(totals.items(), key=lambda item: (item[0] == "—", item[0]))
    ]


def _interval(part: int, whole: int) -> list[float] | None:
    found = wilson_interval(part, whole)
    return None if found is None else [round(found[0], 4), round(found[1], 4)]


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
        "dormant": dormant if series is not None else dormant_customers(scope),
        "forecast_accuracy": forecast if series is not None else forecast_accuracy(scope),
        "invitations": invitation_conversion(scope),
        "dead_by_silence": dead_contacts_by_silence(scope),
        "holdout": holdout_comparison(scope, months=return_months, repeat_years=repeat_years),
        "agents": agents if series is not None else per_agent(scope),
    }


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
