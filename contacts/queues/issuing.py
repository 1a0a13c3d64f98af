"""Step two of the build: the day's capacity picks the candidates, most urgent first, and only those
become call tasks; the rest wait (``deferred:capacity``) or close (``window_closed:capacity``)."""

from __future__ import annotations

import datetime as dt
import logging

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
    candidates: list[Candidate],
    counts: BuildCounts,
    now: dt.datetime,
) -> int:
    """Write today's calls within capacity, most urgent first; the rest wait with the reason
    ``deferred:capacity`` or, when their window closes today, are suppressed (``window_closed:capacity``).
    Requested calls (a callback, a hand-off) and carried-over tasks count against capacity but are never
    moved. Returns how many candidates capacity moved.

    The calls go in one transaction; if that fails, one call at a time, so that a bad customer is
    recorded (contacts.problems) and left out, not the whole dealership's day."""
    capacity = capacity_for(dealership=dealership, rules=rules, day=day)
    try:
        with transaction.atomic():
            return _issue_chosen(
                dealership=dealership, build=build, rules=rules, day=day, candidates=candidates, counts=counts,
                capacity=capacity,
            )
    except Exception:  # noqa: BLE001 - retried one call at a time below
        logger.warning("build_queue %s %s: issuing the day's calls failed, issuing them one by one", dealership.code, day)
    requested = [c for c in candidates if c.plan.is_requested]
    fresh = sorted((c for c in candidates if not c.plan.is_requested), key=lambda c: c.order)
    moved = 0
    for candidate in requested + fresh:
        try:
            with transaction.atomic():
                moved += _issue_chosen(
                    dealership=dealership, build=build, rules=rules, day=day, candidates=[candidate], counts=counts,
                    capacity=capacity,
                )
        except Exception as error:  # noqa: BLE001 - recorded, the rest goes on
            customer_id = candidate.plan.customer_id
            record_problem(
                stage=Problem.Stage.BUILD, day=day, subject=f"customer:{customer_id}", error=error, now=now,
                dealership_id=dealership.id, customer_id=customer_id,
            )
    return moved


def _issue_chosen(
    *,
    dealership: Dealership,
    build: QueueBuild,
    rules: ContactRules,
    day: dt.date,
    candidates: list[Candidate],
    counts: BuildCounts,
    capacity: int,
) -> int:
    """Inside the caller's transaction: the candidates capacity takes become call tasks."""
    # One issuer per dealership and day at a time: a concurrent build waits here, then finds the
    # calls and touchpoints this one issued.
    QueueBuild.objects.select_for_update().filter(pk=build.pk).first()
    in_queue = CallTask.objects.filter(
        dealership=dealership, scheduled_on__lte=day, status__in=[CallTask.Status.OPEN, CallTask.Status.CLAIMED]
    ).count()
    requested = [c for c in candidates if c.plan.is_requested]
    fresh = sorted((c for c in candidates if not c.plan.is_requested), key=lambda c: c.order)
    room = max(0, capacity - in_queue - len(requested))
    chosen, overflow = requested + fresh[:room], fresh[room:]
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
        if customer is None or len(agenda) < len(plan.agenda) or Channel.CALL in customer.blocked_channels():
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
    counts.calls += len(created)
    write_resolutions([
        (item.touchpoint_id, *(
            (Touchpoint.Status.SUPPRESSED, "window_closed:capacity") if c.plan.window_end <= day
            else (Touchpoint.Status.PLANNED, "deferred:capacity")
        ))
        for c in overflow
        for item in c.plan.agenda
    ])
    return len(overflow)


def _called_recently(customer_ids: set[int], *, day: dt.date, gap_days: int) -> set[int]:
    """Those of these customers with a call (not cancelled) in the gap before ``day``, today included."""
    if not customer_ids:
        return set()
    return set(
        CallTask.objects.filter(
            customer_id__in=customer_ids, scheduled_on__gt=day - dt.timedelta(days=max(1, gap_days)), scheduled_on__lte=day
        ).exclude(status=CallTask.Status.CANCELLED).values_list("customer_id", flat=True)
    )
