"""The preview's run of the queue build's own resolver over a sample's planned touchpoints: each
customer's calls and message days in the period, and the day each touchpoint is contacted on."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from contacts.core import pressure
from contacts.core.plan_engine import PlannedTouchpoint
from contacts.models import ContactRules, TouchpointTemplate
from contacts.preview.results import PlannedCall
from contacts.queues.calendar import resolver_rules
from contacts.queues.households import contact_history, customer_facts
from contacts.queues.resolving import resolve_household
from customers.models import Vehicle

Key = tuple[int, str, dt.date, int]  # a planned touchpoint's natural key (PlannedTouchpoint.key)


@dataclass
class Contacts:
    """One customer's resolved next days: calls, message days, and the day each touchpoint is contacted
    on (on a call or by a message; missing: not contacted in the period)."""

    calls: list[PlannedCall] = field(default_factory=list)
    messages: list[dt.date] = field(default_factory=list)
    contacted_on: dict[Key, dt.date] = field(default_factory=dict)


@dataclass(frozen=True)
class Resolver:
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

    def resolve(self, customer_id: int, planned: list[PlannedTouchpoint]) -> Contacts:
        rows = []
        keys: dict[int, Key] = {}
        for number, tp in enumerate(planned, 1):
            rows.append((number, customer_id, tp.vehicle_id or None, self.template_ids[tp.code], tp.due_on,
                         tp.window_start, tp.window_end, tp.reason, ""))
            keys[number] = tp.key
        found = Contacts()
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


def load_resolver(*, vehicles: Sequence[Vehicle], templates: list[TouchpointTemplate], today: dt.date, end: dt.date) -> Resolver:
    dealership_of = {v.owner_id: v.dealership_id for v in vehicles if v.owner_id is not None}
    dealerships = {v.dealership_id: v.dealership for v in vehicles}
    rules = {r.dealership_id: r for r in ContactRules.objects.filter(dealership_id__in=dealerships)}
    customer_ids = sorted(dealership_of)
    history_calls, history_messages = contact_history(customer_ids, day=today)
    template_ids = {t.code: number for number, t in enumerate(templates)}
    return Resolver(
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


def open_in_period(planned: list[PlannedTouchpoint], *, closed: set[Key], today: dt.date,
                    end: dt.date) -> dict[int, list[PlannedTouchpoint]]:
    """Per customer, the planned touchpoints the build would still resolve in the period: the window not
    over, opening by its end, and not already issued or done (those are in the contact history)."""
    by_customer: dict[int, list[PlannedTouchpoint]] = defaultdict(list)
    for tp in planned:
        if tp.window_end >= today and tp.window_start <= end and tp.key not in closed:
            by_customer[tp.customer_id].append(tp)
    return by_customer


def signature(planned: list[PlannedTouchpoint]) -> frozenset[tuple[Any, ...]]:
    return frozenset((tp.key, tp.due_on, tp.window_start, tp.window_end, tp.channel, tp.priority, tp.department)
                     for tp in planned)
