"""Lost work is redone in minutes: the morning builds and the nightly sweep's chunks are recorded when
queued, and what a killed worker or a restarted broker lost is queued again.

A build or chunk queued longer ago than a task may run (``REQUEUE_AFTER``: the hard time limit plus a
margin) and still unfinished cannot be running any more, so queuing it again is safe; both are
idempotent (QueueBuild, the plan fingerprints). The broker's own redelivery of an unacknowledged task
(the visibility timeout, clm/settings.py) is matched to the same limit, so whichever comes first redoes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from contacts.models import Problem, QueueBuild, SweepChunk
from contacts.problems import record_problem
from contacts.queues import dealerships_due

# After this many queuings a chunk is given up for the night and recorded as a problem; the next
# night's sweep plans its vehicles again.
MAX_CHUNK_ATTEMPTS = 5


# After the hard time limit a task is surely dead; the margin covers a worker's clock and the broker.
# With the defaults (225 s) and the sweeps every minute, lost work is queued again within five minutes.
REQUEUE_MARGIN_SECONDS = 15


def requeue_after() -> dt.timedelta:
    return dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + REQUEUE_MARGIN_SECONDS)


@dataclass(frozen=True)
class BuildToQueue:
    dealership_id: int
    day: dt.date


def builds_to_queue(*, now: dt.datetime) -> list[BuildToQueue]:
    """The builds whose local morning has come that were never queued, or were queued longer ago than
    a task may run and never finished; each is marked queued now."""
    wanted = []
    stale = now - requeue_after()
    for dealership, day in dealerships_due(now=now):
        try:
            with transaction.atomic():
                build, created = QueueBuild.objects.get_or_create(
                    dealership=dealership, day=day, defaults={"queued_at": now, "attempts": 1, "started_at": now}
                )
        except IntegrityError:  # a concurrent sweep created it: it queued the build
            continue
        if not created:
            claimed = QueueBuild.objects.filter(
                Q(queued_at__isnull=True) | Q(queued_at__lt=stale), pk=build.pk, finished_at__isnull=True
            ).update(queued_at=now, attempts=F("attempts") + 1)
            if claimed != 1:
                continue
        wanted.append(BuildToQueue(dealership.id, day))
    return wanted


def record_sweep(*, night: dt.date, bounds: list[tuple[int, int]], now: dt.datetime) -> list[tuple[int, int]]:
    """Record tonight's chunks; returns those not recorded before (a second sweep the same night, from
    beat run twice, queues nothing new)."""
    existing = set(SweepChunk.objects.filter(night=night, build__isnull=True).values_list("first_id", flat=True))
    fresh = [(first, last) for first, last in bounds if first not in existing]
    SweepChunk.objects.bulk_create(
        [SweepChunk(night=night, first_id=first, last_id=last, queued_at=now) for first, last in fresh],
        ignore_conflicts=True,
    )
    return fresh


def finish_chunk(*, night: dt.date, first_id: int, now: dt.datetime) -> bool:
    """Mark the chunk finished; True when it was the night's last unfinished chunk."""
    sweep = SweepChunk.objects.filter(night=night, build__isnull=True)
    marked = sweep.filter(first_id=first_id, finished_at__isnull=True).update(finished_at=now)
    return marked == 1 and not sweep.filter(finished_at__isnull=True).exists()


def chunks_to_requeue(*, now: dt.datetime) -> list[SweepChunk]:
    """Unfinished chunks, of the nightly sweep or of a morning build (``chunk.build_id`` set), queued
    longer ago than a task may run: queued again (marked now), or after MAX_CHUNK_ATTEMPTS given up
    and recorded as a problem (a given-up build chunk's households wait for tomorrow's build; the build
    sweep then finishes the day with the rest)."""
    again = []
    unfinished = SweepChunk.objects.filter(finished_at__isnull=True, queued_at__lt=now - requeue_after())
    for chunk in unfinished.select_related("build").defer("payload"):
        if chunk.attempts >= MAX_CHUNK_ATTEMPTS:
            SweepChunk.objects.filter(pk=chunk.pk).update(finished_at=now)
            record_problem(
                stage=Problem.Stage.BUILD if chunk.build else Problem.Stage.REPLAN, day=chunk.night,
                subject=f"chunk:{chunk.first_id}-{chunk.last_id}", error=f"given up after {chunk.attempts} attempts",
                now=now, dealership_id=chunk.build.dealership_id if chunk.build else None,
            )
            continue
        claimed = SweepChunk.objects.filter(pk=chunk.pk, queued_at=chunk.queued_at).update(
            queued_at=now, attempts=F("attempts") + 1
        )
        if claimed == 1:
            again.append(chunk)
    return again
