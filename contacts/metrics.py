"""The figures managers see, with their definitions (README "Figures"). Pure formulas first, then the
ORM computations, each over a set of dealerships and a period [start, end] (inclusive dates).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from contacts.models import REACHED_OUTCOMES, CallAttempt, Handoff, Touchpoint
from customers.mileage import add_months
from customers.models import Customer, Sale, ServiceVisit

# ------------------------------------------------------------------------------------ pure formulas


def retention_rate(*, start_count: int, new_count: int, end_count: int) -> float | None:
    """CRR = (E − N) / S."""
    return None if start_count == 0 else (end_count - new_count) / start_count


def churn_rate(*, start_count: int, new_count: int, end_count: int) -> float | None:
    """Churn = (S + N − E) / S."""
    return None if start_count == 0 else (start_count + new_count - end_count) / start_count


def profit_estimate(*, customers: float, margin_service: float, margin_car: float,
                    live: float = 0.7, service_conversion: float = 0.07, repeat_conversion: float = 0.02) -> float:
    """First-year CLM profit Π = X · (a · b · Y + a · c · Z)."""
    return customers * (live * service_conversion * margin_service + live * repeat_conversion * margin_car)


def wilson_interval(successes: int, total: int, z: float = 1.959964) -> tuple[float, float] | None:
    """95 % Wilson score interval of a proportion."""
    if total == 0:
        return None
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def difference_interval(a: tuple[int, int], b: tuple[int, int]) -> tuple[float, float] | None:
    """Newcombe's hybrid score interval for p_a − p_b from the two Wilson intervals."""
    wa, wb = wilson_interval(*a), wilson_interval(*b)
    if wa is None or wb is None:
        return None
    pa, pb = a[0] / a[1], b[0] / b[1]
    low = (pa - pb) - math.sqrt((pa - wa[0]) ** 2 + (wb[1] - pb) ** 2)
    high = (pa - pb) + math.sqrt((wa[1] - pa) ** 2 + (pb - wb[0]) ** 2)
    return low, high


# ------------------------------------------------------------------------------------ definitions

DEFINITIONS = {
    "repeat_sale_rate": _("Of customers who bought a car in the period, the share who bought another car from the group within N years of that purchase."),
    "service_return_rate": _("Of vehicles sold in the period (and at least M months before today), the share with a scheduled-maintenance visit at the group within M months of the sale."),
    "retention_rate": _("CRR = (E − N) / S: S customers active at the start, E active at the end, N new in the period. Active: a visit, a purchase or a reached call in the last 12 months."),
    "churn_rate": _("Churn = (S + N − E) / S, with S, N, E as for CRR."),
    "reach_rate": _("Calls in the period in which the customer was spoken to, out of all calls."),
    "dead_contact_share": _("Customers whose phone is marked unreachable (three failed calls in a row), out of all customers."),
    "lapsed_share": _("Customers with a vehicle and no service visit for more than 12 months before the end of the period."),
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


def repeat_sale_rate(scope: Scope, *, years: int = 3, customers: Iterable[int] | None = None) -> dict[str, Any]:
    cohort = Sale.objects.filter(dealership_id__in=scope.dealership_ids, sold_on__range=(scope.start, scope.end))
    if customers is not None:
        cohort = cohort.filter(customer_id__in=list(customers))
    again = Sale.objects.filter(
        customer_id=OuterRef("customer_id"),
        sold_on__gt=OuterRef("sold_on"),
        sold_on__lte=OuterRef("sold_on") + dt.timedelta(days=round(365.25 * years)),
    ).exclude(vehicle_id=OuterRef("vehicle_id"))
    rows = cohort.annotate(bought_again=Exists(again)).values("customer_id").annotate(
        again=Count("id", filter=Q(bought_again=True))
    )
    buyers = len(rows)
    repeat = sum(1 for row in rows if row["again"])
    return {"customers": buyers, "repeat": repeat, "rate": _rate(repeat, buyers)}


def service_return_rate(scope: Scope, *, months: int = 15, customers: Iterable[int] | None = None) -> dict[str, Any]:
    # Only cars that had the whole M months to return by the day of the data (mature cohorts): a car
    # sold last month has not failed to return yet.
    matured_by = add_months(scope.data_day, -months)
    sold = Sale.objects.filter(
        dealership_id__in=scope.dealership_ids, sold_on__range=(scope.start, min(scope.end, matured_by))
    )
    if customers is not None:
        sold = sold.filter(customer_id__in=list(customers))
    visit = ServiceVisit.objects.filter(
        vehicle_id=OuterRef("vehicle_id"),
        kind=ServiceVisit.Kind.MAINTENANCE,
        visited_on__gt=OuterRef("sold_on"),
        visited_on__lte=OuterRef("sold_on") + dt.timedelta(days=round(30.4375 * months)),
    )
    counts = sold.aggregate(vehicles=Count("vehicle_id", distinct=True),
                            returned=Count("vehicle_id", distinct=True, filter=Q(Exists(visit))))
    return {"vehicles": counts["vehicles"], "returned": counts["returned"], "rate": _rate(counts["returned"], counts["vehicles"])}


def active_customers(dealership_ids: tuple[int, ...], on: dt.date, *, months: int = 12) -> int:
    since = add_months(on, -months)
    return Customer.objects.filter(dealership_id__in=dealership_ids).filter(
        Exists(Sale.objects.filter(customer_id=OuterRef("pk"), sold_on__range=(since, on)))
        | Exists(ServiceVisit.objects.filter(vehicle__owner_id=OuterRef("pk"), visited_on__range=(since, on)))
        | Exists(CallAttempt.objects.filter(customer_id=OuterRef("pk"), outcome__in=REACHED_OUTCOMES,
                                            ended_at__date__range=(since, on)))
    ).count()


def retention(scope: Scope, *, active_months: int = 12) -> dict[str, Any]:
    start_count = active_customers(scope.dealership_ids, scope.start - dt.timedelta(days=1), months=active_months)
    end_count = active_customers(scope.dealership_ids, scope.end, months=active_months)
    first_sale = Sale.objects.filter(customer_id=OuterRef("pk"), sold_on__lt=scope.start)
    new_count = Customer.objects.filter(dealership_id__in=scope.dealership_ids).filter(
        Exists(Sale.objects.filter(customer_id=OuterRef("pk"), sold_on__range=(scope.start, scope.end))), ~Exists(first_sale)
    ).count()
    crr = retention_rate(start_count=start_count, new_count=new_count, end_count=end_count)
    churn = churn_rate(start_count=start_count, new_count=new_count, end_count=end_count)
    return {"start": start_count, "new": new_count, "end": end_count,
            "crr": None if crr is None else round(crr, 4), "churn": None if churn is None else round(churn, 4)}


def contact_figures(scope: Scope) -> dict[str, Any]:
    attempts = CallAttempt.objects.filter(call_task__dealership_id__in=scope.dealership_ids,
                                          ended_at__date__range=(scope.start, scope.end))
    counts = attempts.aggregate(total=Count("id"), reached=Count("id", filter=Q(outcome__in=REACHED_OUTCOMES)),
                                booked=Count("id", filter=Q(outcome="booked")))
    customers = Customer.objects.filter(dealership_id__in=scope.dealership_ids)
    total_customers = customers.count()
    dead = customers.filter(phone_unreachable_since__isnull=False).count()
    lapse_since = add_months(scope.end, -12)
    lapsed = customers.filter(vehicles__isnull=False).exclude(
        Exists(ServiceVisit.objects.filter(vehicle__owner_id=OuterRef("pk"), visited_on__gt=lapse_since))
    ).distinct().count()
    due = Touchpoint.objects.filter(customer__dealership_id__in=scope.dealership_ids, window_end__range=(scope.start, scope.end)).exclude(status=Touchpoint.Status.CANCELLED)
    adherence = due.aggregate(due=Count("id"), done=Count("id", filter=Q(status=Touchpoint.Status.DONE)))
    elsewhere = list(attempts.filter(outcome="serviced_elsewhere").values("detail__reason").annotate(n=Count("id")).order_by("-n"))
    return {
        "calls": counts["total"], "reached": counts["reached"], "reach_rate": _rate(counts["reached"], counts["total"]),
        "bookings": counts["booked"],
        "customers": total_customers, "dead_contacts": dead, "dead_contact_share": _rate(dead, total_customers),
        "lapsed": lapsed, "lapsed_share": _rate(lapsed, total_customers),
        "touchpoints_due": adherence["due"], "touchpoints_done": adherence["done"],
        "plan_adherence": _rate(adherence["done"], adherence["due"]),
        "serviced_elsewhere": [{"reason": row["detail__reason"] or "—", "count": row["n"]} for row in elsewhere],
    }


def dormant_customers(scope: Scope) -> dict[str, Any]:
    """Customers who missed their own visit rhythm more than twice: with at least two visits, the time
    since their last visit (to the end of the period) exceeds three times their median gap."""
    visits: dict[int, list[dt.date]] = {}
    for customer_id, day in (
        ServiceVisit.objects.filter(vehicle__owner__dealership_id__in=scope.dealership_ids, visited_on__lte=scope.end)
        .values_list("vehicle__owner_id", "visited_on")
        .order_by("vehicle__owner_id", "visited_on")
    ):
        visits.setdefault(customer_id, []).append(day)
    with_rhythm = dormant = 0
    for days in visits.values():
        gaps = [(b - a).days for a, b in zip(days, days[1:], strict=False) if (b - a).days > 0]
        if not gaps:
            continue
        with_rhythm += 1
        gaps.sort()
        if (scope.end - days[-1]).days > 3 * gaps[len(gaps) // 2]:
            dormant += 1
    return {"customers_with_rhythm": with_rhythm, "dormant": dormant, "rate": _rate(dormant, with_rhythm)}


def dead_contacts_by_silence(scope: Scope) -> list[dict[str, Any]]:
    """Unreachable phones by whole years since the customer was last reached (or bought, if never)."""
    last_reached: dict[int, dt.date] = {}
    for customer_id, ended_at in CallAttempt.objects.filter(
        customer__dealership_id__in=scope.dealership_ids, outcome__in=REACHED_OUTCOMES
    ).values_list("customer_id", "ended_at"):
        day = ended_at.date()
        if day > last_reached.get(customer_id, dt.date.min):
            last_reached[customer_id] = day
    for customer_id, day in Sale.objects.filter(dealership_id__in=scope.dealership_ids).values_list("customer_id", "sold_on"):
        last_reached.setdefault(customer_id, day)
    totals: dict[int, list[int]] = {}
    for customer_id, unreachable in Customer.objects.filter(dealership_id__in=scope.dealership_ids).values_list(
        "id", "phone_unreachable_since"
    ):
        since = last_reached.get(customer_id)
        years = min(5, (scope.end - since).days // 365) if since else 5
        bucket = totals.setdefault(years, [0, 0])
        bucket[0] += 1
        bucket[1] += unreachable is not None
    return [{"years_since_reached": years, "customers": n, "dead": dead, "share": _rate(dead, n)}
            for years, (n, dead) in sorted(totals.items())]


def forecast_accuracy(scope: Scope) -> dict[str, Any]:
    """Maintenance visits in the period against the forecast that planned their call: the latest
    ForecastSnapshot of the vehicle taken before the visit."""
    from customers.models import ForecastSnapshot

    visits = list(
        ServiceVisit.objects.filter(dealership_id__in=scope.dealership_ids, kind=ServiceVisit.Kind.MAINTENANCE,
                                    visited_on__range=(scope.start, scope.end)).values_list("vehicle_id", "visited_on")
    )
    snapshots: dict[int, list[tuple[dt.date, dt.date]]] = {}
    for vehicle_id, taken_on, due_on in ForecastSnapshot.objects.filter(
        vehicle_id__in={v for v, _d in visits}
    ).values_list("vehicle_id", "taken_on", "next_due_on").order_by("taken_on"):
        snapshots.setdefault(vehicle_id, []).append((taken_on, due_on))
    errors = []
    for vehicle_id, visited_on in visits:
        known = [due for taken, due in snapshots.get(vehicle_id, []) if taken < visited_on]
        if known:
            errors.append(abs((visited_on - known[-1]).days))
    within = lambda days: _rate(sum(1 for e in errors if e <= days), len(errors))  # noqa: E731
    return {"visits": len(errors), "within_14_days": within(14), "within_30_days": within(30)}


def invitation_conversion(scope: Scope) -> dict[str, Any]:
    """Maintenance invitations reached in the period, and those that ended in a booking."""
    reached = CallAttempt.objects.filter(
        call_task__dealership_id__in=scope.dealership_ids, ended_at__date__range=(scope.start, scope.end),
        outcome__in=REACHED_OUTCOMES, call_task__items__touchpoint__template__code="service_invite",
    ).distinct()
    total, booked = reached.count(), reached.filter(outcome="booked").count()
    return {"invitations_reached": total, "booked": booked, "rate": _rate(booked, total)}


def per_agent(scope: Scope) -> list[dict[str, Any]]:
    rows = (
        CallAttempt.objects.filter(call_task__dealership_id__in=scope.dealership_ids, ended_at__date__range=(scope.start, scope.end))
        .values("agent__username")
        .annotate(
            calls=Count("id"), reached=Count("id", filter=Q(outcome__in=REACHED_OUTCOMES)),
            bookings=Count("id", filter=Q(outcome="booked")), handoffs=Count("id", filter=Q(outcome="hot_lead")),
            handling=Avg(F("ended_at") - F("started_at")),
        )
        .order_by("agent__username")
    )
    return [
        {"agent": row["agent__username"] or "—", "calls": row["calls"], "reach_rate": _rate(row["reached"], row["calls"]),
         "bookings": row["bookings"], "handoffs": row["handoffs"],
         "avg_handling_seconds": round(row["handling"].total_seconds()) if row["handling"] else None}
        for row in rows
    ]


def holdout_comparison(scope: Scope, *, months: int = 15) -> dict[str, Any]:
    customers = Customer.objects.filter(dealership_id__in=scope.dealership_ids)
    held = list(customers.filter(is_holdout=True).values_list("id", flat=True))
    contacted = list(customers.filter(is_holdout=False).values_list("id", flat=True))
    a = service_return_rate(scope, months=months, customers=contacted)
    b = service_return_rate(scope, months=months, customers=held)
    def interval(part: int, whole: int) -> list[float] | None:
        found = wilson_interval(part, whole)
        return None if found is None else [round(found[0], 4), round(found[1], 4)]
    diff = difference_interval((a["returned"], a["vehicles"]), (b["returned"], b["vehicles"])) if a["vehicles"] and b["vehicles"] else None
    ra = repeat_sale_rate(scope, customers=contacted)
    rb = repeat_sale_rate(scope, customers=held)
    return {
        "contacted": {**a, "ci95": interval(a["returned"], a["vehicles"])},
        "holdout": {**b, "ci95": interval(b["returned"], b["vehicles"])},
        "difference_ci95": None if diff is None else [round(diff[0], 4), round(diff[1], 4)],
        "repeat_contacted": {**ra, "ci95": interval(ra["repeat"], ra["customers"])},
        "repeat_holdout": {**rb, "ci95": interval(rb["repeat"], rb["customers"])},
    }


def handoffs_to_sales(scope: Scope) -> dict[str, Any]:
    leads = Handoff.objects.filter(dealership_id__in=scope.dealership_ids, kind=Handoff.Kind.HOT_LEAD,
                                   created_at__date__range=(scope.start, scope.end))
    sold = leads.filter(Exists(Sale.objects.filter(customer_id=OuterRef("customer_id"), sold_on__gte=OuterRef("created_at__date"))))
    total, converted = leads.count(), sold.count()
    return {"hot_leads": total, "became_sales": converted, "rate": _rate(converted, total)}


def all_figures(scope: Scope, *, repeat_years: int = 3, return_months: int = 15, active_months: int = 12) -> dict[str, Any]:
    return {
        "period": {"from": scope.start.isoformat(), "to": scope.end.isoformat()},
        "repeat_sale": repeat_sale_rate(scope, years=repeat_years),
        "service_return": service_return_rate(scope, months=return_months),
        "retention": retention(scope, active_months=active_months),
        "contacts": contact_figures(scope),
        "handoffs": handoffs_to_sales(scope),
        "dormant": dormant_customers(scope),
        "forecast_accuracy": forecast_accuracy(scope),
        "invitations": invitation_conversion(scope),
        "dead_by_silence": dead_contacts_by_silence(scope),
        "holdout": holdout_comparison(scope, months=return_months),
        "agents": per_agent(scope),
    }


def monthly_series(dealership_ids: tuple[int, ...], end: dt.date, *, months: int = 12, repeat_years: int = 3, return_months: int = 15) -> dict[str, list[Any]]:
    """Service-return and repeat-sale rates of each monthly sales cohort, for the charts."""
    labels, service, repeat = [], [], []
    first_of_month = end.replace(day=1)
    for back in range(months - 1, -1, -1):
        start = add_months(first_of_month, -back - return_months)  # cohorts old enough to have returned
        stop = add_months(start, 1) - dt.timedelta(days=1)
        scope = Scope(dealership_ids, start, stop, as_of=end)
        labels.append(start.strftime("%Y-%m"))
        service.append(service_return_rate(scope, months=return_months)["rate"])
        repeat.append(repeat_sale_rate(scope, years=repeat_years)["rate"])
    return {"labels": labels, "service_return": service, "repeat_sale": repeat}
