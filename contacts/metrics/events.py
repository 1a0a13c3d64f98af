"""The customer events the retention figures count (visits, purchases, reached calls), by month, in SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import F, QuerySet
from django.db.models.functions import TruncDate

from contacts.metrics.definitions import DAY, EARLIEST
from contacts.models import REACHED_OUTCOMES, CallAttempt
from customers.core.calendar import add_months
from customers.models import Sale, ServiceVisit

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
