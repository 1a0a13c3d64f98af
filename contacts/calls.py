"""Working the queue: claim the next call, record its outcome, release and reassign calls, hand-offs.

Claims are exclusive under any concurrency. On PostgreSQL the candidate row is taken with
``select_for_update(skip_locked=True)``, so two agents never wait on, or get, the same row; on every
database the claim itself is a conditional UPDATE (``status = open``) that must change exactly one row.
An outcome writes one CallAttempt, moves the task (done, retried, or replaced by a callback) and its
touchpoints, and records what the customer told us: mileage, do-not-call, a booking, a churn reason,
a sold car or a hot lead. Bad input raises ``OutcomeError`` in plain words and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts import tasks
from contacts.models import (
    REACHED_OUTCOMES,
    CallAttempt,
    CallTask,
    ContactRules,
    DailyCapacity,
    Department,
    Handoff,
    OutboxMessage,
    Touchpoint,
)
from contacts.queues import holiday_dates
from customers import access
from customers.core.mileage import MAX_PLAUSIBLE_KM_PER_MONTH, MONTH_DAYS, PLAUSIBLE_SLACK_KM
from customers.models import Channel, Consent, Customer, Dealership, OdometerReading, Vehicle, VehicleForecast

logger = logging.getLogger(__name__)
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
# A callback waits this long for the agent the customer spoke to, then anyone may take it.
CALLBACK_GRACE = dt.timedelta(minutes=15)
CALLBACK_HORIZON_DAYS = 60
# Outcomes in which the agenda was talked through: its touchpoints are done.
AGENDA_DONE_OUTCOMES = frozenset(
    {Outcome.REACHED, Outcome.BOOKED, Outcome.HOT_LEAD, Outcome.SERVICED_ELSEWHERE, Outcome.SOLD_CAR, Outcome.DO_NOT_CALL}
)
FAILED_OUTCOMES = frozenset({Outcome.NO_ANSWER, Outcome.WRONG_NUMBER})
# Claims tried per "next call" before giving up (each try either claims or cancels a blocked task).
CLAIM_TRIES = 25
# "Next call" sweeps idle claims of the agent's dealerships at most this often per dealership: the sweep
# reads all of a dealership's open calls (nothing indexes claimed_at), ~4 ms at 20,000 open calls on
# PostgreSQL, and beat sweeps every few minutes anyway (contacts.tasks.release_stale_claims).
LAZY_SWEEP_SECONDS = 30


class OutcomeError(ValueError):
    """Bad input for an outcome (or a call that is no longer the agent's), in plain words."""


@dataclass(frozen=True)
class ClaimResult:
    """The claimed (or already held) task, or None with the reason in plain words."""

    task: CallTask | None
    message: str = ""
    reason: str = ""  # "", "no_dealership", "outside_call_hours", "empty", "busy"


# --- time ---------------------------------------------------------------------------------------


def local_now(dealership: Dealership, now: dt.datetime) -> dt.datetime:
    return now.astimezone(dealership.zone)


def is_within_call_hours(dealership: Dealership, now: dt.datetime) -> bool:
    local = local_now(dealership, now).time()
    return dealership.call_hours_start <= local < dealership.call_hours_end


def local_day_bounds(dealership: Dealership, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a local calendar day as aware datetimes (DST-safe: each end is its own midnight)."""
    zone = dealership.zone
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


def is_working_day(day: dt.date, *, dealership: Dealership, rules: ContactRules) -> bool:
    working = {int(c) - 1 for c in rules.working_weekdays if c.isdigit()} or {0, 1, 2, 3, 4}
    return day.weekday() in working and day not in holiday_dates(dealership.country, dealership.region, day.year)


def first_working_day_from(day: dt.date, *, dealership: Dealership, rules: ContactRules) -> dt.date:
    for offset in range(31):
        candidate = day + dt.timedelta(days=offset)
        if is_working_day(candidate, dealership=dealership, rules=rules):
            return candidate
    return day


def next_working_day(day: dt.date, *, dealership: Dealership, rules: ContactRules) -> dt.date:
    return first_working_day_from(day + dt.timedelta(days=1), dealership=dealership, rules=rules)


# --- the queue ----------------------------------------------------------------------------------


def _due_by_dealership(dealerships: Iterable[Dealership], now: dt.datetime) -> Q:
    """Scheduled on or before each dealership's own local today (agents may span time zones)."""
    condition = Q(pk__in=[])
    for dealership in dealerships:
        condition |= Q(dealership=dealership, scheduled_on__lte=dealership.local_date(now))
    return condition


def queue_for(*, dealerships: Iterable[Dealership], now: dt.datetime) -> QuerySet[CallTask]:
    """Open work of the day in these dealerships (unordered): for counting."""
    return CallTask.objects.filter(_due_by_dealership(list(dealerships), now), status=CallTask.Status.OPEN)


def _claimable_by(agent: User, now: dt.datetime) -> Q:
    """Unassigned work, work assigned to this agent, and callbacks whose agent let the grace pass."""
    return (
        Q(assigned_to__isnull=True)
        | Q(assigned_to=agent)
        | Q(kind=CallTask.Kind.CALLBACK, callback_at__lte=now - CALLBACK_GRACE)
    )


def queue_in_order(*, agent: User, dealerships: Iterable[Dealership], now: dt.datetime, limit: int) -> list[CallTask]:
    """The agent's queue as "next call" walks it: callbacks and retries due now (by time), work
    assigned to the agent, then everything else by priority and deadline; callbacks later today last.

    Separate queries, each walking an index in order (call_task_claim_order), instead of one ORDER BY
    over an expression that would sort the whole day's queue on every page load.
    """
    open_work = (
        queue_for(dealerships=dealerships, now=now)
        .filter(_claimable_by(agent, now))
        .select_related("customer", "dealership", "assigned_to")
    )
    rows = list(open_work.filter(callback_at__lte=now).order_by("callback_at", "id")[:limit])
    rows += open_work.filter(callback_at__isnull=True, assigned_to=agent).order_by("priority", "window_end", "id")[
        : limit - len(rows)
    ]
    rows += open_work.filter(callback_at__isnull=True, assigned_to__isnull=True).order_by("priority", "window_end", "id")[
        : limit - len(rows)
    ]
    rows += open_work.filter(callback_at__gt=now).order_by("callback_at", "id")[: max(0, limit - len(rows))]
    return rows


def release_stale_claims(*, now: dt.datetime, dealerships: Iterable[Dealership] | None = None) -> int:
    """Claims idle longer than their dealership's limit go back to the pool; returns how many.

    The claimant stays in ``claimed_by`` (status open), so an agent who was simply slow can still
    record the outcome if nobody else has taken the call meanwhile (see ``record_outcome``).
    """
    if dealerships is None:
        ids = CallTask.objects.filter(status=CallTask.Status.CLAIMED).values_list("dealership_id", flat=True).distinct()
        dealerships = Dealership.objects.filter(id__in=ids)
    released = 0
    for dealership in dealerships:
        rules = ContactRules.for_dealership(dealership)
        released += (
            CallTask.objects.filter(dealership=dealership)
            .stale_claims(now, rules.claim_timeout_minutes)
            .update(status=CallTask.Status.OPEN)
        )
    return released


def _release_stale_claims_lazily(*, dealerships: Sequence[Dealership], now: dt.datetime) -> None:
    due = []
    for dealership in dealerships:
        try:
            is_due = cache.add(f"calls:stale-sweep:{dealership.pk}", now.isoformat(), LAZY_SWEEP_SECONDS)
        except Exception:  # noqa: BLE001 - the cache (Redis) is down: sweep rather than fail the claim
            is_due = True
        if is_due:
            due.append(dealership)
    if not due:
        return
    try:
        with transaction.atomic():
            release_stale_claims(now=now, dealerships=due)
    except OperationalError:
        # A busy database must not cost the agent their next call: beat sweeps idle claims too.
        logger.warning("lazy release of stale claims skipped: the database was busy", exc_info=True)


def _is_claim_stale(task: CallTask, now: dt.datetime) -> bool:
    rules = ContactRules.for_dealership(task.dealership)
    return task.claimed_at is not None and task.claimed_at < now - dt.timedelta(minutes=rules.claim_timeout_minutes)


def call_hours_message(dealership: Dealership, now: dt.datetime) -> str:
    return _(
        "Calls are made from %(start)s to %(end)s, %(dealership)s time; it is %(now)s there now. No call was taken."
    ) % {
        "start": dealership.call_hours_start.strftime("%H:%M"),
        "end": dealership.call_hours_end.strftime("%H:%M"),
        "dealership": dealership.name,
        "now": local_now(dealership, now).strftime("%H:%M"),
    }


def claim_next_call(*, agent: User, now: dt.datetime, dealerships: Iterable[Dealership] | None = None) -> ClaimResult:
    """The agent's current call if they hold one, else the next open call of their dealerships."""
    dealerships = list(access.dealerships_of(agent) if dealerships is None else dealerships)
    if not dealerships:
        return ClaimResult(None, _("You are not attached to a dealership yet: ask your supervisor."), "no_dealership")
    held = (
        CallTask.objects.filter(claimed_by=agent, status=CallTask.Status.CLAIMED, dealership__in=dealerships)
        .select_related("customer", "dealership")
        .order_by("claimed_at")
        .first()
    )
    if held is not None and not _is_claim_stale(held, now):
        return ClaimResult(held)
    # Lazy expiry: idle claims return to the pool before we look for work (beat also sweeps them).
    _release_stale_claims_lazily(dealerships=dealerships, now=now)
    open_now = [d for d in dealerships if is_within_call_hours(d, now)]
    if not open_now:
        return ClaimResult(None, call_hours_message(dealerships[0], now), "outside_call_hours")
    for attempt in range(CLAIM_TRIES):
        try:
            with transaction.atomic():
                # One agent, one claim: a double click (two requests at once) queues here.
                User.objects.select_for_update().filter(pk=agent.pk).first()
                held = CallTask.objects.filter(claimed_by=agent, status=CallTask.Status.CLAIMED).first()
                if held is not None:
                    return ClaimResult(held)
                task = _next_candidate(agent=agent, dealerships=open_now, now=now)
                if task is None:
                    return ClaimResult(None, _("No calls are waiting right now. Well done!"), "empty")
                refusal = _refusal(task.customer)
                if refusal:
                    # Never hand out a call the customer refused (or that cannot be made): cancel it.
                    CallTask.objects.filter(pk=task.pk, status=CallTask.Status.OPEN).update(
                        status=CallTask.Status.CANCELLED, outcome=refusal
                    )
                    Touchpoint.objects.filter(call_item__call_task=task, status=Touchpoint.Status.ISSUED).update(
                        status=Touchpoint.Status.SUPPRESSED, resolution=refusal
                    )
                    continue
                claimed = CallTask.objects.filter(pk=task.pk, status=CallTask.Status.OPEN).update(
                    status=CallTask.Status.CLAIMED, claimed_by=agent, claimed_at=now
                )
                if claimed == 1:
                    task.status, task.claimed_by, task.claimed_at = CallTask.Status.CLAIMED, agent, now
                    return ClaimResult(task)
        except OperationalError as error:
            # SQLite answers "locked" instead of waiting when another writer holds the database in
            # shared-cache mode (the in-memory test database): wait a moment, then try again.
            if connection.vendor != "sqlite" or "locked" not in str(error) or attempt == CLAIM_TRIES - 1:
                raise
            time.sleep(0.02 * (attempt + 1))
    return ClaimResult(None, _("Everyone is taking calls at once; press Next call again."), "busy")


def _next_candidate(*, agent: User, dealerships: Sequence[Dealership], now: dt.datetime) -> CallTask | None:
    open_work = queue_for(dealerships=dealerships, now=now).filter(_claimable_by(agent, now)).select_related("customer")
    for candidates in (
        open_work.filter(callback_at__lte=now).order_by("callback_at", "id"),
        open_work.filter(callback_at__isnull=True, assigned_to=agent).order_by("priority", "window_end", "id"),
        open_work.filter(callback_at__isnull=True, assigned_to__isnull=True).order_by("priority", "window_end", "id"),
    ):
        if connection.features.has_select_for_update_skip_locked:
            # A row another agent is claiming right now is skipped, not waited for. Only the task row
            # is locked (of=self), never the customer joined in for the do-not-call check.
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        task = candidates.first()
        if task is not None:
            return task
    return None


def _refusal(customer: Customer) -> str:
    if Consent.objects.filter(customer=customer, channel=Channel.CALL, is_allowed=False).exists():
        return "do_not_contact:call"
    if not customer.is_phone_reachable:
        return "unreachable"
    return ""


def release_call(*, task: CallTask, by: User) -> bool:
    """Put a claimed call back in the queue: by the agent holding it, or by a supervisor."""
    if task.claimed_by_id != by.pk and not access.has_role(by, access.CAN_SUPERVISE):
        return False
    return CallTask.objects.filter(pk=task.pk, status=CallTask.Status.CLAIMED).update(status=CallTask.Status.OPEN) == 1


def reassign_call(*, task: CallTask, to: User, by: User) -> bool:
    """A supervisor gives an open or claimed call to one agent of its dealership (it waits for them)."""
    if not access.has_role(by, access.CAN_SUPERVISE):
        return False
    if not access.has_role(to, access.CAN_WORK_QUEUE) or not access.dealerships_of(to).filter(pk=task.dealership_id).exists():
        return False
    return (
        CallTask.objects.filter(pk=task.pk, status__in=[CallTask.Status.OPEN, CallTask.Status.CLAIMED]).update(
            assigned_to=to, status=CallTask.Status.OPEN, claimed_by=None, claimed_at=None
        )
        == 1
    )


def set_agents_on_shift(*, dealership: Dealership, day: dt.date, agents_on_shift: int, by: User) -> DailyCapacity:
    capacity, _created = DailyCapacity.objects.update_or_create(
        dealership=dealership, day=day, defaults={"agents_on_shift": agents_on_shift, "set_by": by}
    )
    return capacity


# --- outcomes -----------------------------------------------------------------------------------


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


def _take_for_outcome(*, task: CallTask, agent: User, now: dt.datetime) -> CallTask:
    """Lock the customer, then the task (the queue build's order), and check the call is the agent's.

    A claim that expired (or that a supervisor released) but that nobody else took is taken back:
    the call happened, and what the agent typed must not be lost.
    """
    Customer.objects.select_for_update().filter(pk=task.customer_id).first()
    task = CallTask.objects.select_for_update().select_related("customer", "dealership").get(pk=task.pk)
    if task.status == CallTask.Status.CLAIMED and task.claimed_by_id == agent.pk:
        return task
    if task.status == CallTask.Status.OPEN and task.claimed_by_id == agent.pk and task.assigned_to_id in (None, agent.pk):
        task.claimed_at = task.claimed_at or now
        CallTask.objects.filter(pk=task.pk, status=CallTask.Status.OPEN).update(
            status=CallTask.Status.CLAIMED, claimed_at=task.claimed_at
        )
        task.status = CallTask.Status.CLAIMED
        return task
    if task.status in (CallTask.Status.DONE, CallTask.Status.CANCELLED):
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
    department: Department | None = None,
    reason: str | None = None,
    results: dict[str, str] | None = None,
    channels: Sequence[str] = (Channel.CALL,),
    deadline: dt.date | None = None,
) -> CallAttempt:
    """Record one call's outcome (see the module docstring). Raises OutcomeError, writing nothing."""
    with transaction.atomic():
        return _record_outcome(
            task=_take_for_outcome(task=task, agent=agent, now=now), agent=agent, outcome=outcome, now=now,
            note=(note or "").strip(), odometer_km=odometer_km, vehicle=vehicle, callback_at=callback_at,
            booked_on=booked_on, department=department, reason=reason, results=results or {},
            channels=channels, deadline=deadline,
        )


def _record_outcome(
    *, task: CallTask, agent: User, outcome: str, now: dt.datetime, note: str, odometer_km: int | None,
    vehicle: Vehicle | None, callback_at: dt.datetime | None, booked_on: dt.date | None,
    department: Department | None, reason: str | None, results: dict[str, str], channels: Sequence[str],
    deadline: dt.date | None,
) -> CallAttempt:
    if outcome not in Outcome.values:
        raise OutcomeError(_("Choose an outcome."))
    dealership, customer = task.dealership, task.customer
    rules = ContactRules.for_dealership(dealership)
    today = dealership.local_date(now)
    vehicles = list(Vehicle.objects.filter(owner=customer, is_active=True).order_by("id"))
    if vehicle is not None and vehicle.pk not in {v.pk for v in vehicles}:
        raise OutcomeError(_("That car is not an active car of this customer."))
    if vehicle is None and len(vehicles) == 1:
        vehicle = vehicles[0]
    detail: dict[str, Any] = {}

    # Validate everything before writing anything.
    if odometer_km is not None:
        if vehicle is None:
            raise OutcomeError(_("Choose which car the mileage is for."))
        validate_reading(vehicle=vehicle, odometer_km=odometer_km, day=today)
    agenda_results = _agenda_results(task, results)
    if agenda_results:
        detail["results"] = agenda_results
    if outcome == Outcome.CALL_BACK:
        _validate_callback(dealership=dealership, callback_at=callback_at, now=now)
        assert callback_at is not None
        detail["callback_at"] = callback_at.isoformat()
    if outcome == Outcome.BOOKED:
        if booked_on is None or booked_on < today:
            raise OutcomeError(_("Give the date the customer booked (today or later)."))
        if booked_on > today + dt.timedelta(days=365):
            raise OutcomeError(_("A booking more than a year ahead is not possible: check the date."))
        if vehicle is None and vehicles:
            raise OutcomeError(_("Choose which car is booked."))
        department = Department.objects.filter(code="service", is_active=True).first()
        if department is None:
            raise OutcomeError(_("No service department receives bookings yet: ask your administrator."))
        detail["booked_on"] = booked_on.isoformat()
    if outcome == Outcome.SERVICED_ELSEWHERE:
        if reason not in CHURN_REASONS:
            raise OutcomeError(_("Choose why the customer services elsewhere."))
        detail["reason"] = reason
    if outcome == Outcome.HOT_LEAD:
        if department is None or not department.takes_handoffs:
            raise OutcomeError(_("Choose the department to hand the customer to."))
        if not note:
            raise OutcomeError(_("Write in the note what the customer wants, so the specialist need not ask again."))
        deadline = deadline or next_working_day(today, dealership=dealership, rules=rules)
        if deadline < today:
            raise OutcomeError(_("The hand-off deadline cannot be in the past."))
        detail["department"] = department.code
    if outcome == Outcome.SOLD_CAR and vehicle is None:
        raise OutcomeError(_("Choose which car the customer sold."))
    if outcome == Outcome.DO_NOT_CALL:
        channels = sorted({Channel.CALL, *channels})
        if not set(channels) <= set(Channel.values):
            raise OutcomeError(_("Unknown channel."))
        detail["channels"] = channels

    attempt = CallAttempt.objects.create(
        call_task=task, customer=customer, agent=agent, started_at=task.claimed_at or now, ended_at=now,
        outcome=outcome, note=note[:2000], odometer_km=odometer_km, vehicle=vehicle, detail=detail,
    )
    task.attempts += 1
    task.outcome = outcome
    replan_ids: set[int] = set()
    if odometer_km is not None and vehicle is not None:
        OdometerReading.objects.create(vehicle=vehicle, read_on=today, odometer_km=odometer_km, source=OdometerReading.Source.CALL)
        replan_ids.add(vehicle.pk)
    if outcome in REACHED_OUTCOMES:
        Customer.objects.filter(pk=customer.pk).update(phone_failures=0, phone_unreachable_since=None)
        replan_ids.update(v.pk for v in vehicles)  # a reached call resets keep-alive and "lapsed"

    if outcome == Outcome.NO_ANSWER:
        _retry_or_give_up(task=task, customer=customer, rules=rules, now=now, today=today)
    elif outcome == Outcome.WRONG_NUMBER:
        _finish(task, now, touchpoints_to=Touchpoint.Status.SUPPRESSED, resolution="not_reached:wrong_number")
        _count_phone_failure(customer=customer, rules=rules, today=today)
    elif outcome == Outcome.CALL_BACK:
        assert callback_at is not None
        _finish(task, now)
        _create_callback(task=task, agent=agent, callback_at=callback_at, rules=rules)
    else:
        _finish(task, now, touchpoints_to=Touchpoint.Status.DONE, resolution=f"call:{outcome}")
        for position, text in agenda_results.items():
            task.items.filter(position=int(position)).update(result=text)
    if outcome == Outcome.DO_NOT_CALL:
        set_do_not_contact(customer=customer, channels=channels, now=now, reason=note or _("Asked during a call not to be contacted"))
    elif outcome == Outcome.BOOKED:
        assert department is not None and booked_on is not None
        Handoff.objects.create(
            dealership=dealership, customer=customer, vehicle=vehicle, department=department, kind=Handoff.Kind.BOOKING,
            notes=note, booked_on=booked_on, created_from=attempt,
            # Service confirms the booking by the next working day, and never after the visit itself.
            deadline=min(booked_on, next_working_day(today, dealership=dealership, rules=rules)),
        )
    elif outcome == Outcome.SOLD_CAR:
        assert vehicle is not None
        Vehicle.objects.filter(pk=vehicle.pk).update(is_active=False)
        replan_ids.add(vehicle.pk)
    elif outcome == Outcome.HOT_LEAD:
        assert department is not None and deadline is not None
        Handoff.objects.create(
            dealership=dealership, customer=customer, vehicle=vehicle, department=department, kind=Handoff.Kind.HOT_LEAD,
            notes=note, deadline=deadline, created_from=attempt,
        )
    if replan_ids:
        tasks.replan_on_commit(replan_ids)
    return attempt


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


def _validate_callback(*, dealership: Dealership, callback_at: dt.datetime | None, now: dt.datetime) -> None:
    if callback_at is None:
        raise OutcomeError(_("Give the day and time the customer asked to be called back."))
    if callback_at <= now:
        raise OutcomeError(_("The call-back time has passed already: give a time in the future."))
    if callback_at > now + dt.timedelta(days=CALLBACK_HORIZON_DAYS):
        raise OutcomeError(_("A call back must be within %(days)s days.") % {"days": CALLBACK_HORIZON_DAYS})
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
    """The customer refused these channels: record it and stop everything on them at once.

    The customer row is locked first, as the queue build does: a build running now either saw the
    refusal or its new tasks are cancelled here.
    """
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    for channel in channels:
        Consent.objects.update_or_create(
            customer=customer, channel=channel, defaults={"is_allowed": False, "changed_at": now, "reason": reason[:300]}
        )
        resolution = f"do_not_contact:{channel}"
        if channel == Channel.CALL:
            open_tasks = CallTask.objects.filter(customer=customer, status__in=[CallTask.Status.OPEN, CallTask.Status.CLAIMED])
            Touchpoint.objects.filter(call_item__call_task__in=open_tasks, status=Touchpoint.Status.ISSUED).update(
                status=Touchpoint.Status.SUPPRESSED, resolution=resolution
            )
            open_tasks.update(status=CallTask.Status.CANCELLED, outcome="do_not_call")
        else:
            pending = OutboxMessage.objects.filter(customer=customer, channel=channel, status=OutboxMessage.Status.PENDING)
            Touchpoint.objects.filter(message__in=pending).update(status=Touchpoint.Status.SUPPRESSED, resolution=resolution)
            pending.update(status=OutboxMessage.Status.CANCELLED)
        Touchpoint.objects.filter(
            customer=customer, status=Touchpoint.Status.PLANNED, template__channel=channel
        ).update(status=Touchpoint.Status.SUPPRESSED, resolution=resolution)


# --- hand-offs ----------------------------------------------------------------------------------


def accept_handoff(*, handoff: Handoff, by: User) -> bool:
    return Handoff.objects.filter(pk=handoff.pk, status=Handoff.Status.NEW).update(
        status=Handoff.Status.ACCEPTED, accepted_by=by
    ) == 1


def close_handoff(*, handoff: Handoff, by: User, result: str, now: dt.datetime) -> bool:
    result = (result or "").strip()
    if not result:
        raise OutcomeError(_("Write the result before closing the hand-off."))
    with transaction.atomic():
        closed = Handoff.objects.filter(pk=handoff.pk).exclude(status=Handoff.Status.CLOSED).update(
            status=Handoff.Status.CLOSED, result=result[:200], closed_at=now
        )
        # Closing a hand-off nobody accepted first: whoever closed it took it.
        Handoff.objects.filter(pk=handoff.pk, accepted_by__isnull=True).update(accepted_by=by)
    return closed == 1
