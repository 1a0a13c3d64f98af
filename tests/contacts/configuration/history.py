"""A finished call about one touchpoint, for the figures per template and per version."""

from __future__ import annotations

import datetime as dt

from contacts.models import CallTask, CallTaskItem, Touchpoint, TouchpointTemplate
from customers.models import Dealership
from tests import factories


def finished_call(dealership: Dealership, template: TouchpointTemplate, outcome: str, *, version: int = 1) -> CallTask:
    """A first-weeks-like call of 15.10.2026 about a car sold on 01.10.2026, finished with ``outcome``."""
    sale = factories.SaleFactory(vehicle__owner__dealership=dealership, sold_on=dt.date(2026, 10, 1))
    touchpoint = Touchpoint.objects.create(
        vehicle=sale.vehicle, customer=sale.customer, template=template, cycle_start=dt.date(2026, 10, 1),
        occurrence=1, due_on=dt.date(2026, 10, 15), window_start=dt.date(2026, 10, 15),
        window_end=dt.date(2026, 10, 29), reason="sale", status="done",
    )
    task = CallTask.objects.create(
        dealership=dealership, customer=sale.customer, scheduled_on=dt.date(2026, 10, 15),
        window_start=dt.date(2026, 10, 15), window_end=dt.date(2026, 10, 29), blocks_until=dt.date(2026, 10, 22),
        status="done", outcome=outcome, completed_at=dt.datetime(2026, 10, 15, 10, 0, tzinfo=dt.UTC),
        agenda=[{"code": template.code, "template_version": version}],
    )
    CallTaskItem.objects.create(call_task=task, touchpoint=touchpoint)
    return task
