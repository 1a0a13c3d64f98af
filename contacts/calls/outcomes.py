"""Recording a call's outcome and what follows from it: retries, callbacks, do-not-call, bookings.

An outcome writes one CallAttempt, moves the task (done, retried, or replaced by a callback) and its
touchpoints, and records what the customer told us: mileage, do-not-call, a booking, a churn reason,
a sold car or a hot lead. Bad input raises ``OutcomeError`` in plain words and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts import queueing
from contacts.calls import undo
from contacts.calls.claims import closed_call_message
from contacts.calls.errors import OutcomeError
from contacts.calls.schedule import (
    first_working_day_from,
    is_within_call_hours,
    is_working_day,
    local_now,
    next_working_day,
)
from contacts.models import (
    REACHED_OUTCOMES,
    CallAttempt,
    CallTask,
    ContactRules,
    Department,
    Handoff,
    Touchpoint,
)
from customers.core.calendar import MONTH_DAYS
from customers.core.readings import MAX_PLAUSIBLE_KM_PER_MONTH, PLAUSIBLE_SLACK_KM
from customers.models import (
    Channel,
    Customer,
    Dealership,
    OdometerReading,
    RefusalSource,
    Vehicle,
    VehicleForecast,
)
from customers.refusals import record_refusal

Outcome = CallAttempt.Outcome
# Why a customer services elsewhere: the churn catalogue (stored in CallAttempt.detail["reason"]).
CHURN_REASONS = {
    "price": gettext_lazy("Price"),
    "distance": gettext_lazy("Too far"),
    "quality": gettext_lazy("Quality of work"),
    "warranty_ended": gettext_lazy("Warranty ended"),
    "independent_garage": gettext_lazy("Independent garage"),
    "other": gettext_lazy("Other"),
}
# Customers round their mileage ("about fifteen thousand"): a reading this much below the last one is
# accepted (the estimator flags it if it matters); further below is a typo, and the agent is asked.
READING_TYPO_MARGIN_KM = 1000
MAX_ODOMETER_KM = 2_000_000
# No answer: the first call and three retries (later today, the next working day, in three days,
# DESIGN.md "Outcomes of a call"); when the third retry is not answered either, the task closes and
# the phone counts one failure.
RETRY_DELAYS = ("later_today", "next_working_day", "in_three_days")
MAX_CALLS_PER_TASK = 1 + len(RETRY_DELAYS)
LATER_TODAY = dt.timedelta(hours=2)
CALLBACK_HORIZON_DAYS = 60


def validate_reading(*, vehicle: Vehicle, odometer_km: int, day: dt.date) -> None:
    """A mileage the customer told us: a positive number, not a rollback, not an impossible jump."""
    if odometer_km <= 0 or odometer_km > MAX_ODOMETER_KM:
        raise OutcomeError(_("A mileage of %(km)s km is not possible: check the number.") % {"km": odometer_km})
    # Readings the mileage estimator set aside (a typo in the DMS, a rollback) are not "the last known".
    forecast = VehicleForecast.objects.filter(vehicle=vehicle).only("flagged_readings").first()
    flagged = {item.get("reading_id") for item in (forecast.flagged_readings if forecast else [])} - {None}
    last = (
        OdometerReading.objects.filter(vehicle=vehicle, read_on__lte=day)
        .exclude(pk__in=flagged)
        .order_by("-read_on", "-odometer_km", "-id")
        .first()
    )
    if last is None:
        return
    if odometer_km < last.odometer_km - READING_TYPO_MARGIN_KM:
        raise OutcomeError(
            _("%(km)s km is lower than the %(last)s km recorded on %(day)s: please check the number with the customer.")
            % {"km": odometer_km, "last": last.odometer_km, "day": last.read_on.strftime("%d.%m.%Y")}
        )
    days = max(1, (day - last.read_on).days)
    ceiling = last.odometer_km + MAX_PLAUSIBLE_KM_PER_MONTH * days / MONTH_DAYS + PLAUSIBLE_SLACK_KM
    if odometer_km > ceiling:
        raise OutcomeError(
            _("%(km)s km is %(more)s km more than the %(last)s km recorded on %(day)s: too much for the time; please check the number.")
            % {"km": odometer_km, "more": odometer_km - last.odometer_km, "last": last.odometer_km,
               "day": last.read_on.strftime("%d.%m.%Y")}
        )


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
    deadline: dt.date | None = None,
    claim_started_at: dt.datetime | None = None,
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
            channels=channels, deadline=deadline,
        )


@dataclass
class _Outcome:
    """An outcome as the agent gave it, checked and completed by ``_validate`` before anything is written."""

    task: CallTask
    agent: User
    outcome: str
    now: dt.datetime
    today: dt.date
    rules: ContactRules
    vehicles: list[Vehicle]  # the customer's active cars
    vehicle: Vehicle | None
    note: str
    odometer_km: int | None
    callback_at: dt.datetime | None
    booked_on: dt.date | None
    booked_time: dt.time | None  # the dealership's wall clock
    department: Department | None
    reason: str | None
    channels: Sequence[str]
    deadline: dt.date | None
    agenda_results: dict[str, str] = field(default_factory=dict)
    booked_at: dt.datetime | None = None
    reading_id: int | None = None  # the mileage reading this outcome wrote
    detail: dict[str, Any] = field(default_factory=dict)  # stored in CallAttempt.detail


def _record_outcome(
    *, task: CallTask, agent: User, outcome: str, now: dt.datetime, note: str, odometer_km: int | None,
    vehicle: Vehicle | None, callback_at: dt.datetime | None, booked_on: dt.date | None, booked_time: dt.time | None,
    department: Department | None, reason: str | None, results: dict[str, str], channels: Sequence[str],
    deadline: dt.date | None,
) -> CallAttempt:
    """Validate everything, then write: the attempt, what every outcome records, then the outcome's own writer."""
    if outcome not in Outcome.values:
        raise OutcomeError(_("Choose an outcome."))
    dealership = task.dealership
    given = _Outcome(
        task=task, agent=agent, outcome=outcome, now=now, today=dealership.local_date(now),
        rules=ContactRules.for_dealership(dealership),
        vehicles=list(Vehicle.objects.filter(owner=task.customer, is_active=True).order_by("id")),
        vehicle=vehicle, note=note, odometer_km=odometer_km, callback_at=callback_at, booked_on=booked_on,
        booked_time=booked_time, department=department, reason=reason, channels=channels, deadline=deadline,
    )
    _validate(given, results)
    before = undo.remember_before_outcome(task=task, outcome=outcome)
    attempt = CallAttempt.objects.create(
        call_task=task, customer=task.customer, agent=agent, started_at=task.claimed_at or now, ended_at=now,
        outcome=outcome, note=note[:2000], odometer_km=odometer_km, vehicle=given.vehicle, detail=given.detail,
    )
    task.attempts += 1
    task.outcome = outcome
    replan_ids = _record_what_every_outcome_tells(given)
    replan_ids |= _WRITERS[outcome](given, attempt)
    # Kept now, not on commit: should the transaction roll back, the note names an attempt that does not
    # exist, and undo_outcome says the call changed.
    undo.keep_for_undo(attempt=attempt, before=before, reading_id=given.reading_id)
    if replan_ids:
        queueing.replan_on_commit(replan_ids)
    return attempt


def _validate(given: _Outcome, results: dict[str, str]) -> None:
    """The checks every outcome shares (the car, the mileage, the topics' results), then the outcome's own."""
    if given.vehicle is not None and given.vehicle.pk not in {v.pk for v in given.vehicles}:
        raise OutcomeError(_("That car is not an active car of this customer."))
    if given.vehicle is None and len(given.vehicles) == 1:
        given.vehicle = given.vehicles[0]
    if given.odometer_km is not None:
        if given.vehicle is None:
            raise OutcomeError(_("Choose which car the mileage is for."))
        validate_reading(vehicle=given.vehicle, odometer_km=given.odometer_km, day=given.today)
    given.agenda_results = _agenda_results(given.task, results)
    if given.agenda_results:
        given.detail["results"] = given.agenda_results
    check = _CHECKS.get(given.outcome)
    if check is not None:
        check(given)


def _check_call_back(given: _Outcome) -> None:
    _validate_callback(dealership=given.task.dealership, rules=given.rules, callback_at=given.callback_at, now=given.now)
    assert given.callback_at is not None
    given.detail["callback_at"] = given.callback_at.isoformat()


def _check_booked(given: _Outcome) -> None:
    if given.booked_on is None or given.booked_on < given.today:
        raise OutcomeError(_("Give the date the customer booked (today or later)."))
    if given.booked_on > given.today + dt.timedelta(days=365):
        raise OutcomeError(_("A booking more than a year ahead is not possible: check the date."))
    if given.vehicle is None and given.vehicles:
        raise OutcomeError(_("Choose which car is booked."))
    given.department = Department.objects.filter(code="service", is_active=True).first()
    if given.department is None:
        raise OutcomeError(_("No service department receives bookings yet: ask your administrator."))
    given.detail["booked_on"] = given.booked_on.isoformat()
    if given.booked_time is not None:
        given.booked_at = dt.datetime.combine(given.booked_on, given.booked_time, tzinfo=given.task.dealership.zone)
        if given.booked_at <= given.now:
            raise OutcomeError(_("The booked time has passed already: give a later time."))
        given.detail["booked_at"] = given.booked_at.isoformat()


def _check_serviced_elsewhere(given: _Outcome) -> None:
    if given.reason not in CHURN_REASONS:
        raise OutcomeError(_("Choose why the customer services elsewhere."))
    given.detail["reason"] = given.reason


def _check_hot_lead(given: _Outcome) -> None:
    if given.department is None or not given.department.takes_handoffs:
        raise OutcomeError(_("Choose the department to hand the customer to."))
    if not given.note:
        raise OutcomeError(_("Write in the note what the customer wants, so the specialist need not ask again."))
    given.deadline = given.deadline or next_working_day(given.today, dealership=given.task.dealership, rules=given.rules)
    if given.deadline < given.today:
        raise OutcomeError(_("The hand-off deadline cannot be in the past."))
    given.detail["department"] = given.department.code


def _check_sold_car(given: _Outcome) -> None:
    if given.vehicle is None:
        raise OutcomeError(_("Choose which car the customer sold."))


def _check_do_not_call(given: _Outcome) -> None:
    given.channels = sorted({Channel.CALL, *given.channels})
    if not set(given.channels) <= set(Channel.values):
        raise OutcomeError(_("Unknown channel."))
    given.detail["channels"] = given.channels


_CHECKS: dict[str, Callable[[_Outcome], None]] = {
    Outcome.CALL_BACK: _check_call_back,
    Outcome.BOOKED: _check_booked,
    Outcome.SERVICED_ELSEWHERE: _check_serviced_elsewhere,
    Outcome.HOT_LEAD: _check_hot_lead,
    Outcome.SOLD_CAR: _check_sold_car,
    Outcome.DO_NOT_CALL: _check_do_not_call,
}


def _record_what_every_outcome_tells(given: _Outcome) -> set[int]:
    """A mileage, and for a reached customer a working phone; returns the cars to re-plan."""
    replan_ids: set[int] = set()
    if given.odometer_km is not None and given.vehicle is not None:
        given.reading_id = OdometerReading.objects.create(
            vehicle=given.vehicle, read_on=given.today, odometer_km=given.odometer_km, source=OdometerReading.Source.CALL
        ).pk
        replan_ids.add(given.vehicle.pk)
    if given.outcome in REACHED_OUTCOMES:
        Customer.objects.filter(pk=given.task.customer_id).update(phone_failures=0, phone_unreachable_since=None)
        replan_ids.update(v.pk for v in given.vehicles)  # a reached call resets keep-alive and "lapsed"
    return replan_ids


def _write_no_answer(given: _Outcome, attempt: CallAttempt) -> set[int]:
    _retry_or_give_up(task=given.task, customer=given.task.customer, rules=given.rules, now=given.now, today=given.today)
    return set()


def _write_wrong_number(given: _Outcome, attempt: CallAttempt) -> set[int]:
    _finish(given.task, given.now, touchpoints_to=Touchpoint.Status.SUPPRESSED, resolution="not_reached:wrong_number")
    _count_phone_failure(customer=given.task.customer, rules=given.rules, today=given.today)
    return set()


def _write_call_back(given: _Outcome, attempt: CallAttempt) -> set[int]:
    assert given.callback_at is not None
    _finish(given.task, given.now)
    _create_callback(task=given.task, agent=given.agent, callback_at=given.callback_at, rules=given.rules)
    return set()


def _write_agenda_done(given: _Outcome, attempt: CallAttempt) -> set[int]:
    """The agenda was talked through: its touchpoints are done, each with the result the agent typed."""
    _finish(given.task, given.now, touchpoints_to=Touchpoint.Status.DONE, resolution=f"call:{given.outcome}")
    for position, text in given.agenda_results.items():
        given.task.items.filter(position=int(position)).update(result=text)
    return set()


def _write_do_not_call(given: _Outcome, attempt: CallAttempt) -> set[int]:
    _write_agenda_done(given, attempt)
    set_do_not_contact(
        customer=given.task.customer, channels=given.channels, now=given.now,
        reason=given.note or _("Asked during a call not to be contacted"),
    )
    return set()


def _write_booked(given: _Outcome, attempt: CallAttempt) -> set[int]:
    _write_agenda_done(given, attempt)
    assert given.department is not None and given.booked_on is not None
    dealership = given.task.dealership
    Handoff.objects.create(
        dealership=dealership, customer=given.task.customer, vehicle=given.vehicle, department=given.department,
        kind=Handoff.Kind.BOOKING, notes=given.note, booked_on=given.booked_on, booked_at=given.booked_at,
        created_from=attempt,
        # Service confirms the booking by the next working day, and never after the visit itself.
        deadline=min(given.booked_on, next_working_day(given.today, dealership=dealership, rules=given.rules)),
    )
    return set()


def _write_sold_car(given: _Outcome, attempt: CallAttempt) -> set[int]:
    _write_agenda_done(given, attempt)
    assert given.vehicle is not None
    Vehicle.objects.filter(pk=given.vehicle.pk).update(is_active=False)
    return {given.vehicle.pk}


def _write_hot_lead(given: _Outcome, attempt: CallAttempt) -> set[int]:
    _write_agenda_done(given, attempt)
    assert given.department is not None and given.deadline is not None
    Handoff.objects.create(
        dealership=given.task.dealership, customer=given.task.customer, vehicle=given.vehicle,
        department=given.department, kind=Handoff.Kind.HOT_LEAD, notes=given.note, deadline=given.deadline,
        created_from=attempt,
    )
    return set()


# One writer per outcome (a test checks that every outcome has one).
_WRITERS: dict[str, Callable[[_Outcome, CallAttempt], set[int]]] = {
    Outcome.REACHED: _write_agenda_done,
    Outcome.NO_ANSWER: _write_no_answer,
    Outcome.CALL_BACK: _write_call_back,
    Outcome.BOOKED: _write_booked,
    Outcome.HOT_LEAD: _write_hot_lead,
    Outcome.WRONG_NUMBER: _write_wrong_number,
    Outcome.SERVICED_ELSEWHERE: _write_agenda_done,
    Outcome.SOLD_CAR: _write_sold_car,
    Outcome.DO_NOT_CALL: _write_do_not_call,
}


def _agenda_results(task: CallTask, results: dict[str, str]) -> dict[str, str]:
    """Short results per agenda item, keyed by the item's position ("0", "1", ...)."""
    cleaned = {}
    for position, text in results.items():
        text = (text or "").strip()
        if not text:
            continue
        if not str(position).isdigit() or int(position) >= max(1, len(task.agenda)):
            raise OutcomeError(_("A result was given for a topic that is not on this call."))
        cleaned[str(int(position))] = text[:200]
    return cleaned


def _validate_callback(
    *, dealership: Dealership, rules: ContactRules, callback_at: dt.datetime | None, now: dt.datetime
) -> None:
    if callback_at is None:
        raise OutcomeError(_("Give the day and time the customer asked to be called back."))
    if callback_at <= now:
        raise OutcomeError(_("The call-back time has passed already: give a time in the future."))
    if callback_at > now + dt.timedelta(days=CALLBACK_HORIZON_DAYS):
        raise OutcomeError(_("A call back must be within %(days)s days.") % {"days": CALLBACK_HORIZON_DAYS})
    day = dealership.local_date(callback_at)
    if not is_working_day(day, dealership=dealership, rules=rules):
        # Weekends and public holidays block calls, a requested one too: nobody works the queue then.
        raise OutcomeError(
            _("%(day)s is not a working day of the call centre: agree a call back on a working day.")
            % {"day": formats.date_format(day, "DATE_FORMAT")}
        )
    if not is_within_call_hours(dealership, callback_at):
        raise OutcomeError(
            _("%(time)s is outside call hours (%(start)s to %(end)s): agree a time inside them.")
            % {"time": local_now(dealership, callback_at).strftime("%H:%M"),
               "start": dealership.call_hours_start.strftime("%H:%M"), "end": dealership.call_hours_end.strftime("%H:%M")}
        )


def _finish(task: CallTask, now: dt.datetime, *, touchpoints_to: str = "", resolution: str = "") -> None:
    task.status = CallTask.Status.DONE
    task.completed_at = now
    task.save(update_fields=["attempts", "outcome", "status", "completed_at"])
    if touchpoints_to:
        Touchpoint.objects.filter(call_item__call_task=task, status=Touchpoint.Status.ISSUED).update(
            status=touchpoints_to, resolution=resolution
        )


def _retry_or_give_up(*, task: CallTask, customer: Customer, rules: ContactRules, now: dt.datetime, today: dt.date) -> None:
    """No answer: later today (if call hours allow), the next working day, in three days; then give up."""
    if task.attempts >= MAX_CALLS_PER_TASK:
        _finish(task, now, touchpoints_to=Touchpoint.Status.SUPPRESSED, resolution="not_reached:no_answer")
        _count_phone_failure(customer=customer, rules=rules, today=today)
        return
    dealership = task.dealership
    delay = RETRY_DELAYS[task.attempts - 1]
    later = now + LATER_TODAY
    if delay == "later_today" and is_within_call_hours(dealership, later) and dealership.local_date(later) == today:
        _move(task=task, day=today, callback_at=later, rules=rules, now=now)
    elif delay == "in_three_days":
        day = first_working_day_from(today + dt.timedelta(days=3), dealership=dealership, rules=rules)
        _move(task=task, day=day, callback_at=None, rules=rules, now=now)
    else:
        _move(task=task, day=next_working_day(today, dealership=dealership, rules=rules), callback_at=None, rules=rules, now=now)


def _move(*, task: CallTask, day: dt.date, callback_at: dt.datetime | None, rules: ContactRules, now: dt.datetime) -> None:
    """Reschedule a retry, keeping blocks_until = scheduled_on + the call gap (the exclusion constraint's range)."""
    task.kind = CallTask.Kind.RETRY if task.kind == CallTask.Kind.PLANNED else task.kind
    task.scheduled_on = day
    task.window_end = max(task.window_end, day)
    task.blocks_until = day + dt.timedelta(days=max(1, rules.min_days_between_calls))
    task.callback_at = callback_at
    task.status = CallTask.Status.OPEN
    task.claimed_by = None
    task.claimed_at = None
    fields = ["kind", "scheduled_on", "window_end", "blocks_until", "callback_at", "status", "claimed_by", "claimed_at",
              "attempts", "outcome"]
    try:
        with transaction.atomic():
            task.save(update_fields=fields)
    except IntegrityError:
        # PostgreSQL's exclusion constraint: another call of this customer lies inside the gap after
        # the retry day. That call will reach them; this one stops here, its topics not done.
        task.refresh_from_db(fields=["kind", "scheduled_on", "window_end", "blocks_until", "callback_at", "status",
                                     "claimed_by", "claimed_at"])
        _finish(task, now, touchpoints_to=Touchpoint.Status.SUPPRESSED, resolution="not_reached:next_call_too_close")


def _count_phone_failure(*, customer: Customer, rules: ContactRules, today: dt.date) -> None:
    Customer.objects.filter(pk=customer.pk).update(phone_failures=F("phone_failures") + 1)
    failures = Customer.objects.filter(pk=customer.pk).values_list("phone_failures", flat=True).get()
    if failures < rules.unreachable_after_failures:
        return
    Customer.objects.filter(pk=customer.pk, phone_unreachable_since__isnull=True).update(phone_unreachable_since=today)
    # Its calls stop: open ones are cancelled now (a claimed one is left to the agent on it).
    open_tasks = CallTask.objects.filter(customer=customer, status=CallTask.Status.OPEN)
    Touchpoint.objects.filter(call_item__call_task__in=open_tasks, status=Touchpoint.Status.ISSUED).update(
        status=Touchpoint.Status.SUPPRESSED, resolution="unreachable"
    )
    open_tasks.update(status=CallTask.Status.CANCELLED, outcome="unreachable")


def _create_callback(*, task: CallTask, agent: User, callback_at: dt.datetime, rules: ContactRules) -> CallTask:
    """A call the customer asked for: requested (exempt from the gap), at their time, same agenda."""
    day = task.dealership.local_date(callback_at)
    callback = CallTask.objects.create(
        dealership=task.dealership, customer=task.customer, kind=CallTask.Kind.CALLBACK, is_requested=True,
        scheduled_on=day, window_start=day, window_end=max(task.window_end, day + dt.timedelta(days=2)),
        blocks_until=day + dt.timedelta(days=max(1, rules.min_days_between_calls)), callback_at=callback_at,
        priority=task.priority, agenda=task.agenda, script=task.script, explanation=task.explanation,
        previous=task, assigned_to=agent,
    )
    # The agenda's touchpoints move to the callback, so they are done when it is.
    task.items.update(call_task=callback)
    return callback


def set_do_not_contact(*, customer: Customer, channels: Iterable[str], now: dt.datetime, reason: str) -> None:
    """The customer refused these channels on a call: the one refusal workflow records it, keeps it
    by phone and e-mail, and stops everything on them at once (contacts.refusals)."""
    record_refusal(customer=customer, channels=channels, now=now, reason=reason, source=RefusalSource.CALL)

