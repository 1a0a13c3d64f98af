"""What a template change would do to the next 90 days, before it is published (the template editor's preview).

Plans a sample of the dealership group's vehicles twice, with the templates as they are and with the
edited one, and runs both plans through the queue build's own resolver (contacts.queues.resolving
.resolve_household over contacts.core.pressure, with each dealership's rules and holidays and each
customer's real contact history, refusals and hold-out), so the figures are calls and messages as the
build would make them: merged, deferred past weekends and gaps, dropped by caps. In a dealer's terms:
per dealership, the extra calls a day, the peak day against the call centre's capacity (agents on shift
by default x calls per agent, from its contact rules) and the days over it, all scaled from the sample to
the dealership's whole base; contacts per customer-year; which other touchpoints the edited one merges
with or pushes later or out; and a few sample customers with their calls before and after. Nothing is
written.

Touchpoints already issued, done or cancelled are left out (their calls are in the contact history).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass

from django.db.models.functions import Mod

from contacts.core.plan_engine import PlannedTouchpoint, TemplateSpec
from contacts.models import Touchpoint, TouchpointTemplate
from contacts.planning.computing import build_facts, plan_facts
from contacts.planning.facts import active_templates, template_spec
from contacts.preview.figures import (
    base_scales,
    dealership_loads,
    neighbours,
    sample_customers,
    touchpoints_per_day,
)
from contacts.preview.resolving import Contacts, Key, Resolver, load_resolver, open_in_period, signature
from contacts.preview.results import (
    PREVIEW_DAYS,
    SAMPLE_CUSTOMERS,
    SAMPLE_VEHICLES,
    DealershipLoad,
    Neighbour,
    PlannedCall,
    PreviewSeries,
    SampleCustomer,
)
from customers.models import Vehicle


def _sample(*, sample: int, dealership_ids: list[int] | None) -> list[Vehicle]:
    scope = Vehicle.objects.filter(is_active=True, owner__isnull=False)
    if dealership_ids is not None:
        scope = scope.filter(dealership_id__in=dealership_ids)
    # Every k-th vehicle by id, not the newest: the newest cars are all in their first year, whose
    # touchpoints would be over-counted when the sample is scaled to the whole base.
    step = max(1, math.ceil(scope.count() / sample))
    return list(
        scope.annotate(bucket=Mod("id", step)).filter(bucket=0).select_related("owner", "dealership")
        .order_by("-id")[:sample]
    )


def preview_template_change(
    *, edited: TouchpointTemplate, today: dt.date, sample: int = SAMPLE_VEHICLES, dealership_ids: list[int] | None = None
) -> PreviewSeries:
    """Compare the next 90 days of calls and messages with the current templates and with ``edited`` in
    their place, as the queue build's resolver would make them (over the given dealerships' vehicles,
    else the whole group's)."""
    rows = [row for row, _spec in active_templates()]
    current = [template_spec(row) for row in rows]
    replaced: list[TemplateSpec] = [spec for spec in current if spec.code != edited.code]
    if edited.is_active:
        replaced.append(template_spec(edited))
    vehicles = _sample(sample=sample, dealership_ids=dealership_ids)
    facts, _written = build_facts(
        vehicles=vehicles, today_by_dealership={v.dealership_id: today for v in vehicles}, store_forecasts=False
    )
    planned = _Planned(vehicles=vehicles, vehicle_count=len(facts), before=plan_facts(facts, current),
                       after=plan_facts(facts, replaced))
    # From tomorrow: today holds the backlog of conditional touchpoints (keep-alive, lapsed, missed
    # maintenance) that fire at once, which would dwarf the daily rhythm; it is reported on its own.
    days = [today + dt.timedelta(days=offset) for offset in range(1, PREVIEW_DAYS + 1)]
    templates = [row for row in rows if row.code != edited.code] + [edited]
    resolver = load_resolver(vehicles=vehicles, templates=templates, today=today, end=days[-1])
    before, after = _resolve_both(resolver, planned, today=today, end=days[-1])
    return _series(code=edited.code, planned=planned, dealership_of=resolver.dealership_of, before=before, after=after,
                   today=today, days=days)


@dataclass(frozen=True)
class _Planned:
    """The sample's planned touchpoints with the current templates and with the edited one in its place."""

    vehicles: list[Vehicle]
    vehicle_count: int  # the sampled vehicles with facts to plan
    before: list[PlannedTouchpoint]
    after: list[PlannedTouchpoint]


def _closed(vehicles: list[Vehicle]) -> set[Key]:
    """The sample's touchpoints already issued or done: their calls are in the contact history."""
    return {
        (vehicle_id, code, cycle_start, occurrence)
        for vehicle_id, code, cycle_start, occurrence in Touchpoint.objects.filter(
            vehicle_id__in=[v.id for v in vehicles], status__in=[Touchpoint.Status.ISSUED, Touchpoint.Status.DONE]
        ).values_list("vehicle_id", "template__code", "cycle_start", "occurrence")
    }


def _resolve_both(resolver: Resolver, planned: _Planned, *, today: dt.date,
                  end: dt.date) -> tuple[dict[int, Contacts], dict[int, Contacts]]:
    """Each sampled customer's contacts in the period, before and after the edit."""
    closed = _closed(planned.vehicles)
    open_before = open_in_period(planned.before, closed=closed, today=today, end=end)
    open_after = open_in_period(planned.after, closed=closed, today=today, end=end)
    before: dict[int, Contacts] = {}
    after: dict[int, Contacts] = {}
    for customer_id in resolver.dealership_of:
        old, new = open_before.get(customer_id, []), open_after.get(customer_id, [])
        before[customer_id] = resolver.resolve(customer_id, old)
        # Only the customers the edit touches are resolved twice.
        after[customer_id] = before[customer_id] if signature(old) == signature(new) else resolver.resolve(customer_id, new)
    return before, after


def _series(*, code: str, planned: _Planned, dealership_of: dict[int, int], before: dict[int, Contacts],
            after: dict[int, Contacts], today: dt.date, days: list[dt.date]) -> PreviewSeries:
    vehicles = planned.vehicles
    before_tp, _ = touchpoints_per_day(planned.before, today)
    after_tp, _ = touchpoints_per_day(planned.after, today)
    customers = len(dealership_of) or 1
    per_year = 365 / PREVIEW_DAYS / customers

    def daily(contacts: dict[int, Contacts], *, messages: bool) -> list[int]:
        counter = Counter(day for found in contacts.values() for day in (found.messages if messages else [c.day for c in found.calls]))
        return [counter[day] for day in days]

    def contacts_a_year(contacts: dict[int, Contacts]) -> float:
        return round(sum(len(f.calls) + len(f.messages) for f in contacts.values()) * per_year, 2)

    scale = base_scales(vehicles) if vehicles else {}
    factor = (sum(scale[v.dealership_id] for v in vehicles) / len(vehicles)) if vehicles else 1.0
    return PreviewSeries(
        days=[d.isoformat() for d in days],
        touchpoints_before=[before_tp[d] for d in days],
        touchpoints_after=[after_tp[d] for d in days],
        calls_before=daily(before, messages=False),
        calls_after=daily(after, messages=False),
        messages_before=daily(before, messages=True),
        messages_after=daily(after, messages=True),
        contacts_per_customer_year_before=contacts_a_year(before),
        contacts_per_customer_year_after=contacts_a_year(after),
        backlog_today_before=sum(1 for f in before.values() for c in f.calls if c.day == today),
        backlog_today_after=sum(1 for f in after.values() for c in f.calls if c.day == today),
        vehicles=planned.vehicle_count,
        customers=customers,
        dealerships=dealership_loads(before=before, after=after, dealership_of=dealership_of, scale=scale, days=days)
        if vehicles
        else [],
        samples=sample_customers(code=code, before=before, after=after,
                                 vehicle_of={v.owner_id: v.id for v in vehicles if v.owner_id is not None}),
        neighbours=neighbours(code=code, before=before, after=after, factor=factor),
    )


__all__ = [
    "PREVIEW_DAYS", "SAMPLE_CUSTOMERS", "SAMPLE_VEHICLES", "DealershipLoad", "Neighbour", "PlannedCall", "PreviewSeries",
    "SampleCustomer", "preview_template_change",
]
