"""Thin Celery tasks: they take primary keys, load rows, call a workflow and return (CONVENTIONS 6).

Sweeps fan out in chunks of vehicle-id ranges, never one task per vehicle: Celery moves a few hundred
tasks a second here, and a chunk of 2,000 vehicles is a few seconds of work.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from celery import shared_task
from django.core.cache import cache
from django.db.models import F, Max, Min
from django.utils import timezone

from contacts import queueing, queues, sending
from contacts.dashboard import cached_figures, computing_lock
from contacts.models import BeatTick
from contacts.planning.sweep import REPLAN_CHUNK, refresh_planner_statistics, replan_isolating_failures
from contacts.recovery import builds_to_queue, chunks_to_requeue, finish_chunk, record_sweep
from customers.core.calendar import add_months
from customers.forecasting import learn_for_sweep
from customers.models import Dealership, Vehicle

logger = logging.getLogger(__name__)



@shared_task
def record_beat_tick() -> int:
    """Beat's heartbeat, executed by a worker: the health page shows when it last ran."""
    tick, _created = BeatTick.objects.get_or_create(name="beat", defaults={"ticked_at": timezone.now()})
    BeatTick.objects.filter(pk=tick.pk).update(ticked_at=timezone.now(), count=F("count") + 1)
    return tick.pk


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def replan_vehicles(vehicle_ids: list[int]) -> int:
    """Re-forecast and re-plan these vehicles (queued on commit of a new sale, visit, reading or import)."""
    # Forced: something about these vehicles changed, even if it is not among the fingerprinted inputs.
    result = replan_isolating_failures(vehicle_ids=vehicle_ids, force=True)
    logger.info("replan_vehicles: %d vehicles, %d rows written", result.vehicles, result.rows_written)
    return result.rows_written


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def replan_vehicle_range(first_id: int, last_id: int, now: str | None = None, night: str | None = None) -> int:
    """One chunk of the nightly sweep: vehicles with first_id <= id < last_id. ``now`` (ISO 8601) stands
    in for the clock, for a benchmark or a re-run of a missed night; ``night`` names the sweep's record
    of its chunks (contacts.recovery), marked finished here."""
    ids = list(Vehicle.objects.filter(id__gte=first_id, id__lt=last_id).values_list("id", flat=True))
    result = replan_isolating_failures(vehicle_ids=ids, now=dt.datetime.fromisoformat(now) if now else None)
    if night and finish_chunk(night=dt.date.fromisoformat(night), first_id=first_id, now=timezone.now()):
        refresh_planner_statistics()  # the night's last chunk
    logger.info(
        "replan_vehicle_range %d-%d: %d vehicles (%d unchanged, skipped), %d rows written",
        first_id, last_id, result.vehicles, result.skipped, result.rows_written,
    )
    return result.rows_written


# Workflows queue tasks through contacts.queueing (by name); this name stays for the callers not
# moved yet.
replan_on_commit = queueing.replan_on_commit


@shared_task
def replan_all_vehicles(chunk: int = REPLAN_CHUNK, nightly: bool = True) -> int:
    """Queue one re-plan task per id range; returns the number queued. The nightly sweep (beat) records
    its chunks, so that lost ones are queued again and a second sweep the same night (beat started
    twice) queues nothing new; a sweep asked for by a change (a published template) is not recorded."""
    bounds = Vehicle.objects.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        return 0
    now = timezone.now()
    night = now.date()
    ranges = [(first, first + chunk) for first in range(bounds["low"], bounds["high"] + 1, chunk)]
    if nightly:
        ranges = record_sweep(night=night, bounds=ranges, now=now)
    if ranges:
        # Once per sweep, here, before any chunk: every chunk then reads the same priors and seasonal
        # profiles from the cache (their fingerprints include them), and none starts on a cold cache.
        # Learned again once a week or when the fleet grew (the priors alone take 27 s in PostgreSQL at
        # 1,000,000 vehicles, bench/bench_priors.py). Without a cache (Redis down) the sweep still goes
        # out: the chunks then compute them as before.
        try:
            learn_for_sweep(night)
        except Exception:  # noqa: BLE001
            logger.warning("replan_all_vehicles: the mileage priors or seasonal profiles could not be stored before the chunks", exc_info=True)
    for first_id, last_id in ranges:
        queueing.send_safely(replan_vehicle_range.name, (first_id, last_id, None, night.isoformat() if nightly else None))
    logger.info("replan_all_vehicles: %d chunks queued", len(ranges))
    return len(ranges)


@shared_task
def build_due_queues() -> int:
    """Every minute: queue the build of each dealership whose local morning has come, once per local
    day, and again if a queued build was lost (contacts.recovery)."""
    due = builds_to_queue(now=timezone.now())
    for build in due:
        queueing.send_safely(build_queue.name, (build.dealership_id, build.day.isoformat()))
    return len(due)


@shared_task
def requeue_lost_work() -> int:
    """Every minute: the chunks of the nightly sweep and of the morning builds that a killed worker or a
    restarted broker lost are queued again (builds themselves are requeued by build_due_queues)."""
    chunks = chunks_to_requeue(now=timezone.now())
    for chunk in chunks:
        if chunk.build_id is not None:
            queueing.send_safely(resolve_build_chunk.name, (chunk.id,))
        else:
            queueing.send_safely(replan_vehicle_range.name, (chunk.first_id, chunk.last_id, None, chunk.night.isoformat()))
    if chunks:
        logger.warning("requeue_lost_work: %d lost chunks queued again", len(chunks))
    return len(chunks)


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def build_queue(dealership_id: int, day: str) -> dict[str, int]:
    """One dealership's queue for one local day, fanned out (contacts.queues.build): the first run
    records the day's household chunks and queues one task per chunk, on any worker; the last chunk
    queues this task again, which then issues the day's calls. Idempotent (QueueBuild marks a finished
    day): run again while chunks are unfinished it does nothing (contacts.recovery redoes lost chunks).
    Returns the day's counts once it is finished, else {}."""
    dealership = Dealership.objects.filter(pk=dealership_id).first()
    if dealership is None:
        return {}
    now = timezone.now()
    build, fresh = queues.start_build(dealership=dealership, day=dt.date.fromisoformat(day), now=now)
    if build.finished_at is not None:
        return queues.counts_of(build).as_dict()
    for chunk_id in fresh:
        queueing.send_safely(resolve_build_chunk.name, (chunk_id,))
    if queues.unfinished_chunks(build):
        build.refresh_from_db(fields=["finished_at", "counts"])  # eager mode: the chunks ran inside the sends
        return queues.counts_of(build).as_dict() if build.finished_at else {}
    return queues.finish_build(build=build, now=now).as_dict()


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def resolve_build_chunk(chunk_id: int) -> int:
    """One chunk of a morning build: its households resolved (contacts.queues.build); the last chunk
    of the build queues the build again to issue the day's calls. Returns the chunk's candidates."""
    build = queues.resolve_build_chunk(chunk_id=chunk_id, now=timezone.now())
    if build is not None:
        queueing.send_safely(build_queue.name, (build.dealership_id, build.day.isoformat()))
    return 0 if build is None else 1


@shared_task
def send_due_messages(batch: int = 500) -> int:
    """Every ten minutes: send what is due inside each dealership's message hours (contacts.sending)."""
    counts = sending.send_due_messages(batch=batch)
    if counts.sent or counts.failed or counts.missed or counts.closed_day:
        logger.info("send_due_messages: %s", counts.as_dict())
    return counts.sent


@shared_task
def sweep_handoffs() -> dict[str, int]:
    """Hand-offs past their SLA with no answer escalate to the department's head (once each), and a
    "sold" / "visit confirmed" without its sale or visit is linked to one imported since."""
    from contacts.calls.handoffs import escalate_overdue_handoffs, link_results

    now = timezone.now()
    done = {"escalated": escalate_overdue_handoffs(now=now), "linked": link_results(now=now)}
    if any(done.values()):
        logger.info("sweep_handoffs: %(escalated)d escalated, %(linked)d linked", done)
    return done


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
    ids = tuple(sorted(dealership_ids))
    try:
        snapshot = cached_figures(dealership_ids=ids, start=dt.date.fromisoformat(start), end=dt.date.fromisoformat(end),
                                  params=params, today=dt.date.fromisoformat(today), zone=ZoneInfo(zone), refresh=True)
    finally:
        cache.delete(computing_lock(ids, params, start, end))
    return snapshot.pk


# The nightly snapshot's default view (the dashboard's defaults).
SNAPSHOT_PARAMS = {"repeat_years": 3, "return_months": 15, "active_months": 12}


def metrics_scopes() -> list[list[int]]:
    """The scopes the nightly snapshot computes: each dealership, then the group (when it has more than
    one), each as dealership ids with first the one whose calendar the page takes its day from (by name)."""
    ids = list(Dealership.objects.order_by("name").values_list("id", flat=True))
    return [[i] for i in ids] + ([ids] if len(ids) > 1 else [])


@shared_task
def compute_metrics_snapshots() -> int:
    """Nightly: the dashboards' default figures (last 24 months), one task per scope (each dealership and
    the group) on any worker of the ``sweeps`` queue; returns the number queued."""
    scopes = metrics_scopes()
    for scope in scopes:
        queueing.send_safely(compute_metrics_snapshot.name, (scope,))
    return len(scopes)


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def compute_metrics_snapshot(dealership_ids: list[int]) -> int:
    """One scope's default figures, on the calendar of its first dealership; idempotent (replaces the
    scope's snapshot). Returns the snapshot's id, or 0 for a scope whose dealerships are gone."""
    by_id = Dealership.objects.in_bulk(dealership_ids)
    scope = [by_id[i] for i in dealership_ids if i in by_id]
    if not scope:
        return 0
    end = scope[0].local_date(timezone.now())
    start = add_months(end, -24) + dt.timedelta(days=1)
    snapshot = cached_figures(dealership_ids=tuple(d.id for d in scope), start=start, end=end, params=SNAPSHOT_PARAMS,
                              today=end, zone=scope[0].zone, refresh=True)
    return snapshot.pk
