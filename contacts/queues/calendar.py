"""When a dealership's queue is built and under which rules: its local morning, its public holidays,
its working days and the day's capacity (agents on shift × calls per agent)."""

from __future__ import annotations

import datetime as dt
import functools
import logging

import holidays as holiday_calendars

from contacts.core import pressure
from contacts.models import (
    ContactRules,
    DailyCapacity,
    Department,
    QueueBuild,
)
from customers.models import Dealership

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=64)
def holiday_dates(country: str, region: str, year: int) -> frozenset[dt.date]:
    """Public holidays of a country (and region) for one year; empty for an unknown country."""
    try:
        calendar = holiday_calendars.country_holidays(country, subdiv=region or None, years=[year])
    except NotImplementedError:
        return frozenset()
    return frozenset(calendar.keys())


def resolver_rules(*, rules: ContactRules, dealership: Dealership, first: dt.date, last: dt.date) -> pressure.Rules:
    """The resolver's rules for a dealership, with the public holidays of the years first..last (±1)."""
    department_priority = dict(Department.objects.values_list("code", "priority"))
    department_priority.update(rules.department_priorities or {})
    years = range(first.year - 1, last.year + 2)
    return pressure.Rules(
        min_days_between_calls=rules.min_days_between_calls,
        min_days_between_messages=rules.min_days_between_messages,
        max_calls_per_30_days=rules.max_calls_per_30_days,
        max_calls_per_365_days=rules.max_calls_per_365_days,
        merge_window_days=rules.merge_window_days,
        department_priority=department_priority,
        working_weekdays=frozenset(int(c) - 1 for c in rules.working_weekdays),
        holidays=frozenset().union(*(holiday_dates(dealership.country, dealership.region, y) for y in years)),
    )


def capacity_for(*, dealership: Dealership, rules: ContactRules, day: dt.date) -> int:
    row = DailyCapacity.objects.filter(dealership=dealership, day=day).first()
    agents = row.agents_on_shift if row else rules.default_agents_on_shift
    return agents * rules.calls_per_agent


def dealerships_due(*, now: dt.datetime) -> list[tuple[Dealership, dt.date]]:
    """Dealerships whose local morning has come and whose queue for the local day is not built yet."""
    due = []
    built = set(QueueBuild.objects.filter(finished_at__isnull=False).values_list("dealership_id", "day"))
    for dealership in Dealership.objects.select_related("contact_rules"):
        local = now.astimezone(dealership.zone)
        rules = getattr(dealership, "contact_rules", None)
        hour = rules.queue_build_hour if rules else 7
        if local.hour >= hour and (dealership.id, local.date()) not in built:
            due.append((dealership, local.date()))
    return due
