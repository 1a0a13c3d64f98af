"""The preview's figures from the resolved contacts before and after the edit: calls a day against
each dealership's capacity, the neighbours the edit merges with or pushes, sample customers; scaled
from the sample to the whole base."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence

from django.db import models

from contacts.core.plan_engine import PlannedTouchpoint
from contacts.models import ContactRules
from contacts.preview.resolving import Contacts
from contacts.preview.results import PREVIEW_DAYS, SAMPLE_CUSTOMERS, DealershipLoad, Neighbour, SampleCustomer
from customers.models import Dealership, Vehicle


def _per_day(contacts: dict[int, Contacts], days: list[dt.date], dealership_of: dict[int, int],
             scale: dict[int, float], *, messages: bool = False) -> dict[int, list[int]]:
    counts: dict[int, Counter[dt.date]] = defaultdict(Counter)
    for customer_id, found in contacts.items():
        tally = counts[dealership_of[customer_id]]
        for day in (found.messages if messages else [call.day for call in found.calls]):
            tally[day] += 1
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


def base_scales(vehicles: Sequence[Vehicle]) -> dict[int, float]:
    """Per dealership: its whole base over its sampled vehicles."""
    sampled = Counter(v.dealership_id for v in vehicles)
    totals = Counter(
        dict(
            Vehicle.objects.filter(is_active=True, owner__isnull=False, dealership_id__in=sampled)
            .values_list("dealership_id")
            .annotate(n=models.Count("id"))
            .values_list("dealership_id", "n")
        )
    )
    return {dealership_id: totals[dealership_id] / count for dealership_id, count in sampled.items()}


def dealership_loads(
    *, before: dict[int, Contacts], after: dict[int, Contacts], dealership_of: dict[int, int],
    scale: dict[int, float], days: list[dt.date],
) -> list[DealershipLoad]:
    dealerships = {d.id: d for d in Dealership.objects.filter(id__in=scale)}
    calls_before = _per_day(before, days, dealership_of, scale)
    calls_after = _per_day(after, days, dealership_of, scale)
    rules = {r.dealership_id: r for r in ContactRules.objects.filter(dealership_id__in=scale)}
    defaults = ContactRules()
    loads = []
    for dealership_id in sorted(scale, key=lambda i: dealerships[i].name):
        rule = rules.get(dealership_id, defaults)
        capacity = rule.calls_per_agent * rule.default_agents_on_shift
        loads.append(_load(dealerships[dealership_id], capacity, calls_before[dealership_id], calls_after[dealership_id], days))
    return loads


def neighbours(*, code: str, before: dict[int, Contacts], after: dict[int, Contacts], factor: float) -> list[Neighbour]:
    """The other templates the edited one shares calls with, or pushes later or out, after the edit."""
    merged: Counter[str] = Counter()
    later: Counter[str] = Counter()
    out: Counter[str] = Counter()
    for customer_id, now in after.items():
        for call in now.calls:
            if code in call.codes:
                merged.update({other for other in call.codes if other != code})
        was = before[customer_id]
        for key, day in was.contacted_on.items():
            if key[1] == code:
                continue
            new_day = now.contacted_on.get(key)
            if new_day is None:
                out[key[1]] += 1
            elif new_day > day:
                later[key[1]] += 1
    codes = sorted({*merged, *later, *out}, key=lambda c: (-(merged[c] + later[c] + out[c]), c))
    return [Neighbour(c, round(merged[c] * factor), round(later[c] * factor), round(out[c] * factor)) for c in codes]


def sample_customers(
    *, code: str, before: dict[int, Contacts], after: dict[int, Contacts], vehicle_of: dict[int, int]
) -> list[SampleCustomer]:
    """Up to five customers whose calls in the next 90 days change, those touched by this template first."""

    def days_of(found: Contacts) -> list[dt.date]:
        return sorted(day for key, day in found.contacted_on.items() if key[1] == code)

    changed = [cid for cid in sorted(after) if before[cid].calls != after[cid].calls or days_of(before[cid]) != days_of(after[cid])]
    changed.sort(key=lambda cid: (not (days_of(before[cid]) or days_of(after[cid])), cid))
    return [
        SampleCustomer(cid, vehicle_of.get(cid, 0), days_of(before[cid]), days_of(after[cid]),
                       sorted(before[cid].calls, key=lambda c: c.day), sorted(after[cid].calls, key=lambda c: c.day))
        for cid in changed[:SAMPLE_CUSTOMERS]
    ]


def touchpoints_per_day(planned: list[PlannedTouchpoint], start: dt.date) -> tuple[Counter[dt.date], Counter[dt.date]]:
    end = start + dt.timedelta(days=PREVIEW_DAYS + 1)
    touchpoints: Counter[dt.date] = Counter()
    calls: Counter[dt.date] = Counter()
    for tp in planned:
        if start <= tp.due_on < end:
            touchpoints[tp.due_on] += 1
            if tp.channel == "call":
                calls[tp.due_on] += 1
    return touchpoints, calls
