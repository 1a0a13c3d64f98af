"""What a template change would do to the next 90 days, before it is saved (the template editor's preview).

Plans a sample of the dealership group's vehicles twice, with the templates as they are and with the
edited one, and counts touchpoints and calls per day and contacts per customer-year. Nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from contacts.core.plan_engine import PlannedTouchpoint, TemplateSpec
from contacts.models import TouchpointTemplate
from contacts.planning import active_templates, build_facts, plan_facts, template_spec
from customers.models import Vehicle

PREVIEW_DAYS = 90
SAMPLE_VEHICLES = 1500


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

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


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


def preview_template_change(*, edited: TouchpointTemplate, today: dt.date, sample: int = SAMPLE_VEHICLES) -> PreviewSeries:
    """Compare the next 90 days of plans with the current templates and with ``edited`` in their place."""
    current = [spec for _row, spec in active_templates()]
    replaced: list[TemplateSpec] = [spec for spec in current if spec.code != edited.code]
    if edited.is_active:
        replaced.append(template_spec(edited))
    vehicles = list(
        Vehicle.objects.filter(is_active=True, owner__isnull=False)
        .select_related("owner", "dealership")
        .order_by("-id")[:sample]
    )
    facts, _written = build_facts(
        vehicles=vehicles, today_by_dealership={v.dealership_id: today for v in vehicles}, store_forecasts=False
    )
    before_tp, before_calls = _counts(plan_facts(facts, current), today)
    after_tp, after_calls = _counts(plan_facts(facts, replaced), today)
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
    )
