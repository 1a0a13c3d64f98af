"""Recording a call's outcome: take the call (it must be the agent's, or provably was), validate
everything, then write the attempt and the outcome's effects, in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from contacts import queueing
from contacts.calls import undo
from contacts.calls.claims import closed_call_message
from contacts.calls.errors import OutcomeError
from contacts.calls.outcomes.validate import GivenOutcome, validate
from contacts.calls.outcomes.writers import WRITERS, record_what_every_outcome_tells
from contacts.models import CallAttempt, CallTask, ContactRules, Department
from customers.models import Channel, Customer, Vehicle

Outcome = CallAttempt.Outcome


def _take_for_outcome(*, task: CallTask, agent: User, now: dt.datetime, claim_started_at: dt.datetime | None) -> CallTask:
    """Lock the customer, then the task (the queue build's order), and check the call is the agent's.

    A claim that expired (or that a supervisor released) but that nobody else took is taken back:
    the call happened, and what the agent typed must not be lost. With ``claim_started_at`` (the call
    screen proved the agent held this call, contacts.calls.claims.claim_token) the outcome is accepted
    while the call is not closed, even if it went to another agent meanwhile: that agent's claim ends
    here, and their screen says who recorded the call (contacts.calls.claims.keep_claim).
    """
    Customer.objects.select_for_update().filter(pk=task.customer_id).first()
    task = CallTask.objects.select_for_update().select_related("customer", "dealership").get(pk=task.pk)
    if task.status == CallTask.Status.CLAIMED and task.claimed_by_id == agent.pk:
        return task
    if claim_started_at is not None and task.status in (CallTask.Status.OPEN, CallTask.Status.CLAIMED):
        CallTask.objects.filter(pk=task.pk).update(
            status=CallTask.Status.CLAIMED, claimed_by=agent, claimed_at=claim_started_at, claim_seen_at=now
        )
        task.status, task.claimed_by, task.claimed_at = CallTask.Status.CLAIMED, agent, claim_started_at
        return task
    if task.status == CallTask.Status.OPEN and task.claimed_by_id == agent.pk and task.assigned_to_id in (None, agent.pk):
        task.claimed_at = task.claimed_at or now
        CallTask.objects.filter(pk=task.pk, status=CallTask.Status.OPEN).update(
            status=CallTask.Status.CLAIMED, claimed_at=task.claimed_at
        )
        task.status = CallTask.Status.CLAIMED
        return task
    if task.status == CallTask.Status.DONE:
        raise OutcomeError(closed_call_message(task=task, agent=agent))
    if task.status == CallTask.Status.CANCELLED:
        raise OutcomeError(_("This call is already closed; its outcome was recorded before or it was cancelled."))
    raise OutcomeError(_("This call is no longer yours: it went back to the queue or another agent has it."))


def record_outcome(
    *,
    task: CallTask,
    agent: User,
    outcome: str,
    now: dt.datetime,
    note: str = "",
    odometer_km: int | None = None,
    vehicle: Vehicle | None = None,
    callback_at: dt.datetime | None = None,
    booked_on: dt.date | None = None,
    booked_time: dt.time | None = None,
    department: Department | None = None,
    reason: str | None = None,
    results: dict[str, str] | None = None,
    channels: Sequence[str] = (Channel.CALL,),
    purposes: Sequence[str] = (),
    deadline: dt.date | None = None,
    claim_started_at: dt.datetime | None = None,
    topic: str = "",
    temperature: str = "",
) -> CallAttempt:
    """Record one call's outcome (see the module docstring). Raises OutcomeError, writing nothing.

    ``claim_started_at``: when the agent's own claim on this call began, as their call screen proved
    it (``_take_for_outcome``); without it, the call must still be theirs or free.
    """
    with transaction.atomic():
        taken = _take_for_outcome(task=task, agent=agent, now=now, claim_started_at=claim_started_at)
        return _record_outcome(
            task=taken, agent=agent, outcome=outcome, now=now,
            note=(note or "").strip(), odometer_km=odometer_km, vehicle=vehicle, callback_at=callback_at,
            booked_on=booked_on, booked_time=booked_time, department=department, reason=reason, results=results or {},
            channels=channels, purposes=purposes, deadline=deadline, topic=topic, temperature=temperature,
        )


def _record_outcome(
    *, task: CallTask, agent: User, outcome: str, now: dt.datetime, note: str, odometer_km: int | None,
    vehicle: Vehicle | None, callback_at: dt.datetime | None, booked_on: dt.date | None, booked_time: dt.time | None,
    department: Department | None, reason: str | None, results: dict[str, str], channels: Sequence[str],
    deadline: dt.date | None, purposes: Sequence[str] = (), topic: str = "", temperature: str = "",
) -> CallAttempt:
    """Validate everything, then write: the attempt, what every outcome records, then the outcome's own writer."""
    if outcome not in Outcome.values:
        raise OutcomeError(_("Choose an outcome."))
    dealership = task.dealership
    given = GivenOutcome(
        task=task, agent=agent, outcome=outcome, now=now, today=dealership.local_date(now),
        rules=ContactRules.for_dealership(dealership),
        vehicles=list(Vehicle.objects.filter(owner=task.customer, is_active=True).order_by("id")),
        vehicle=vehicle, note=note, odometer_km=odometer_km, callback_at=callback_at, booked_on=booked_on,
        booked_time=booked_time, department=department, reason=reason, channels=channels, deadline=deadline,
        purposes=purposes, topic=topic, temperature=temperature,
    )
    validate(given, results)
    before = undo.remember_before_outcome(task=task, outcome=outcome)
    attempt = CallAttempt.objects.create(
        call_task=task, customer=task.customer, agent=agent, started_at=task.claimed_at or now, ended_at=now,
        outcome=outcome, note=note[:2000], odometer_km=odometer_km, vehicle=given.vehicle, detail=given.detail,
    )
    task.attempts += 1
    task.outcome = outcome
    replan_ids = record_what_every_outcome_tells(given)
    replan_ids |= WRITERS[outcome](given, attempt)
    # Kept now, not on commit: should the transaction roll back, the note names an attempt that does not
    # exist, and undo_outcome says the call changed.
    undo.keep_for_undo(attempt=attempt, before=before, reading_id=given.reading_id)
    if replan_ids:
        queueing.replan_on_commit(replan_ids)
    return attempt
