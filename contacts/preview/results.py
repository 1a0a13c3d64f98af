"""What the template editor's preview shows: the figures of one template change (contacts.preview)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

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
