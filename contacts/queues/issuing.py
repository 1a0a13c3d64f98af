"""Step two of the build: the day's capacity picks the candidates, most urgent first, and only those
become call tasks; the rest wait (``deferred:capacity``) or close (``window_closed:capacity``)."""

from __future__ import annotations

import datetime as dt
import heapq
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction

from contacts.models import (
    CallTask,
    CallTaskItem,
    ContactRules,
    Problem,
    QueueBuild,
    Touchpoint,
)
from contacts.problems import record_problem
from contacts.queues import rendering
from contacts.queues.calendar import capacity_for
from contacts.queues.resolving import (
    BuildCounts,
    Candidate,
    forecasts_of,
    lock_still_open,
    touchpoints_to_render,
    write_resolutions,
)
from customers.models import Channel, Dealership

logger = logging.getLogger(__name__)


def issue_calls(
    *,
    dealership: Dealership,
    build: QueueBuild,
    rules: ContactRules,
    day: dt.date,
    chunks: Callable[[], Iterable[list[Candidate]]],
    counts: BuildCounts,
    now: dt.datetime,
) -> int:
    """Write today's calls within capacity, most urgent first; the rest wait with the reason
    ``deferred:capacity`` or, when their window closes today, are suppressed (``window_closed:capacity``).
    Requested calls (a callback, a hand-off) and carried-over tasks count against capacity but are never
    moved. Returns how many candidates capacity moved.

    Inside the caller's transaction, which holds the build's row (one issuer per dealership and day: a
    concurrent one waits, then finds the day finished). ``chunks`` gives the candidates chunk by chunk,
    afresh on each call, so that memory holds one chunk and the day's capacity, never the whole day:
    a first pass picks the calls capacity takes (their keys), a second writes them chunk by chunk. A
    chunk that fails to write is written again one call at a time, so that a bad customer is recorded
    (contacts.problems) and left out, not the whole dealership's day."""
    capacity = capacity_for(dealership=dealership, rules=rules, day=day)
    in_queue = CallTask.objects.filter(
        dealership=dealership, scheduled_on__lte=day, status__in=[CallTask.Status.OPEN, CallTask.Status.CLAIMED]
    ).count()
    chosen = _pick(chunks(), room=max(0, capacity - in_queue))
    moved = 0
    for candidates in chunks():
        taken = [c for c in candidates if c.plan.is_requested or c.plan.key in chosen]
        overflow = [c for c in candidates if not (c.plan.is_requested or c.plan.key in chosen)]
        moved += len(overflow)
        try:
            with transaction.atomic():
                counts.calls += _issue_chosen(dealership=dealership, rules=rules, day=day, chosen=taken, overflow=overflow)
            continue
        except Exception:  # noqa: BLE001 - retried one call at a time below
            logger.warning("build_queue %s %s: issuing a chunk's calls failed, issuing them one by one", dealership.code, day)
        for candidate in taken + overflow:
            try:
                with transaction.atomic():
                    is_taken = candidate in taken
                    counts.calls += _issue_chosen(dealership=dealership, rules=rules, day=day,
                                                  chosen=[candidate] if is_taken else [],
                                                  overflow=[] if is_taken else [candidate])
            except Exception as error:  # noqa: BLE001 - recorded, the rest goes on
                customer_id = candidate.plan.customer_id
                record_problem(
                    stage=Problem.Stage.BUILD, day=day, subject=f"customer:{customer_id}", error=error, now=now,
                    dealership_id=dealership.id, customer_id=customer_id,
                )
    return moved


def _pick(chunks: Iterable[list[Candidate]], *, room: int) -> set[str]:
    """The keys of the fresh calls capacity takes: the ``room`` most urgent once the requested calls,
    which are never moved, have taken theirs. Holds at most ``room`` orders, whatever the day's size."""
    requested = 0
    best: list[_Latest] = []  # a heap whose top is the least urgent kept
    for candidates in chunks:
        for candidate in candidates:
            if candidate.plan.is_requested:
                requested += 1
                continue
            if room <= 0:
                continue
            entry = _Latest(candidate.order)
            if len(best) < room:
                heapq.heappush(best, entry)
            elif entry.order < best[0].order:
                heapq.heapreplace(best, entry)
    keep = sorted(entry.order for entry in best)[: max(0, room - requested)]
    return {order[3] for order in keep}


@dataclass(frozen=True, slots=True)
class _Latest:
    """A candidate's order, compared backwards: heapq's smallest is then the least urgent."""

    order: tuple[int, dt.date, int, str]

    def __lt__(self, other: _Latest) -> bool:
        return self.order > other.order


def _issue_chosen(
    *,
    dealership: Dealership,
    rules: ContactRules,
    day: dt.date,
    chosen: list[Candidate],
    overflow: list[Candidate],
) -> int:
    """Inside the caller's transaction: the candidates capacity took become call tasks (returns how
    many); the overflow waits or closes."""
    customers, still_open = lock_still_open(
        {c.plan.customer_id for c in chosen} | {r for c in chosen for r in c.relatives},
        {item.touchpoint_id for c in chosen for item in c.plan.agenda},
    )
    called_elsewhere = _called_recently(
        {r for c in chosen for r in c.relatives}, day=day, gap_days=rules.min_days_between_calls
    )
    touchpoints = touchpoints_to_render(still_open)
    forecasts = forecasts_of({tp.vehicle_id for tp in touchpoints.values()})
    new_tasks: list[tuple[CallTask, list[Touchpoint]]] = []
    for candidate in chosen:
        plan = candidate.plan
        customer = customers.get(plan.customer_id)
        agenda = [touchpoints[item.touchpoint_id] for item in plan.agenda if item.touchpoint_id in touchpoints]
        if customer is None or len(agenda) < len(plan.agenda) or not all(
            customer.allows(Channel.CALL, tp.template.purpose) for tp in agenda
        ):
            continue  # refused meanwhile, or issued by a concurrent build: tomorrow's build sees it
        if not plan.is_requested and called_elsewhere & set(candidate.relatives):
            continue  # the same person was just called by another dealership of the group (a concurrent build)
        task = rendering.call_task_for(
            dealership=dealership, customer=customer, plan=plan, agenda=agenda, forecasts=forecasts,
            explanation=candidate.explanation, gap_days=rules.min_days_between_calls,
        )
        new_tasks.append((task, agenda))
    created = CallTask.objects.bulk_create([task for task, _agenda in new_tasks], batch_size=1000)
    CallTaskItem.objects.bulk_create(
        [
            CallTaskItem(call_task=task, touchpoint=tp, position=position,
                         script_variant=task.agenda[position].get("script_variant", ""))
            for task, (_same, agenda) in zip(created, new_tasks, strict=True)
            for position, tp in enumerate(agenda)
        ],
        batch_size=2000,
    )
    Touchpoint.objects.filter(
        id__in=[tp.id for _task, agenda in new_tasks for tp in agenda], status=Touchpoint.Status.PLANNED
    ).update(status=Touchpoint.Status.ISSUED, resolution="placed")
    write_resolutions([
        (item.touchpoint_id, *(
            (Touchpoint.Status.SUPPRESSED, "window_closed:capacity") if c.plan.window_end <= day
            else (Touchpoint.Status.PLANNED, "deferred:capacity")
        ))
        for c in overflow
        for item in c.plan.agenda
    ])
    return len(created)


def _called_recently(customer_ids: set[int], *, day: dt.date, gap_days: int) -> set[int]:
    """Those of these customers with a call (not cancelled) in the gap before ``day``, today included."""
    if not customer_ids:
        return set()
    return set(
        CallTask.objects.filter(
            customer_id__in=customer_ids, scheduled_on__gt=day - dt.timedelta(days=max(1, gap_days)), scheduled_on__lte=day
        ).exclude(status=CallTask.Status.CANCELLED).values_list("customer_id", flat=True)
    )
