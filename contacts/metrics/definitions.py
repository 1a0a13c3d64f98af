"""The figures' definitions as managers read them, the scope of a figure (dealerships, period, the
day of the data) and the calendar months of a chart."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.db.models.functions import TruncMonth
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from contacts.core.figures import wilson_interval
from customers.core.calendar import add_months

# The pure formulas (CRR, churn, profit, the Wilson and Newcombe intervals) are in contacts.core.figures.


# ------------------------------------------------------------------------------------ definitions

# Why CRR can pass 100 % and churn fall below zero (the page says so beside such a figure): E counts
# everyone active at the end, N only the first purchases, so customers back after a lapse, or first
# seen at a service visit, are in E but neither in S nor in N.
CRR_ABOVE_100 = _("Above 100 % means that more customers came back than stopped: E also counts those who were not active at the start and did not buy for the first time in the period, that is, customers back after more than 12 months and customers first seen at a service visit.")
CHURN_BELOW_ZERO = _("Below zero means the same: more customers came back than stopped (churn = 100 % − CRR).")
# The same, short, for the figure's tile and the chart.
CRR_ABOVE_100_SHORT = _("above 100 %: more customers came back than stopped being active")
CHURN_BELOW_ZERO_SHORT = _("below zero: more customers came back than stopped being active")

DEFINITIONS = {
    "repeat_sale_rate": _("Of customers who bought a car in the period, the share who bought another car from the group within N years of that purchase."),
    "service_return_rate": _("Of vehicles sold in the period (and at least M months before today), the share with a scheduled-maintenance visit at the group within M months of the sale."),
    "retention_rate": format_lazy("{} {}", _("CRR = (E − N) / S: S customers active at the start, E active at the end, N new in the period. Active: a visit, a purchase or a reached call in the last 12 months."), CRR_ABOVE_100),
    "churn_rate": format_lazy("{} {}", _("Churn = (S + N − E) / S, with S, N, E as for CRR."), CHURN_BELOW_ZERO),
    "reach_rate": _("Calls in the period in which the customer was spoken to, out of all calls."),
    "dead_contact_share": _("Customers whose phone is marked unreachable (three failed calls in a row), out of all customers."),
    "lapsed_share": _("Customers whose last purchase or service visit was more than 12 months before the end of the period, out of the customers who had bought or visited by then."),
    "forecast_accuracy": _("Maintenance visits in the period compared with the forecast that planned their call (the last forecast snapshot before the visit): the share within ±14 and ±30 days."),
    "invitation_conversion": _("Maintenance invitations in which the customer was reached, and the share that ended in a booking."),
    "dormant_share": _("Customers with at least two visits whose time since the last visit is more than three times their own usual (median) gap between visits."),
    "plan_adherence": _("Touchpoints due in the period that were done, out of those due (cancelled ones excluded)."),
    "script_variants": _("Calls finished in the period whose primary topic was read in a script variant, by variant: the share reached, booked a visit, handed on as a hot lead, with a maintenance visit of the car within M months and a purchase of another car within N years of the call. Each share has its 95 % Wilson interval; a variant's difference from variant A (the template's own script) is “not proven yet” until zero falls outside its 95 % Newcombe interval."),
    "touchpoint_conversion": _("Calls finished in the period per touchpoint on their agenda (a merged call counts for each): the same outcomes, out of the calls."),
    "handoff_conversion": _("Hand-offs to the departments created in the period, by department and by the customer's temperature when handed over (cold, warm, hot), counted by the department's outcome; conversion = (sold + visit confirmed) / hand-offs. Answered in time: the first outcome came before the SLA deadline (working hours per temperature, in the dealership's time)."),
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


def _interval(part: int, whole: int) -> list[float] | None:
    """The 95 % Wilson interval of part / whole, rounded as the figures are (None without a base)."""
    found = wilson_interval(part, whole)
    return None if found is None else [round(found[0], 4), round(found[1], 4)]


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
