"""What a template change would do to the next 90 days, before it is published (the template editor's preview).

Plans a sample of the dealership group's vehicles twice, with the templates as they are and with the
edited one, and counts touchpoints and calls per day and contacts per customer-year. In a dealer's terms:
per dealership, the extra calls a day, the peak day against the call centre's capacity (agents on shift
by default x calls per agent, from its contact rules) and the days over it, all scaled from the sample to
the dealership's whole base; and a few sample customers whose calls change. Nothing is written.

The counts are touchpoints due per day, before the contact rules merge, defer or drop them: an upper
bound of the calls the queue build would make.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import models
from django.db.models.functions import Mod

from contacts.core.plan_engine import PlannedTouchpoint, TemplateSpec
from contacts.models import ContactRules, TouchpointTemplate
from contacts.planning.computing import build_facts, plan_facts
from contacts.planning.facts import active_templates, template_spec
from customers.models import Dealership, Vehicle

PREVIEW_DAYS = 90
SAMPLE_VEHICLES = 1500
SAMPLE_CUSTOMERS = 5


@dataclass(frozen=True)
class DealershipLoad:
    """One dealership's calls a day in the next 90 days, scaled from the sample to its whole base."""

    dealership_id: int
    name: str
    capacity_per_day: int
    extra_calls_per_day: float
    peak_day_before: dt.date
    peak_calls_before: int
    peak_day_after: dt.date
    peak_calls_after: int
    days_over_capacity_before: int
    days_over_capacity_after: int


@dataclass(frozen=True)
class SampleCustomer:
    """A customer whose touchpoints of the edited template move, appear or go."""

    customer_id: int
    vehicle_id: int
    dates_before: list[dt.date]
    dates_after: list[dt.date]


@dataclass(frozen=True)
class PreviewSeries:
    days: list[str]
    touchpoints_before: list[int]
    touchpoints_after: list[int]
    calls_before: list[int]
    calls_after: list[int]
    contacts_per_customer_year_before: float
    contacts_per_customer_year_after: float
    backlog_today_before: int
    backlog_today_after: int
    vehicles: int
    customers: int
    dealerships: list[DealershipLoad] = field(default_factory=list)
    samples: list[SampleCustomer] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _scaled_calls(planned: list[PlannedTouchpoint], days: list[dt.date], dealership_of: dict[int, int],
                  scale: dict[int, float]) -> dict[int, list[int]]:
    wanted = set(days)
    counts: dict[int, Counter[dt.date]] = defaultdict(Counter)
    for tp in planned:
        if tp.channel == "call" and tp.due_on in wanted:
            counts[dealership_of[tp.vehicle_id]][tp.due_on] += 1
    return {
        dealership_id: [round(counts[dealership_id][day] * factor) for day in days]
        for dealership_id, factor in scale.items()
    }


def _load(dealership: Dealership, capacity: int, before: list[int], after: list[int], days: list[dt.date]) -> DealershipLoad:
    peak_before = max(range(len(days)), key=lambda i: (before[i], -i))
    peak_after = max(range(len(days)), key=lambda i: (after[i], -i))
    return DealershipLoad(
        dealership_id=dealership.id,
        name=dealership.name,
        capacity_per_day=capacity,
        extra_calls_per_day=round((sum(after) - sum(before)) / len(days), 1),
        peak_day_before=days[peak_before],
        peak_calls_before=before[peak_before],
        peak_day_after=days[peak_after],
        peak_calls_after=after[peak_after],
        days_over_capacity_before=sum(1 for n in before if n > capacity),
        days_over_capacity_after=sum(1 for n in after if n > capacity),
    )


def dealership_loads(
    *, before: list[PlannedTouchpoint], after: list[PlannedTouchpoint], vehicles: Sequence[Vehicle], days: list[dt.date]
) -> list[DealershipLoad]:
    dealership_of = {v.id: v.dealership_id for v in vehicles}
    sampled = Counter(dealership_of.values())
    dealerships = {d.id: d for d in Dealership.objects.filter(id__in=sampled)}
    totals = Counter(
        dict(
            Vehicle.objects.filter(is_active=True, owner__isnull=False, dealership_id__in=sampled)
            .values_list("dealership_id")
            .annotate(n=models.Count("id"))
            .values_list("dealership_id", "n")
        )
    )
    scale = {dealership_id: totals[dealership_id] / count for dealership_id, count in sampled.items()}
    calls_before = _scaled_calls(before, days, dealership_of, scale)
    calls_after = _scaled_calls(after, days, dealership_of, scale)
    rules = {r.dealership_id: r for r in ContactRules.objects.filter(dealership_id__in=sampled)}
    defaults = ContactRules()
    loads = []
    for dealership_id in sorted(sampled, key=lambda i: dealerships[i].name):
        rule = rules.get(dealership_id, defaults)
        capacity = rule.calls_per_agent * rule.default_agents_on_shift
        loads.append(_load(dealerships[dealership_id], capacity, calls_before[dealership_id], calls_after[dealership_id], days))
    return loads


def sample_customers(
    *, code: str, before: list[PlannedTouchpoint], after: list[PlannedTouchpoint], days: list[dt.date]
) -> list[SampleCustomer]:
    """Up to five customers whose touchpoints of this template in the next 90 days change."""
    first, last = days[0], days[-1]

    def dates(planned: list[PlannedTouchpoint]) -> dict[tuple[int, int], list[dt.date]]:
        found: dict[tuple[int, int], list[dt.date]] = defaultdict(list)
        for tp in planned:
            if tp.code == code and first <= tp.due_on <= last:
                found[(tp.customer_id, tp.vehicle_id)].append(tp.due_on)
        return found

    old, new = dates(before), dates(after)
    changed = sorted(key for key in {*old, *new} if sorted(old.get(key, [])) != sorted(new.get(key, [])))
    return [
        SampleCustomer(customer_id, vehicle_id, sorted(old.get((customer_id, vehicle_id), [])),
                       sorted(new.get((customer_id, vehicle_id), [])))
        for customer_id, vehicle_id in changed[:SAMPLE_CUSTOMERS]
    ]


def _counts(planned: list[PlannedTouchpoint], start: dt.date) -> tuple[Counter[dt.date], Counter[dt.date]]:
    end = start + dt.timedelta(days=PREVIEW_DAYS + 1)
    touchpoints: Counter[dt.date] = Counter()
    calls: Counter[dt.date] = Counter()
    for tp in planned:
        if start <= tp.due_on < end:
            touchpoints[tp.due_on] += 1
            if tp.channel == "call":
                calls[tp.due_on] += 1
    return touchpoints, calls


def preview_template_change(
    *, edited: TouchpointTemplate, today: dt.date, sample: int = SAMPLE_VEHICLES, dealership_ids: list[int] | None = None
) -> PreviewSeries:
    """Compare the next 90 days of plans with the current templates and with ``edited`` in their place
    (over the given dealerships' vehicles, else the whole group's)."""
    current = [spec for _row, spec in active_templates()]
    replaced: list[TemplateSpec] = [spec for spec in current if spec.code != edited.code]
    if edited.is_active:
        replaced.append(template_spec(edited))
    scope = Vehicle.objects.filter(is_active=True, owner__isnull=False)
    if dealership_ids is not None:
        scope = scope.filter(dealership_id__in=dealership_ids)
    # Every k-th vehicle by id, not the newest: the newest cars are all in their first year, whose
    # touchpoints would be over-counted when the sample is scaled to the whole base.
    step = max(1, math.ceil(scope.count() / sample))
    vehicles = list(
        scope.annotate(bucket=Mod("id", step)).filter(bucket=0).select_related("owner", "dealership")
        .order_by("-id")[:sample]
    )
    facts, _written = build_facts(
        vehicles=vehicles, today_by_dealership={v.dealership_id: today for v in vehicles}, store_forecasts=False
    )
    planned_before, planned_after = plan_facts(facts, current), plan_facts(facts, replaced)
    before_tp, before_calls = _counts(planned_before, today)
    after_tp, after_calls = _counts(planned_after, today)
    # From tomorrow: today holds the backlog of conditional touchpoints (keep-alive, lapsed, missed
    # maintenance) that fire at once, which would dwarf the daily rhythm; it is reported on its own.
    days = [today + dt.timedelta(days=offset) for offset in range(1, PREVIEW_DAYS + 1)]
    customers = len({f.customer_id for f in facts}) or 1
    per_year = 365 / PREVIEW_DAYS / customers
    return PreviewSeries(
        days=[d.isoformat() for d in days],
        touchpoints_before=[before_tp[d] for d in days],
        touchpoints_after=[after_tp[d] for d in days],
        calls_before=[before_calls[d] for d in days],
        calls_after=[after_calls[d] for d in days],
        contacts_per_customer_year_before=round(sum(before_tp.values()) * per_year, 2),
        contacts_per_customer_year_after=round(sum(after_tp.values()) * per_year, 2),
        backlog_today_before=before_tp[today],
        backlog_today_after=after_tp[today],
        vehicles=len(facts),
        customers=customers,
        dealerships=dealership_loads(before=planned_before, after=planned_after, vehicles=vehicles, days=days)
        if vehicles
        else [],
        samples=sample_customers(code=edited.code, before=planned_before, after=planned_after, days=days),
    )
