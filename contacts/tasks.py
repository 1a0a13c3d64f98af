"""Thin Celery tasks: they take primary keys, load rows, call a workflow and return (CONVENTIONS 6).

Sweeps fan out in chunks of vehicle-id ranges, never one task per vehicle: Celery moves a few hundred
tasks a second here, and a chunk of 2,000 vehicles is a few seconds of work.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from typing import Any

from celery import shared_task
from django.db import transaction
from django.db.models import F, Max, Min
from django.utils import timezone

from contacts.models import BeatTick
from customers.models import Vehicle

logger = logging.getLogger(__name__)

# Vehicles per re-plan task: big enough that task overhead is noise, small enough that a worker's
# memory stays flat (~2,000 vehicles ≈ 70,000 touchpoints in memory) and a killed task redoes little.
REPLAN_CHUNK = 2000


@shared_task
def record_beat_tick() -> int:
    """Beat's heartbeat, executed by a worker: the health page shows when it last ran."""
    tick, _created = BeatTick.objects.get_or_create(name="beat", defaults={"ticked_at": timezone.now()})
    BeatTick.objects.filter(pk=tick.pk).update(ticked_at=timezone.now(), count=F("count") + 1)
    return tick.pk


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def replan_vehicles(vehicle_ids: list[int]) -> int:
    """Re-forecast and re-plan these vehicles (queued on commit of a new sale, visit, reading or import)."""
    from contacts.planning import replan_isolating_failures

    # Forced: something about these vehicles changed, even if it is not among the fingerprinted inputs.
    result = replan_isolating_failures(vehicle_ids=vehicle_ids, force=True)
    logger.info("replan_vehicles: %d vehicles, %d rows written", result.vehicles, result.rows_written)
    return result.rows_written


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def replan_vehicle_range(first_id: int, last_id: int, now: str | None = None, night: str | None = None) -> int:
    """One chunk of the nightly sweep: vehicles with first_id <= id < last_id. ``now`` (ISO 8601) stands
    in for the clock, for a benchmark or a re-run of a missed night; ``night`` names the sweep's record
    of its chunks (contacts.recovery), marked finished here."""
    import datetime as dt

    from contacts.planning import replan_isolating_failures
    from contacts.recovery import finish_chunk

    ids = list(Vehicle.objects.filter(id__gte=first_id, id__lt=last_id).values_list("id", flat=True))
    result = replan_isolating_failures(vehicle_ids=ids, now=dt.datetime.fromisoformat(now) if now else None)
    if night:
        finish_chunk(night=dt.date.fromisoformat(night), first_id=first_id, now=timezone.now())
    logger.info(
        "replan_vehicle_range %d-%d: %d vehicles (%d unchanged, skipped), %d rows written",
        first_id, last_id, result.vehicles, result.skipped, result.rows_written,
    )
    return result.rows_written


def send_on_commit(task: Any, *args: Any) -> None:
    """Queue ``task`` with ``args`` once the current transaction commits.

    The change that asks for it is saved by then: a broker that is down must not turn it into an
    error page. ``send_safely`` logs the failure instead; the nightly sweeps catch up.
    """
    transaction.on_commit(functools.partial(send_safely, task, args))


def send_safely(task: Any, args: tuple[Any, ...]) -> None:
    try:
        task.delay(*args)
    except Exception:  # noqa: BLE001 - any broker failure: logged, the nightly sweep catches up
        logger.exception("Could not queue %s%r; the nightly sweep will do its work", task.name, args)


def replan_on_commit(vehicle_ids: Iterable[int]) -> None:
    """Re-plan these vehicles through a worker once the current transaction commits."""
    ids = sorted(set(vehicle_ids))
    if ids:
        send_on_commit(replan_vehicles, ids)


@shared_task
def replan_all_vehicles(chunk: int = REPLAN_CHUNK) -> int:
    """Nightly sweep: record and queue one re-plan task per id range; returns the number queued. Run
    twice the same night (beat started twice), it queues nothing new."""
    from contacts.recovery import record_sweep

    bounds = Vehicle.objects.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        return 0
    now = timezone.now()
    night = now.date()
    ranges = [(first, first + chunk) for first in range(bounds["low"], bounds["high"] + 1, chunk)]
    fresh = record_sweep(night=night, bounds=ranges, now=now)
    for first_id, last_id in fresh:
        send_safely(replan_vehicle_range, (first_id, last_id, None, night.isoformat()))
    logger.info("replan_all_vehicles: %d chunks queued", len(fresh))
    return len(fresh)


@shared_task
def build_due_queues() -> int:
    """Every minute: queue the build of each dealership whose local morning has come, once per local
    day, and again if a queued build was lost (contacts.recovery)."""
    from contacts.recovery import builds_to_queue

    due = builds_to_queue(now=timezone.now())
    for build in due:
        send_safely(build_queue, (build.dealership_id, build.day.isoformat()))
    return len(due)


@shared_task
def requeue_lost_work() -> int:
    """Every minute: the nightly sweep's chunks that a killed worker or a restarted broker lost are
    queued again (builds are requeued by build_due_queues)."""
    from contacts.recovery import chunks_to_requeue

    chunks = chunks_to_requeue(now=timezone.now())
    for chunk in chunks:
        send_safely(replan_vehicle_range, (chunk.first_id, chunk.last_id, None, chunk.night.isoformat()))
    if chunks:
        logger.warning("requeue_lost_work: %d lost re-plan chunks queued again", len(chunks))
    return len(chunks)


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def build_queue(dealership_id: int, day: str) -> dict[str, int]:
    """One dealership's queue for one local day; idempotent (QueueBuild marks a finished day)."""
    import datetime as dt

    from contacts import queues
    from customers.models import Dealership

    dealership = Dealership.objects.filter(pk=dealership_id).first()
    if dealership is None:
        return {}
    return queues.build_queue(dealership=dealership, day=dt.date.fromisoformat(day)).as_dict()


@shared_task
def send_due_messages(batch: int = 500) -> int:
    """Send pending messages due today or earlier; each is claimed by a conditional update, so two
    workers never send one message twice."""
    from contacts.models import OutboxMessage
    from contacts.senders import get_sender

    sender = get_sender()
    sent = 0
    today = timezone.now().date()
    for message in OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, send_on__lte=today)[:batch]:
        claimed = OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.PENDING).update(
            status=OutboxMessage.Status.SENT, sent_at=timezone.now()
        )
        if claimed != 1:
            continue
        try:
            sender.send(message)
        except Exception as error:  # noqa: BLE001 - a gateway failure is recorded on the row, not raised
            OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxMessage.Status.FAILED, error=str(error)[:500])
            continue
        sent += 1
    return sent


@shared_task
def release_stale_claims() -> int:
    """Claims idle longer than their dealership's ``claim_timeout_minutes`` go back to the pool."""
    from contacts.calls import release_stale_claims as release

    released = release(now=timezone.now())
    if released:
        logger.info("release_stale_claims: %d claims returned to the pool", released)
    return released


@shared_task
def compute_dashboard_figures(
    dealership_ids: list[int], start: str, end: str, params: dict[str, int], today: str, zone: str = "UTC"
) -> int:
    """A dashboard view the nightly job did not compute, asked for by a manager: computed and stored."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from django.core.cache import cache

    from contacts.dashboard import cached_figures, computing_lock

    ids = tuple(sorted(dealership_ids))
    try:
        snapshot = cached_figures(dealership_ids=ids, start=dt.date.fromisoformat(start), end=dt.date.fromisoformat(end),
                                  params=params, today=dt.date.fromisoformat(today), zone=ZoneInfo(zone), refresh=True)
    finally:
        cache.delete(computing_lock(ids, params, start, end))
    return snapshot.pk


@shared_task
def compute_metrics_snapshots() -> int:
    """Nightly: the dashboards' default figures (last 24 months) per dealership and for the group."""
    import datetime as dt

    from contacts.dashboard import cached_figures
    from customers.mileage import add_months
    from customers.models import Dealership

    params = {"repeat_years": 3, "return_months": 15, "active_months": 12}
    # Each scope on the calendar of the dealership the page takes its day from (the first by name).
    dealerships = list(Dealership.objects.order_by("name"))
    scopes: list[list[Dealership]] = [[d] for d in dealerships] + [dealerships]
    now = timezone.now()
    for scope in scopes:
        if not scope:
            continue
        end = scope[0].local_date(now)
        start = add_months(end, -24) + dt.timedelta(days=1)
        cached_figures(dealership_ids=tuple(d.id for d in scope), start=start, end=end, params=params, today=end,
                       zone=scope[0].zone, refresh=True)
    return len(scopes)
