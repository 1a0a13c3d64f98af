"""The daily queue build: open touchpoints + contact history + rules → today's call tasks and messages.

Runs once per dealership and local day (``QueueBuild`` marks it), in chunks of customers, each chunk
one transaction. For every household (customers sharing a phone) the pure resolver
(contacts.core.pressure) places the open touchpoints of the next weeks under the contact-pressure rules;
the calls it places on the build day become CallTasks with a rendered script, the messages it places
on the build day go to the outbox. Touchpoints it suppresses are marked with the reason; the rest stay
planned and are resolved again tomorrow with the new history, so a rerun, or a build killed half-way
and run again, gives the same tasks: a touchpoint already issued is history, not input.

The day's capacity (agents on shift × calls per agent) caps the new planned calls; the overflow stays
planned with the reason ``deferred:capacity`` and is placed on a later day, or, when its window
closes today, suppressed with ``window_closed:capacity``.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection, transaction
from django.utils import timezone

from contacts.models import (
    CallTask,
    CallTaskItem,
    ContactRules,
    QueueBuild,
    Touchpoint,
    TouchpointTemplate,
)
from contacts.queues.calendar import resolver_rules
from contacts.queues.households import households_with_open_touchpoints
from contacts.queues.issuing import issue_calls
from contacts.queues.resolving import BuildCounts, Candidate, resolve_chunk
from customers.models import Dealership

logger = logging.getLogger(__name__)


# Customers per transaction: a chunk holds their touchpoints, tasks and history in memory.
CUSTOMER_CHUNK = 2000


def build_queue(*, dealership: Dealership, day: dt.date, now: dt.datetime | None = None) -> BuildCounts:
    """Build one dealership's queue for one local day. Idempotent; safe to run twice at once.

    Two steps. First every household is resolved, chunk by chunk: verdicts (suppressed, deferred) and
    today's messages are written, and today's calls are collected as candidates, not yet written.
    Then the day's capacity picks the candidates by priority and deadline, and only those become call
    tasks with a rendered script: on a first build the resolver places a hundred times more calls on
    the day than agents can make, and writing them all to delete most of them again was most of the time.
    """
    frozen_now = now or timezone.now()
    build, _created = QueueBuild.objects.get_or_create(dealership=dealership, day=day)
    if build.finished_at is not None:
        return BuildCounts(**{k: v for k, v in build.counts.items() if k in BuildCounts.__dataclass_fields__})
    rules = ContactRules.for_dealership(dealership)
    resolver = resolver_rules(rules=rules, dealership=dealership, first=day, last=day)
    counts = BuildCounts()
    counts.carried_over = CallTask.objects.filter(
        dealership=dealership, scheduled_on__lt=day, status__in=[CallTask.Status.OPEN, CallTask.Status.CLAIMED]
    ).count()
    expire_past_tasks(dealership=dealership, day=day)
    templates = {t.id: t for t in TouchpointTemplate.objects.select_related("department")}
    households = households_with_open_touchpoints(dealership=dealership, day=day)
    candidates: list[Candidate] = []
    for start in range(0, len(households), CUSTOMER_CHUNK):
        candidates += resolve_chunk(
            dealership=dealership,
            households=households[start : start + CUSTOMER_CHUNK],
            templates=templates,
            resolver=resolver,
            day=day,
            counts=counts,
            now=frozen_now,
        )
    counts.customers = sum(len(group.members) for group in households)
    counts.over_capacity = issue_calls(
        dealership=dealership, build=build, rules=rules, day=day, candidates=candidates, counts=counts,
        now=frozen_now,
    )
    QueueBuild.objects.filter(pk=build.pk).update(finished_at=frozen_now, counts=counts.as_dict())
    refresh_call_task_statistics()
    logger.info("build_queue %s %s: %s", dealership.code, day, counts.as_dict())
    return counts


def refresh_call_task_statistics() -> None:
    """ANALYZE the call tasks once the day's are written. With statistics from before the build the
    planner expects a handful of open calls, answers "next call" from the day's index and sorts every
    open call, ~50 ms at 20,000 of them; fresh, it walks the claim-order index and stops at the first."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE contacts_calltask")


def expire_past_tasks(*, dealership: Dealership, day: dt.date) -> None:
    """Unfinished tasks whose window closed before today are cancelled (``expired``). Their touchpoints
    whose own window is still open go back to the plan, off the dead call (its agenda keeps the record),
    to be placed again; the others are closed with ``window_closed:not_called``."""
    expired = list(
        CallTask.objects.filter(dealership=dealership, status=CallTask.Status.OPEN, window_end__lt=day).values_list(
            "id", flat=True
        )
    )
    if not expired:
        return
    with transaction.atomic():
        CallTask.objects.filter(id__in=expired, status=CallTask.Status.OPEN).update(
            status=CallTask.Status.CANCELLED, outcome="expired"
        )
        issued = Touchpoint.objects.filter(call_item__call_task_id__in=expired, status=Touchpoint.Status.ISSUED)
        still_open = list(issued.filter(window_end__gte=day).values_list("id", flat=True))
        CallTaskItem.objects.filter(touchpoint_id__in=still_open).delete()
        Touchpoint.objects.filter(id__in=still_open, status=Touchpoint.Status.ISSUED).update(
            status=Touchpoint.Status.PLANNED, resolution="reopened:call_expired"
        )
        issued.update(status=Touchpoint.Status.SUPPRESSED, resolution="window_closed:not_called")
