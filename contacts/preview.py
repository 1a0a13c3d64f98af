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
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import models
from django.db.models.functions import Mod

from contacts.core import pressure
from contacts.core.plan_engine import PlannedTouchpoint, TemplateSpec
from contacts.models import ContactRules, Touchpoint, TouchpointTemplate
from contacts.planning.computing import build_facts, plan_facts
from contacts.planning.facts import active_templates, template_spec
from contacts.queues.calendar import resolver_rules
from contacts.queues.households import contact_history, customer_facts
from contacts.queues.resolving import resolve_household
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
class PlannedCall:
    """A call the queue build would make: its day and its topics (template codes, in agenda order)."""

    day: dt.date
    codes: tuple[str, ...]


@dataclass(frozen=True)
class SampleCustomer:
    """A customer whose calls change: the days the edited template's touchpoints are contacted on, and
    all their calls in the next 90 days, before and after."""

    customer_id: int
    vehicle_id: int
    dates_before: list[dt.date]
    dates_after: list[dt.date]
    calls_before: list[PlannedCall] = field(default_factory=list)
    calls_after: list[PlannedCall] = field(default_factory=list)


@dataclass(frozen=True)
class Neighbour:
    """Another template's touchpoints as the edit touches them, scaled to the whole base: on one call
    with the edited template's, moved later by the contact rules, or no longer contacted at all."""

    code: str
    merged: int
    pushed_later: int
    pushed_out: int


@dataclass(frozen=True)
class PreviewSeries:
    days: list[str]
    touchpoints_before: list[int]
    touchpoints_after: list[int]
    calls_before: list[int]
    calls_after: list[int]
    messages_before: list[int]
    messages_after: list[int]
    contacts_per_customer_year_before: float
    contacts_per_customer_year_after: float
    backlog_today_before: int
    backlog_today_after: int
    vehicles: int
    customers: int
    dealerships: list[DealershipLoad] = field(default_factory=list)
    samples: list[SampleCustomer] = field(default_factory=list)
    neighbours: list[Neighbour] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Key = tuple[int, str, dt.date, int]  # a planned touchpoint's natural key (PlannedTouchpoint.key)


@dataclass
class _Contacts:
    """One customer's resolved next days: calls, message days, and the day each touchpoint is contacted
    on (on a call or by a message; missing: not contacted in the period)."""

    calls: list[PlannedCall] = field(default_factory=list)
    messages: list[dt.date] = field(default_factory=list)
    contacted_on: dict[Key, dt.date] = field(default_factory=dict)


@dataclass(frozen=True)
class _Resolver:
    """What the queue build's resolver reads, loaded once for the sample."""

    templates: dict[int, TouchpointTemplate]
    template_ids: dict[str, int]
    rules: dict[int, pressure.Rules]  # by dealership
    dealership_of: dict[int, int]  # customer -> dealership
    facts: dict[int, Any]  # customer -> contacts.queues.households.CustomerFacts
    history_calls: dict[int, list[pressure.PastCall]]
    history_messages: dict[int, list[dt.date]]
    today: dt.date
    end: dt.date

    def resolve(self, customer_id: int, planned: list[PlannedTouchpoint]) -> _Contacts:
        rows = []
        keys: dict[int, Key] = {}
        for number, tp in enumerate(planned, 1):
            rows.append((number, customer_id, tp.vehicle_id or None, self.template_ids[tp.code], tp.due_on,
                         tp.window_start, tp.window_end, tp.reason, ""))
            keys[number] = tp.key
        found = _Contacts()
        if not rows:
            return found
        members = {customer_id: self.facts[customer_id]} if customer_id in self.facts else {}
        resolution, _explanation = resolve_household(
            members=members, touchpoints=rows, templates=self.templates,
            history=pressure.History(calls=tuple(self.history_calls.get(customer_id, ())),
                                     message_dates=tuple(self.history_messages.get(customer_id, ()))),
            resolver=self.rules[self.dealership_of[customer_id]], day=self.today, verdicts={},
        )
        for call in resolution.calls:
            if call.scheduled_on <= self.end:
                found.calls.append(PlannedCall(call.scheduled_on, tuple(item.code for item in call.agenda)))
                for item in call.agenda:
                    found.contacted_on[keys[item.touchpoint_id]] = call.scheduled_on
        for message in resolution.messages:
            if message.send_on <= self.end:
                found.messages.append(message.send_on)
                found.contacted_on[keys[message.touchpoint_id]] = message.send_on
        return found


def _resolver(*, vehicles: Sequence[Vehicle], templates: list[TouchpointTemplate], today: dt.date, end: dt.date) -> _Resolver:
    dealership_of = {v.owner_id: v.dealership_id for v in vehicles if v.owner_id is not None}
    dealerships = {v.dealership_id: v.dealership for v in vehicles}
    rules = {r.dealership_id: r for r in ContactRules.objects.filter(dealership_id__in=dealerships)}
    customer_ids = sorted(dealership_of)
    history_calls, history_messages = contact_history(customer_ids, day=today)
    template_ids = {t.code: number for number, t in enumerate(templates)}
    return _Resolver(
        templates={number: t for number, t in enumerate(templates)},
        template_ids=template_ids,
        rules={
            dealership_id: resolver_rules(rules=rules.get(dealership_id) or ContactRules(dealership=dealership),
                                          dealership=dealership, first=today, last=end)
            for dealership_id, dealership in dealerships.items()
        },
        dealership_of=dealership_of,
        facts=customer_facts(customer_ids),
        history_calls=history_calls,
        history_messages=history_messages,
        today=today,
        end=end,
    )


def _open_in_period(planned: list[PlannedTouchpoint], *, closed: set[Key], today: dt.date,
                    end: dt.date) -> dict[int, list[PlannedTouchpoint]]:
    """Per customer, the planned touchpoints the build would still resolve in the period: the window not
    over, opening by its end, and not already issued or done (those are in the contact history)."""
    by_customer: dict[int, list[PlannedTouchpoint]] = defaultdict(list)
    for tp in planned:
        if tp.window_end >= today and tp.window_start <= end and tp.key not in closed:
            by_customer[tp.customer_id].append(tp)
    return by_customer


def _signature(planned: list[PlannedTouchpoint]) -> frozenset[tuple[Any, ...]]:
    return frozenset((tp.key, tp.due_on, tp.window_start, tp.window_end, tp.channel, tp.priority, tp.department)
                     for tp in planned)


def _per_day(contacts: dict[int, _Contacts], days: list[dt.date], dealership_of: dict[int, int],
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


def _scales(vehicles: Sequence[Vehicle]) -> dict[int, float]:
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
    *, before: dict[int, _Contacts], after: dict[int, _Contacts], dealership_of: dict[int, int],
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


def neighbours(*, code: str, before: dict[int, _Contacts], after: dict[int, _Contacts], factor: float) -> list[Neighbour]:
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
    *, code: str, before: dict[int, _Contacts], after: dict[int, _Contacts], vehicle_of: dict[int, int]
) -> list[SampleCustomer]:
    """Up to five customers whose calls in the next 90 days change, those touched by this template first."""

    def days_of(found: _Contacts) -> list[dt.date]:
        return sorted(day for key, day in found.contacted_on.items() if key[1] == code)

    changed = [cid for cid in sorted(after) if before[cid].calls != after[cid].calls or days_of(before[cid]) != days_of(after[cid])]
    changed.sort(key=lambda cid: (not (days_of(before[cid]) or days_of(after[cid])), cid))
    return [
        SampleCustomer(cid, vehicle_of.get(cid, 0), days_of(before[cid]), days_of(after[cid]),
                       sorted(before[cid].calls, key=lambda c: c.day), sorted(after[cid].calls, key=lambda c: c.day))
        for cid in changed[:SAMPLE_CUSTOMERS]
    ]


def _touchpoints_per_day(planned: list[PlannedTouchpoint], start: dt.date) -> tuple[Counter[dt.date], Counter[dt.date]]:
    end = start + dt.timedelta(days=PREVIEW_DAYS + 1)
    touchpoints: Counter[dt.date] = Counter()
    calls: Counter[dt.date] = Counter()
    for tp in planned:
        if start <= tp.due_on < end:
            touchpoints[tp.due_on] += 1
            if tp.channel == "call":
                calls[tp.due_on] += 1
    return touchpoints, calls


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
    planned_before, planned_after = plan_facts(facts, current), plan_facts(facts, replaced)
    # From tomorrow: today holds the backlog of conditional touchpoints (keep-alive, lapsed, missed
    # maintenance) that fire at once, which would dwarf the daily rhythm; it is reported on its own.
    days = [today + dt.timedelta(days=offset) for offset in range(1, PREVIEW_DAYS + 1)]
    end = days[-1]
    closed: set[Key] = {
        (vehicle_id, code, cycle_start, occurrence)
        for vehicle_id, code, cycle_start, occurrence in Touchpoint.objects.filter(
            vehicle_id__in=[v.id for v in vehicles], status__in=[Touchpoint.Status.ISSUED, Touchpoint.Status.DONE]
        ).values_list("vehicle_id", "template__code", "cycle_start", "occurrence")
    }
    templates = [row for row in rows if row.code != edited.code] + [edited]
    resolver = _resolver(vehicles=vehicles, templates=templates, today=today, end=end)
    open_before = _open_in_period(planned_before, closed=closed, today=today, end=end)
    open_after = _open_in_period(planned_after, closed=closed, today=today, end=end)
    before: dict[int, _Contacts] = {}
    after: dict[int, _Contacts] = {}
    for customer_id in resolver.dealership_of:
        old, new = open_before.get(customer_id, []), open_after.get(customer_id, [])
        before[customer_id] = resolver.resolve(customer_id, old)
        # Only the customers the edit touches are resolved twice.
        after[customer_id] = before[customer_id] if _signature(old) == _signature(new) else resolver.resolve(customer_id, new)
    before_tp, _ = _touchpoints_per_day(planned_before, today)
    after_tp, _ = _touchpoints_per_day(planned_after, today)
    customers = len(resolver.dealership_of) or 1
    per_year = 365 / PREVIEW_DAYS / customers

    def daily(contacts: dict[int, _Contacts], *, messages: bool) -> list[int]:
        counter = Counter(day for found in contacts.values() for day in (found.messages if messages else [c.day for c in found.calls]))
        return [counter[day] for day in days]

    def contacts_a_year(contacts: dict[int, _Contacts]) -> float:
        return round(sum(len(f.calls) + len(f.messages) for f in contacts.values()) * per_year, 2)

    scale = _scales(vehicles) if vehicles else {}
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
        vehicles=len(facts),
        customers=customers,
        dealerships=dealership_loads(before=before, after=after, dealership_of=resolver.dealership_of, scale=scale, days=days)
        if vehicles
        else [],
        samples=sample_customers(code=edited.code, before=before, after=after,
                                 vehicle_of={v.owner_id: v.id for v in vehicles if v.owner_id is not None}),
        neighbours=neighbours(code=edited.code, before=before, after=after, factor=factor),
    )
