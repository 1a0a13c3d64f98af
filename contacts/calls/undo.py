"""Undo of the agent's last outcome for a few minutes after a mis-key (issue 15).

Before an outcome is written, ``remember_before_outcome`` notes in the cache what it may change: the
task's schedule, its touchpoints and agenda items, the customer's phone counters, the customer's other
open calls (a third failure cancels them) and the car's active flag. ``undo_outcome`` puts all of it
back, deletes what the outcome created (the attempt, a mileage reading, a callback, a hand-off nobody
accepted yet) and gives the call back to the agent. After ``UNDO_WINDOW`` the note expires and the
outcome stays. A do-not-call is not undone here: a refusal is the customer's word, and the panel asks
for confirmation before it is recorded.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from contacts import queueing
from contacts.calls.errors import OutcomeError
from contacts.models import CallAttempt, CallTask, CallTaskItem, Handoff, Touchpoint
from customers.models import Customer, OdometerReading, Vehicle

logger = logging.getLogger(__name__)
UNDO_WINDOW = dt.timedelta(minutes=5)
NOT_UNDOABLE = frozenset({CallAttempt.Outcome.DO_NOT_CALL})
TASK_FIELDS = ("kind", "scheduled_on", "window_end", "blocks_until", "callback_at", "attempts", "outcome", "claimed_at")


def _key(attempt_id: int) -> str:
    return f"calls:undo:{attempt_id}"


def remember_before_outcome(*, task: CallTask, outcome: str) -> dict[str, Any] | None:
    """What the outcome about to be written may change, read before it is written (None: not undoable)."""
    if outcome in NOT_UNDOABLE:
        return None
    customer = Customer.objects.filter(pk=task.customer_id).values(
        "phone_failures", "phone_unreachable_since", "temperature", "temperature_set_at", "temperature_set_by"
    ).get()
    items = list(CallTaskItem.objects.filter(call_task=task).values_list("pk", "touchpoint_id", "result"))
    touchpoints = dict(
        Touchpoint.objects.filter(pk__in=[tp for _pk, tp, _r in items]).values_list("pk", "status")
    )
    resolutions = dict(Touchpoint.objects.filter(pk__in=touchpoints).values_list("pk", "resolution"))
    return {
        "task_id": task.pk,
        "task": {field: _plain(getattr(task, field)) for field in TASK_FIELDS},
        "customer": {key: _plain(value) for key, value in customer.items()},
        "items": [[pk, result] for pk, _tp, result in items],
        "touchpoints": [[pk, status, resolutions.get(pk, "")] for pk, status in touchpoints.items()],
        "other_open_calls": list(
            CallTask.objects.filter(customer_id=task.customer_id, status=CallTask.Status.OPEN).exclude(pk=task.pk)
            .values_list("pk", flat=True)
        ),
        "active_vehicles": list(Vehicle.objects.filter(owner_id=task.customer_id, is_active=True).values_list("pk", flat=True)),
    }


def keep_for_undo(*, attempt: CallAttempt, before: dict[str, Any] | None, reading_id: int | None) -> None:
    """Keep the note for UNDO_WINDOW once the outcome is written (a cache failure only costs the undo)."""
    if before is None:
        return
    # The deadline is in the note: the cache's own expiry (Redis's clock) is only the clean-up.
    until = (attempt.ended_at + UNDO_WINDOW).isoformat()
    note = {**before, "agent_id": attempt.agent_id, "reading_id": reading_id, "until": until}
    try:
        cache.set(_key(attempt.pk), note, int(UNDO_WINDOW.total_seconds()))
    except Exception:  # noqa: BLE001 - the cache (Redis) is down: the outcome stands, without an undo
        logger.warning("undo note for attempt %s not kept: the cache failed", attempt.pk, exc_info=True)


def _undoable(note: dict[str, Any] | None, agent: User, now: dt.datetime) -> bool:
    return (
        note is not None and note.get("agent_id") == agent.pk
        and "until" in note and now <= dt.datetime.fromisoformat(note["until"])
    )


def can_undo(*, attempt_id: int, agent: User, now: dt.datetime) -> bool:
    try:
        note = cache.get(_key(attempt_id))
    except Exception:  # noqa: BLE001 - no cache, no undo
        return False
    return _undoable(note, agent, now)


def undo_outcome(*, attempt_id: int, agent: User, now: dt.datetime) -> CallTask:
    """Put back everything the agent's outcome changed and give them the call again; OutcomeError if too late."""
    note = cache.get(_key(attempt_id))
    if not _undoable(note, agent, now):
        raise OutcomeError(_("This outcome can no longer be undone (undo lasts %(minutes)s minutes).") % {
            "minutes": int(UNDO_WINDOW.total_seconds() // 60)})
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=CallTask.objects.get(pk=note["task_id"]).customer_id).first()
        task = CallTask.objects.select_for_update().get(pk=note["task_id"])
        attempt = CallAttempt.objects.filter(pk=attempt_id, call_task=task).first()
        if attempt is None or CallAttempt.objects.filter(call_task=task, pk__gt=attempt_id).exists():
            raise OutcomeError(_("This call changed after your outcome, so it cannot be undone."))
        if Handoff.objects.filter(created_from=attempt).exclude(status=Handoff.Status.NEW).exists():
            raise OutcomeError(_("The department has already taken up the hand-off: ask them to change it."))
        replan_ids = _put_back(note=note, task=task, attempt=attempt, agent=agent, now=now)
        cache.delete(_key(attempt_id))
        if replan_ids:
            queueing.replan_on_commit(replan_ids)
    return task


def _put_back(*, note: dict[str, Any], task: CallTask, attempt: CallAttempt, agent: User, now: dt.datetime) -> set[int]:
    Handoff.objects.filter(created_from=attempt).delete()
    callbacks = CallTask.objects.filter(previous=task, kind=CallTask.Kind.CALLBACK, created_at__gte=attempt.ended_at)
    for item_id, result in note["items"]:
        CallTaskItem.objects.filter(pk=item_id).update(call_task=task, result=result)
    callbacks.filter(status=CallTask.Status.OPEN).delete()
    for touchpoint_id, status, resolution in note["touchpoints"]:
        Touchpoint.objects.filter(pk=touchpoint_id).update(status=status, resolution=resolution)
    cancelled = CallTask.objects.filter(pk__in=note["other_open_calls"], status=CallTask.Status.CANCELLED, outcome="unreachable")
    Touchpoint.objects.filter(call_item__call_task__in=cancelled, resolution="unreachable").update(
        status=Touchpoint.Status.ISSUED, resolution=""
    )
    cancelled.update(status=CallTask.Status.OPEN, outcome="")
    Customer.objects.filter(pk=task.customer_id).update(
        phone_failures=note["customer"]["phone_failures"],
        phone_unreachable_since=_day(note["customer"]["phone_unreachable_since"]),
        # The temperature the outcome set (a hand-off's, a refusal's) goes back too.
        temperature=note["customer"].get("temperature", ""),
        temperature_set_at=_moment(note["customer"].get("temperature_set_at")),
        temperature_set_by_id=note["customer"].get("temperature_set_by"),
    )
    reactivated = Vehicle.objects.filter(pk__in=note["active_vehicles"], is_active=False)
    replan_ids = set(reactivated.values_list("pk", flat=True))
    reactivated.update(is_active=True)
    if note["reading_id"]:
        replan_ids |= set(OdometerReading.objects.filter(pk=note["reading_id"]).values_list("vehicle_id", flat=True))
        OdometerReading.objects.filter(pk=note["reading_id"]).delete()
    attempt.delete()
    # The next call the agent was given meanwhile goes back to the queue: one call at a time.
    CallTask.objects.filter(claimed_by=agent, status=CallTask.Status.CLAIMED).exclude(pk=task.pk).update(
        status=CallTask.Status.OPEN
    )
    saved = note["task"]
    for field in TASK_FIELDS:
        setattr(task, field, _typed(field, saved[field]))
    task.status, task.claimed_by, task.claim_seen_at, task.completed_at = CallTask.Status.CLAIMED, agent, now, None
    task.claimed_at = task.claimed_at or now
    task.save(update_fields=[*TASK_FIELDS, "status", "claimed_by", "claim_seen_at", "completed_at"])
    return replan_ids


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _typed(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field in ("scheduled_on", "window_end", "blocks_until"):
        return dt.date.fromisoformat(value)
    if field in ("callback_at", "claimed_at"):
        return dt.datetime.fromisoformat(value)
    return value


def _moment(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None
