"""The daily queue build: open touchpoints + contact history + rules → today's call tasks and messages.

Runs once per dealership and local day (``QueueBuild`` marks it), in three steps that any worker may
run, each its own transactions:

1. ``start_build`` expires yesterday's unfinished calls, groups the customers into households and
   records them as chunks (``SweepChunk`` rows of the build, a range of households each).
2. ``resolve_build_chunk`` (one task per chunk, on any worker): for every household of the chunk
   (customers sharing a phone) the pure resolver (contacts.core.pressure) places the open touchpoints
   of the next weeks under the contact-pressure rules. Touchpoints it suppresses are marked with the
   reason, the messages it places on the build day go to the outbox, and the calls it places on the
   build day are stored with the chunk as candidates, not yet written.
3. ``finish_build`` (once per dealership, when every chunk is resolved): the day's capacity (agents on
   shift × calls per agent) picks the candidates by priority and deadline, and only those become call
   tasks with a rendered script; the overflow stays planned with the reason ``deferred:capacity`` and
   is placed on a later day, or, when its window closes today, is suppressed (``window_closed:capacity``).
   It reads the chunks' candidates one chunk at a time: memory holds a chunk and the day's capacity.

Everything the resolver did not place today stays planned and is resolved again tomorrow with the new
history, so a rerun, or a build killed half-way and run again, gives the same tasks: a touchpoint
already issued is history, not input. A chunk lost with its worker is queued again by
contacts.recovery like a re-plan chunk; a build whose chunks are all resolved but never finished is
queued again by the build sweep, and then only its last step runs.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from contacts.models import (
    CallTask,
    CallTaskItem,
    ContactRules,
    QueueBuild,
    SweepChunk,
    Touchpoint,
    TouchpointTemplate,
)
from contacts.queues.calendar import resolver_rules
from contacts.queues.households import Household, households_with_open_touchpoints
from contacts.queues.issuing import issue_calls
from contacts.queues.resolving import (
    BuildCounts,
    Candidate,
    candidate_from_json,
    candidate_to_json,
    resolve_chunk,
)
from customers.models import Dealership

logger = logging.getLogger(__name__)


# Households per chunk by default (settings.CLM_BUILD_CHUNK_HOUSEHOLDS): a chunk holds their
# touchpoints, tasks and history in memory, and is one task.
CUSTOMER_CHUNK = 2000

# The counts each chunk adds up, kept with it until the build finishes.
_CHUNK_COUNTS = ("suppressed", "deferred", "messages")


def build_queue(*, dealership: Dealership, day: dt.date, now: dt.datetime | None = None) -> BuildCounts:
    """Build one dealership's queue for one local day, all three steps in this process (the management
    command, the tests, a one-worker install). Idempotent; safe to run twice at once, and alongside
    workers running the same build's chunks."""
    frozen_now = now or timezone.now()
    build, _fresh = start_build(dealership=dealership, day=day, now=frozen_now)
    if build.finished_at is None:
        for chunk_id in unfinished_chunks(build):
            resolve_build_chunk(chunk_id=chunk_id, now=frozen_now)
        return finish_build(build=build, now=frozen_now)
    return counts_of(build)


def counts_of(build: QueueBuild) -> BuildCounts:
    return BuildCounts(**{k: v for k, v in build.counts.items() if k in BuildCounts.__dataclass_fields__})


def start_build(*, dealership: Dealership, day: dt.date, now: dt.datetime) -> tuple[QueueBuild, list[int]]:
    """Step one: the day's build and its chunks, recorded once; returns the build and the ids of the
    chunks recorded by this call (none if an earlier call recorded them, or the day is finished)."""
    build, _created = QueueBuild.objects.get_or_create(dealership=dealership, day=day)
    with transaction.atomic():
        # One planner per dealership and day: a concurrent one waits, then finds the chunks recorded.
        build = QueueBuild.objects.select_for_update().get(pk=build.pk)
        if build.finished_at is not None or SweepChunk.objects.filter(build=build).exists():
            return build, []
        carried_over = CallTask.objects.filter(
            dealership=dealership, scheduled_on__lt=day, status__in=[CallTask.Status.OPEN, CallTask.Status.CLAIMED]
        ).count()
        expire_past_tasks(dealership=dealership, day=day)
        households = households_with_open_touchpoints(dealership=dealership, day=day)
        chunks = []
        size = max(1, settings.CLM_BUILD_CHUNK_HOUSEHOLDS)
        for start in range(0, len(households), size):
            part = households[start : start + size]
            following = households[start + size : start + size + 1]
            chunks.append(SweepChunk(
                night=day, build=build, first_id=part[0].members[0],
                last_id=following[0].members[0] if following else part[-1].members[0] + 1, queued_at=now,
                payload={"households": [[list(h.members), list(h.relatives)] for h in part]},
            ))
        created = SweepChunk.objects.bulk_create(chunks, batch_size=200)
        build.counts = {"carried_over": carried_over, "customers": sum(len(h.members) for h in households)}
        QueueBuild.objects.filter(pk=build.pk).update(counts=build.counts)
    logger.info("build_queue %s %s: %d chunks recorded", dealership.code, day, len(created))
    return build, [chunk.pk for chunk in created]


def unfinished_chunks(build: QueueBuild) -> list[int]:
    return list(
        SweepChunk.objects.filter(build=build, finished_at__isnull=True).order_by("first_id").values_list("id", flat=True)
    )


def resolve_build_chunk(*, chunk_id: int, now: dt.datetime) -> QueueBuild | None:
    """Step two, for one chunk: its households resolved, verdicts and messages written, the day's call
    candidates stored with the chunk, the chunk marked finished. Returns the build when this was its
    last unfinished chunk (then step three is due), else None. A finished or unknown chunk is left."""
    chunk = SweepChunk.objects.select_related("build__dealership").filter(pk=chunk_id, build__isnull=False).first()
    if chunk is None or chunk.finished_at is not None or chunk.build is None:
        return None
    build = chunk.build
    dealership, day = build.dealership, build.day
    rules = ContactRules.for_dealership(dealership)
    households = [Household(tuple(members), tuple(relatives)) for members, relatives in chunk.payload["households"]]
    counts = BuildCounts()
    candidates = resolve_chunk(
        dealership=dealership,
        households=households,
        templates={t.id: t for t in TouchpointTemplate.objects.select_related("department")},
        resolver=resolver_rules(rules=rules, dealership=dealership, first=day, last=day),
        day=day,
        counts=counts,
        now=now,
    )
    payload = {
        "households": chunk.payload["households"],
        "candidates": [candidate_to_json(candidate) for candidate in candidates],
        "counts": {name: getattr(counts, name) for name in _CHUNK_COUNTS},
    }
    marked = SweepChunk.objects.filter(pk=chunk.pk, finished_at__isnull=True).update(finished_at=now, payload=payload)
    if marked == 1 and not SweepChunk.objects.filter(build=build, finished_at__isnull=True).exists():
        return build
    return None


def finish_build(*, build: QueueBuild, now: dt.datetime) -> BuildCounts:
    """Step three, once every chunk is resolved: capacity picks the calls from the chunks' candidates,
    read chunk by chunk, and the day is marked finished, in one transaction that holds the build's row
    (a concurrent finisher waits, then returns the finished day's counts)."""
    with transaction.atomic():
        build = QueueBuild.objects.select_for_update().select_related("dealership").get(pk=build.pk)
        if build.finished_at is not None:
            return counts_of(build)
        dealership, day = build.dealership, build.day
        counts = counts_of(build)
        for chunk_counts in SweepChunk.objects.filter(build=build, finished_at__isnull=False).values_list(
            "payload__counts", flat=True
        ):
            for name in _CHUNK_COUNTS:
                setattr(counts, name, getattr(counts, name) + (chunk_counts or {}).get(name, 0))
        counts.over_capacity = issue_calls(
            dealership=dealership, build=build, rules=ContactRules.for_dealership(dealership), day=day,
            chunks=lambda: _candidates_by_chunk(build), counts=counts, now=now,
        )
        QueueBuild.objects.filter(pk=build.pk).update(finished_at=now, counts=counts.as_dict())
        # The candidates are spent; the chunk rows stay as the record of the build's work.
        SweepChunk.objects.filter(build=build).update(payload={})
    refresh_call_task_statistics()
    logger.info("build_queue %s %s: %s", dealership.code, day, counts.as_dict())
    return counts


def _candidates_by_chunk(build: QueueBuild) -> Iterator[list[Candidate]]:
    """The resolved chunks' candidates, one chunk in memory at a time."""
    ids = SweepChunk.objects.filter(build=build, finished_at__isnull=False).order_by("first_id").values_list("id", flat=True)
    for chunk_id in list(ids):
        stored: list[dict[str, Any]] = (
            SweepChunk.objects.filter(pk=chunk_id).values_list("payload__candidates", flat=True).first() or []
        )
        yield [candidate_from_json(data) for data in stored]


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
