"""Hypothesis strategies of the resolver's and the auditor's properties: random households, histories and
rules."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from datetime import date, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from contacts.core.pressure import (
    History,
    Item,
    PastCall,
    Resolution,
    Rules,
    resolve,
)
from tests.contacts.core.pressure.helpers import (
    TODAY,
)
from tests.strength import examples

DEPARTMENTS = (
    "service",
    "sales",
    "trade_in",
    "insurance",
    "manufacturer",
    "parts",
    "call_centre",
    "body_shop",
)


REASON = re.compile(
    r"placed|merged_into:c:\d+|beyond_horizon|unreachable|window_passed|do_not_contact:(call|sms|email)"
    r"|deferred:(merge|holiday|weekend|message_same_day_as_call|min_gap|cap_30|cap_365|message_gap)"
    r"|window_closed:(holiday|weekend|message_same_day_as_call|min_gap|cap_30|cap_365|message_gap)"
)


@dataclasses.dataclass(frozen=True)
class Case:
    items: list[Item]
    history: History
    rules: Rules
    blocked: frozenset[str]
    blocked_by_customer: dict[int, frozenset[str]]
    is_phone_reachable: bool

    def resolve(self, items: Sequence[Item] | None = None) -> Resolution:
        return resolve(
            self.items if items is None else items,
            history=self.history,
            blocked_channels=self.blocked,
            is_phone_reachable=self.is_phone_reachable,
            rules=self.rules,
            today=TODAY,
            blocked_channels_by_customer=self.blocked_by_customer,
        )

    def blocked_for(self, customer_id: int) -> frozenset[str]:
        return self.blocked | self.blocked_by_customer.get(customer_id, frozenset())


def offsets(low: int, high: int) -> st.SearchStrategy[date]:
    return st.integers(low, high).map(lambda offset: TODAY + timedelta(days=offset))


@st.composite
def cases(draw: st.DrawFn) -> Case:
    rules = Rules(
        min_days_between_calls=draw(st.integers(0, 10)),
        min_days_between_messages=draw(st.integers(0, 5)),
        max_calls_per_30_days=draw(st.integers(0, 4)),
        max_calls_per_365_days=draw(st.integers(0, 14)),
        merge_window_days=draw(st.integers(0, 14)),
        working_weekdays=draw(st.frozensets(st.integers(0, 6), min_size=1)),
        holidays=draw(st.frozensets(offsets(-30, 150), max_size=20)),
        no_message_on_call_day=draw(st.booleans()),
    )
    customers = draw(st.lists(st.integers(1, 3), min_size=1, max_size=2, unique=True))
    count = draw(st.integers(0, 16))
    ids = draw(st.lists(st.integers(1, 10_000), min_size=count, max_size=count, unique=True))
    items = []
    for touchpoint_id in ids:
        channel = draw(st.sampled_from(("call", "call", "call", "sms", "email")))
        start = draw(offsets(-20, 100))
        end = start + timedelta(days=draw(st.integers(0, 21)))
        due_on = start + timedelta(days=draw(st.integers(-3, (end - start).days + 3)))
        items.append(
            Item(
                touchpoint_id=touchpoint_id,
                customer_id=draw(st.sampled_from(customers)),
                vehicle_id=draw(st.integers(1, 3)),
                code="touchpoint",
                department=draw(st.sampled_from(DEPARTMENTS)),
                channel=channel,
                due_on=due_on,
                window_start=start,
                window_end=end,
                priority=draw(st.integers(0, 3)),
                is_requested=draw(st.integers(0, 7)) == 0,
            )
        )
    history = History(
        calls=tuple(
            PastCall(on, is_reached=draw(st.booleans()), is_requested=draw(st.integers(0, 5)) == 0)
            for on in draw(st.lists(offsets(-400, 60), max_size=14))
        ),
        message_dates=tuple(draw(st.lists(offsets(-30, 30), max_size=6))),
    )
    channels = st.frozensets(st.sampled_from(("call", "sms", "email")), max_size=2)
    blocked = draw(st.one_of(st.just(frozenset()), channels))
    blocked_by_customer = draw(st.dictionaries(st.sampled_from(customers), channels, max_size=1))
    return Case(items, history, rules, blocked, blocked_by_customer, draw(st.integers(0, 9)) > 0)


PROPERTY_SETTINGS = settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def counted_call_days(case: Case, resolution: Resolution) -> list[date]:
    return sorted(
        [past.on for past in case.history.calls if not past.is_requested]
        + [plan.scheduled_on for plan in resolution.calls if not plan.is_requested]
    )
