"""Working the queue: claim the next call, record its outcome, release stale claims.

Claims are exclusive under any concurrency: on PostgreSQL the candidate row is locked with
``select_for_update(skip_locked=True)``; everywhere the claim itself is a conditional UPDATE that must
change exactly one row. Outcomes write the call attempt, move the task and its touchpoints, and record
what the customer told us (mileage, do-not-call, booking, churn reason, hot lead).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts import tasks
from contacts.models import (
    REACHED_OUTCOMES,
    CallAttempt,
    CallTask,
    ContactRules,
    Department,
    Handoff,
    Touchpoint,
)
from customers.models import Consent, Customer, Dealership, OdometerReading, Vehicle

Outcome = CallAttempt.Outcome
# Reasons a customer gives for servicing elsewhere (a churn signal), shown as a catalogue.
CHURN_REASONS = {
    "price": gettext_lazy("Price"),
    "distance": gettext_lazy("Too far"),
    "quality": gettext_lazy("Quality of work"),
    "warranty_ended": gettext_lazy("Warranty ended"),
    "independent_garage": gettext_lazy("Independent garage"),
    "other": gettext_lazy("Other"),
}
# A reading lower than the last known one by more than this is refused as a likely typo.
READING_TYPO_MARGIN_KM = 500
# No answer: retried later that day, the next working day, then in three days (DESIGN.md); the
# fourth unanswered attempt closes the task and counts one failure of the phone.
MAX_ATTEMPTS = 4
TOUCHPOINT_DONE_OUTCOMES = frozenset(
    {Outcome.REACHED, Outcome.BOOKED, Outcome.HOT_LEAD, Outcome.SERVICED_ELSEWHERE, Outcome.SOLD_CAR, Outcome.DO_NOT_CALL}
)


class OutcomeError(ValueError):
    """Bad input for an outcome, in plain words for the agent."""


@dataclass(frozen=True)
class ClaimResult:
    task: CallTask | None
    message: str = ""


def local_now(dealership: Dealership, now: dt.datetime) -> dt.datetime:
    return now.astimezone(dealership.zone)


def within_call_hours(dealership: Dealership, now: dt.datetime) -> bool:
    local = local_now(dealership, now).time()
    return dealership.call_hours_start <= local < dealership.call_hours_end


def release_stale_claims(*, now: dt.datetime) -> int:
    """Claims idle longer than the dealership's limit go back to the pool."""
    released = 0
    claimed_in = CallTask.objects.filter(status=CallTask.Status.CLAIMED).values_list("dealership_id", flat=True).distinct()
    for dealership in Dealership.objects.filter(id__in=claimed_in):
        rules = ContactRules.for_dealership(dealership)
        released += (
            CallTask.objects.filter(dealership=dealership)
            .stale_claims(now, rules.claim_timeout_minutes)
            .update(status=CallTask.Status.OPEN, claimed_by=None, claimed_at=None)
        )
    return released


def queue_for(*, dealerships: Any, day: dt.date) -> Any:
    """Open work of the day (all of it, unordered): for counting."""
    return CallTask.objects.filter(dealership__in=dealerships, scheduled_on__lte=day, status=CallTask.Status.OPEN)


def queue_in_order(*, dealerships: Any, day: dt.date, now: dt.datetime, limit: int) -> list[CallTask]:
    """Callbacks that are due first (by time), then planned calls by priority and deadline.

    Two queries, each walking an index in order (call_task_claim_order), instead of one ORDER BY over
    callback_at that would sort the whole day's queue on every page load.
    """
    open_work = queue_for(dealerships=dealerships, day=day).select_related("customer", "dealership")
    callbacks = list(open_work.filter(callback_at__lte=now).order_by("callback_at", "id")[:limit])
    planned = list(open_work.filter(callback_at__isnull=True).order_by("priority", "window_end", "id")[: limit - len(callbacks)])
    return callbacks + planned


def claim_next_call(*, agent: Any, dealerships: Any, now: dt.datetime) -> ClaimResult:
    """Give the agent their current claim, or claim the next open task of their dealerships."""
    held = CallTask.objects.filter(claimed_by=agent, status=CallTask.Status.CLAIMED).first()
    if held is not None:
        return ClaimResult(held)
    open_now = [d for d in dealerships if within_call_hours(d, now)]
    if not open_now:
        return ClaimResult(None, _("It is outside call hours in your dealership: no calls now."))
    day = max(local_now(d, now).date() for d in open_now)
    mine = Q(assigned_to__isnull=True) | Q(assigned_to=agent)
    for _attempt in range(5):
        with transaction.atomic():
            open_work = queue_for(dealerships=open_now, day=day).filter(mine)
            task = None
            for candidates in (
                open_work.filter(callback_at__lte=now).order_by("callback_at", "id"),
                open_work.filter(callback_at__isnull=True).order_by("priority", "window_end", "id"),
            ):
                if connection.vendor == "postgresql":
                    # Another agent's row lock means "taken": skip it instead of waiting for it.
                    candidates = candidates.select_for_update(skip_locked=True)
                task = candidates.first()
                if task is not None:
                    break
            if task is None:
                return ClaimResult(None, _("The queue is empty for now. Well done!"))
            if Consent.objects.filter(customer_id=task.customer_id, channel="call", is_allowed=False).exists():
                CallTask.objects.filter(pk=task.pk, status=CallTask.Status.OPEN).update(
                    status=CallTask.Status.CANCELLED, outcome="do_not_call"
                )
                continue
            claimed = CallTask.objects.filter(pk=task.pk, status=CallTask.Status.OPEN).update(
                status=CallTask.Status.CLAIMED, claimed_by=agent, claimed_at=now
            )
            if claimed == 1:
                task.status, task.claimed_by, task.claimed_at = CallTask.Status.CLAIMED, agent, now
                return ClaimResult(task)
    return ClaimResult(None, _("Everyone is busy with the same calls; try again in a moment."))


def release_call(*, task: CallTask) -> bool:
    return (
        CallTask.objects.filter(pk=task.pk, status=CallTask.Status.CLAIMED).update(
            status=CallTask.Status.OPEN, claimed_by=None, claimed_at=None
        )
        == 1
    )


def _next_working_day(day: dt.date, rules: ContactRules) -> dt.date:
    working = {int(c) - 1 for c in rules.working_weekdays}
    candidate = day + dt.timedelta(days=1)
    for _i in range(14):
        if candidate.weekday() in working:
            return candidate
        candidate += dt.timedelta(days=1)
    return day + dt.timedelta(days=1)


def _validate_reading(*, vehicle: Vehicle, odometer_km: int, day: dt.date) -> None:
    if odometer_km <= 0 or odometer_km > 2_000_000:
        raise OutcomeError(_("Mileage %(km)s km is not plausible.") % {"km": odometer_km})
    last = OdometerReading.objects.filter(vehicle=vehicle, read_on__lte=day).order_by("-read_on", "-id").first()
    if last is not None and odometer_km < last.odometer_km - READING_TYPO_MARGIN_KM:
        raise OutcomeError(
            _("Mileage %(km)s km is lower than the %(last)s km recorded on %(day)s: please check it.")
            % {"km": odometer_km, "last": last.odometer_km, "day": last.read_on.strftime("%d.%m.%Y")}
        )


def _set_do_not_call(*, customer: Customer, now: dt.datetime, reason: str, channel: str = "call") -> None:
    # The customer row is locked first, as the queue build does: a build running now either saw
    # the refusal or its new tasks are cancelled here.
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    Consent.objects.update_or_create(
        customer=customer, channel=channel, defaults={"is_allowed": False, "changed_at": now, "reason": reason[:300]}
    )
    if channel == "call":
        open_tasks = CallTask.objects.filter(
            customer=customer, status__in=[CallTask.Status.OPEN, CallTask.Status.CLAIMED]
        )
        Touchpoint.objects.filter(call_item__call_task__in=open_tasks, status=Touchpoint.Status.ISSUED).update(
            status=Touchpoint.Status.SUPPRESSED, resolution="do_not_contact:call"
        )
        open_tasks.update(status=CallTask.Status.CANCELLED, outcome="do_not_call")
    Touchpoint.objects.filter(customer=customer, status=Touchpoint.Status.PLANNED, template__channel=channel).update(
        status=Touchpoint.Status.SUPPRESSED, resolution=f"do_not_contact:{channel}"
    )


def _count_phone_failure(*, customer: Customer, rules: ContactRules, today: dt.date) -> None:
    Customer.objects.filter(pk=customer.pk).update(phone_failures=F("phone_failures") + 1)
    customer.refresh_from_db(fields=["phone_failures"])
    if customer.phone_failures >= rules.unreachable_after_failures:
        Customer.objects.filter(pk=customer.pk).update(phone_unreachable_since=today)
        CallTask.objects.filter(customer=customer, status=CallTask.Status.OPEN).update(
            status=CallTask.Status.CANCELLED, outcome="unreachable"
        )


def _reschedule(*, task: CallTask, day: dt.date, rules: ContactRules, callback_at: dt.datetime | None = None) -> None:
    """Move a retry to a later day; a day outside its window or too close to another call ends it."""
    task.scheduled_on = day
    task.window_end = max(task.window_end, day)
    task.blocks_until = day + dt.timedelta(days=max(1, rules.min_days_between_calls))
    task.callback_at = callback_at
    task.status = CallTask.Status.OPEN
    task.claimed_by = None
    task.claimed_at = None
    try:
        with transaction.atomic():
            task.save(update_fields=["scheduled_on", "window_end", "blocks_until", "callback_at", "status", "claimed_by", "claimed_at", "attempts", "outcome"])
    except IntegrityError:
        # Another call of this customer sits inside the gap: that call will carry the conversation.
        CallTask.objects.filter(pk=task.pk).update(status=CallTask.Status.DONE, completed_at=timezone.now())


def _handoff(
    *, task: CallTask, attempt: CallAttempt, department: Department, kind: str, notes: str, deadline: dt.date,
    vehicle: Vehicle | None, booked_on: dt.date | None = None,
) -> Handoff:
    return Handoff.objects.create(
        dealership=task.dealership, customer=task.customer, vehicle=vehicle, department=department, kind=kind,
        notes=notes, deadline=deadline, booked_on=booked_on, created_from=attempt,
    )


@transaction.atomic
def record_outcome(
    *,
    task: CallTask,
    agent: Any,
    outcome: str,
    now: dt.datetime,
    note: str = "",
    odometer_km: int | None = None,
    vehicle: Vehicle | None = None,
    callback_at: dt.datetime | None = None,
    booked_on: dt.date | None = None,
    department: Department | None = None,
    reason: str | None = None,
    results: dict[str, str] | None = None,
) -> CallAttempt:
    """Record one call's outcome. Raises OutcomeError (plain words) on bad input; writes nothing then."""
    task = CallTask.objects.select_for_update().select_related("customer", "dealership").get(pk=task.pk)
    if task.status != CallTask.Status.CLAIMED or task.claimed_by_id != agent.pk:
        raise OutcomeError(_("This call is no longer yours: it was released or taken by someone else."))
    if outcome not in Outcome.values:
        raise OutcomeError(_("Choose an outcome."))
    rules = ContactRules.for_dealership(task.dealership)
    today = local_now(task.dealership, now).date()
    customer = task.customer
    vehicles = list(Vehicle.objects.filter(owner=customer, is_active=True))
    if vehicle is None and len(vehicles) == 1:
        vehicle = vehicles[0]
    detail: dict[str, Any] = {"results": results or {}}
    # Validate everything first: nothing is written when the input is wrong.
    if odometer_km is not None:
        if vehicle is None:
            raise OutcomeError(_("Choose which car the mileage is for."))
        _validate_reading(vehicle=vehicle, odometer_km=odometer_km, day=today)
    if outcome == Outcome.CALL_BACK:
        if callback_at is None or callback_at <= now:
            raise OutcomeError(_("Give a time in the future to call back."))
        if (callback_at - now).days > 60:
            raise OutcomeError(_("A call back must be within 60 days."))
    if outcome == Outcome.BOOKED and (booked_on is None or booked_on < today):
        raise OutcomeError(_("Give the booked date (today or later)."))
    if outcome == Outcome.SERVICED_ELSEWHERE:
        if reason not in CHURN_REASONS:
            raise OutcomeError(_("Choose why the customer services elsewhere."))
        detail["reason"] = reason
    if outcome == Outcome.HOT_LEAD and (department is None or not department.takes_handoffs):
        raise OutcomeError(_("Choose the department to hand the customer to."))
    if outcome == Outcome.SOLD_CAR and vehicle is None:
        raise OutcomeError(_("Choose which car was sold."))

    attempt = CallAttempt.objects.create(
        call_task=task, customer=customer, agent=agent, started_at=task.claimed_at, ended_at=now,
        outcome=outcome, note=note[:2000], odometer_km=odometer_km, vehicle=vehicle, detail=detail,
    )
    task.attempts = F("attempts") + 1
    task.outcome = outcome
    replan_ids: set[int] = set()
    if odometer_km is not None and vehicle is not None:
        OdometerReading.objects.create(vehicle=vehicle, read_on=today, odometer_km=odometer_km, source="call")
        replan_ids.add(vehicle.id)
    if outcome in REACHED_OUTCOMES:
        Customer.objects.filter(pk=customer.pk).update(phone_failures=0)

    if outcome == Outcome.NO_ANSWER:
        task.save(update_fields=["attempts", "outcome"])
        task.refresh_from_db(fields=["attempts"])
        if task.attempts >= MAX_ATTEMPTS:
            _finish(task, now)
            _count_phone_failure(customer=customer, rules=rules, today=today)
        else:
            later_today = now + dt.timedelta(hours=2)
            if task.attempts == 1 and within_call_hours(task.dealership, later_today):
                _reschedule(task=task, day=today, rules=rules, callback_at=later_today)
            elif task.attempts <= 2:
                _reschedule(task=task, day=_next_working_day(today, rules), rules=rules)
            else:
                day = today + dt.timedelta(days=3)
                working = {int(c) - 1 for c in rules.working_weekdays}
                while day.weekday() not in working:
                    day += dt.timedelta(days=1)
                _reschedule(task=task, day=day, rules=rules)
        return attempt
    if outcome == Outcome.WRONG_NUMBER:
        _finish(task, now)
        _count_phone_failure(customer=customer, rules=rules, today=today)
        return attempt
    if outcome == Outcome.CALL_BACK:
        assert callback_at is not None
        day = local_now(task.dealership, callback_at).date()
        _finish(task, now)
        CallTask.objects.create(
            dealership=task.dealership, customer=customer, kind=CallTask.Kind.CALLBACK, is_requested=True,
            scheduled_on=day, window_start=day, window_end=day + dt.timedelta(days=2),
            blocks_until=day + dt.timedelta(days=1), callback_at=callback_at, priority=task.priority,
            agenda=task.agenda, script=task.script, explanation=task.explanation, previous=task,
            assigned_to=agent,
        )
        return attempt

    _finish(task, now)
    if outcome in TOUCHPOINT_DONE_OUTCOMES:
        Touchpoint.objects.filter(call_item__call_task=task).update(status=Touchpoint.Status.DONE)
        for position, text in (results or {}).items():
            task.items.filter(position=int(position)).update(result=text[:200])
    if outcome == Outcome.DO_NOT_CALL:
        _set_do_not_call(customer=customer, now=now, reason=note or _("Asked not to be called"))
    elif outcome == Outcome.BOOKED:
        service = Department.objects.get(code="service")
        _handoff(task=task, attempt=attempt, department=service, kind=Handoff.Kind.BOOKING, notes=note,
                 deadline=booked_on or today, vehicle=vehicle, booked_on=booked_on)
        if vehicle is not None:
            replan_ids.add(vehicle.id)
    elif outcome == Outcome.SOLD_CAR and vehicle is not None:
        Vehicle.objects.filter(pk=vehicle.pk).update(is_active=False)
        replan_ids.add(vehicle.id)
    elif outcome == Outcome.HOT_LEAD and department is not None:
        _handoff(task=task, attempt=attempt, department=department, kind=Handoff.Kind.HOT_LEAD, notes=note,
                 deadline=_next_working_day(today, rules), vehicle=vehicle)
    if outcome in REACHED_OUTCOMES:
        replan_ids.update(v.id for v in vehicles)  # a reached call resets keep-alive and lapsed
    if replan_ids:
        tasks.replan_vehicles.delay_on_commit(sorted(replan_ids))
    return attempt


def _finish(task: CallTask, now: dt.datetime) -> None:
    task.status = CallTask.Status.DONE
    task.completed_at = now
    task.save(update_fields=["attempts", "outcome", "status", "completed_at"])
