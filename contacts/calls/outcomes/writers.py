"""Writing a checked outcome: what every outcome tells (a mileage, a working phone), then one writer per
outcome: retries, callbacks, do-not-call, bookings, hand-offs, a sold car."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from contacts.calls.handoffs import create_handoff, set_temperature
from contacts.calls.outcomes.validate import GivenOutcome
from contacts.calls.schedule import first_working_day_from, is_within_call_hours, next_working_day
from contacts.models import REACHED_OUTCOMES, CallAttempt, CallTask, ContactRules, Handoff, Touchpoint
from customers.models import Customer, OdometerReading, RefusalSource, Vehicle
from customers.refusals import record_refusal

Outcome = CallAttempt.Outcome


def record_what_every_outcome_tells(given: GivenOutcome) -> set[int]:
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


def _write_no_answer(given: GivenOutcome, attempt: CallAttempt) -> set[int]:
    _retry_or_give_up(task=given.task, customer=given.task.customer, rules=given.rules, now=given.now, today=given.today)
    return set()


def _write_wrong_number(given: GivenOutcome, attempt: CallAttempt) -> set[int]:
    _finish(given.task, given.now, touchpoints_to=Touchpoint.Status.SUPPRESSED, resolution="not_reached:wrong_number")
    _count_phone_failure(customer=given.task.customer, rules=given.rules, today=given.today)
    return set()


def _write_call_back(given: GivenOutcome, attempt: CallAttempt) -> set[int]:
    assert given.callback_at is not None
    _finish(given.task, given.now)
    _create_callback(task=given.task, agent=given.agent, callback_at=given.callback_at, rules=given.rules)
    return set()


def _write_agenda_done(given: GivenOutcome, attempt: CallAttempt) -> set[int]:
    """The agenda was talked through: its touchpoints are done, each with the result the agent typed."""
    _finish(given.task, given.now, touchpoints_to=Touchpoint.Status.DONE, resolution=f"call:{given.outcome}")
    for position, text in given.agenda_results.items():
        given.task.items.filter(position=int(position)).update(result=text)
    return set()


def _write_serviced_elsewhere(given: GivenOutcome, attempt: CallAttempt) -> set[int]:
    _write_agenda_done(given, attempt)
    set_temperature(customer=given.task.customer, temperature=Customer.Temperature.COLD, by=given.agent, now=given.now)
    return set()


def _write_do_not_call(given: GivenOutcome, attempt: CallAttempt) -> set[int]:
    _write_agenda_done(given, attempt)
    set_temperature(customer=given.task.customer, temperature=Customer.Temperature.COLD, by=given.agent, now=given.now)
    set_do_not_contact(
        customer=given.task.customer, channels=given.channels, now=given.now,
        reason=given.note or _("Asked during a call not to be contacted"),
        purposes=given.purposes, recorded_by=given.agent,
    )
    return set()


def _write_booked(given: GivenOutcome, attempt: CallAttempt) -> set[int]:
    _write_agenda_done(given, attempt)
    assert given.department is not None and given.booked_on is not None
    # A booked customer is hot for service: it confirms within the hot SLA, and never after the visit's day.
    create_handoff(
        dealership=given.task.dealership, customer=given.task.customer, department=given.department,
        kind=Handoff.Kind.BOOKING, temperature=Customer.Temperature.HOT, topic=Handoff.Topic.SERVICE, now=given.now,
        rules=given.rules, by=given.agent, latest_day=given.booked_on,
        vehicle=given.vehicle, notes=given.note, booked_on=given.booked_on, booked_at=given.booked_at,
        created_from=attempt,
    )
    return set()


def _write_sold_car(given: GivenOutcome, attempt: CallAttempt) -> set[int]:
    _write_agenda_done(given, attempt)
    assert given.vehicle is not None
    Vehicle.objects.filter(pk=given.vehicle.pk).update(is_active=False)
    return {given.vehicle.pk}


def _write_hot_lead(given: GivenOutcome, attempt: CallAttempt) -> set[int]:
    _write_agenda_done(given, attempt)
    assert given.department is not None
    create_handoff(
        dealership=given.task.dealership, customer=given.task.customer, department=given.department,
        kind=Handoff.Kind.HOT_LEAD, temperature=given.temperature, topic=given.topic, now=given.now, rules=given.rules,
        by=given.agent, latest_day=given.deadline, vehicle=given.vehicle, notes=given.note, created_from=attempt,
    )
    return set()

# One writer per outcome (a test checks that every outcome has one).
WRITERS: dict[str, Callable[[GivenOutcome, CallAttempt], set[int]]] = {
    Outcome.REACHED: _write_agenda_done,
    Outcome.NO_ANSWER: _write_no_answer,
    Outcome.CALL_BACK: _write_call_back,
    Outcome.BOOKED: _write_booked,
    Outcome.HOT_LEAD: _write_hot_lead,
    Outcome.WRONG_NUMBER: _write_wrong_number,
    Outcome.SERVICED_ELSEWHERE: _write_serviced_elsewhere,
    Outcome.SOLD_CAR: _write_sold_car,
    Outcome.DO_NOT_CALL: _write_do_not_call,
}

# No answer: the first call and three retries (later today, the next working day, in three days,
# DESIGN.md "Outcomes of a call"); when the third retry is not answered either, the task closes and
# the phone counts one failure.
RETRY_DELAYS = ("later_today", "next_working_day", "in_three_days")

MAX_CALLS_PER_TASK = 1 + len(RETRY_DELAYS)

LATER_TODAY = dt.timedelta(hours=2)


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


def set_do_not_contact(
    *, customer: Customer, channels: Iterable[str], now: dt.datetime, reason: str,
    purposes: Iterable[str] | None = None, recorded_by: User | None = None, source: RefusalSource = RefusalSource.CALL,
) -> None:
    """The customer refused these channels (for these purposes; none: all) on a call, by a reply or by
    the unsubscribe link: the one refusal workflow records it, keeps it by phone and e-mail, and stops
    everything refused at once (contacts.refusals)."""
    record_refusal(customer=customer, channels=channels, now=now, reason=reason, source=source,
                   purposes=purposes or None, recorded_by=recorded_by)
