"""Claiming the next call, and giving calls back: release, reassign, today's capacity.

Claims are exclusive under any concurrency. On PostgreSQL the candidate row is taken with
``select_for_update(skip_locked=True)``, so two agents never wait on, or get, the same row; on every
database the claim itself is a conditional UPDATE (``status = open``) that must change exactly one row.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core import signing
from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from audit import trail
from contacts.calls.errors import OutcomeError
from contacts.calls.schedule import is_within_call_hours, local_now
from contacts.core.purposes import purpose_of
from contacts.models import CallTask, CallTaskQuerySet, ContactRules, DailyCapacity, Touchpoint
from customers import access
from customers.models import Channel, Customer, Dealership

logger = logging.getLogger(__name__)
# Claims tried per "next call" before giving up (each try either claims or cancels a blocked task).
CLAIM_TRIES = 25
# "Next call" sweeps idle claims of the agent's dealerships at most this often per dealership: the sweep
# reads all of a dealership's open calls (nothing indexes claimed_at), ~4 ms at 20,000 open calls on
# PostgreSQL, and beat sweeps every few minutes anyway (contacts.tasks.release_stale_claims).
LAZY_SWEEP_SECONDS = 30


@dataclass(frozen=True)
class ClaimResult:
    """The claimed (or already held) task, or None with the reason in plain words."""

    task: CallTask | None
    message: str = ""
    reason: str = ""  # "", "no_dealership", "outside_call_hours", "empty", "busy"


def queue_for(*, dealerships: Iterable[Dealership], now: dt.datetime) -> CallTaskQuerySet:
    """Open work of the day in these dealerships (unordered): for counting."""
    return CallTask.objects.filter(status=CallTask.Status.OPEN).due_by(list(dealerships), now)


def queue_in_order(*, agent: User, dealerships: Iterable[Dealership], now: dt.datetime, limit: int) -> list[CallTask]:
    """The agent's queue as "next call" walks it: callbacks and retries due now (by time), work
    assigned to the agent, then everything else by priority and deadline; callbacks later today last.

    Separate queries, each walking an index in order (call_task_claim_order), instead of one ORDER BY
    over an expression that would sort the whole day's queue on every page load.
    """
    open_work = (
        queue_for(dealerships=dealerships, now=now)
        .claimable_by(agent, now)
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


def take_inbound_call(*, customer: Customer, agent: User, now: dt.datetime) -> CallTask:
    """The customer is on the line (they called us): the agent takes the customer's waiting call, or, with
    none, a new requested call (no topics, exempt from the call gap), and records it with the usual outcomes."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=agent.pk).first()
        held = CallTask.objects.filter(claimed_by=agent, status=CallTask.Status.CLAIMED).exclude(customer=customer).first()
        if held is not None:
            raise OutcomeError(_("Finish or put back your current call first."))
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        waiting = (
            CallTask.objects.filter(customer=customer, status__in=[CallTask.Status.OPEN, CallTask.Status.CLAIMED])
            .select_related("claimed_by")
            .order_by("scheduled_on", "priority", "id")
            .first()
        )
        if waiting is not None and waiting.status == CallTask.Status.CLAIMED and waiting.claimed_by_id != agent.pk:
            raise OutcomeError(_("%(agent)s is on a call with this customer right now.") % {"agent": _person(waiting.claimed_by)})
        if waiting is None:
            day = customer.dealership.local_date(now)
            rules = ContactRules.for_dealership(customer.dealership)
            waiting = CallTask.objects.create(
                dealership=customer.dealership, customer=customer, kind=CallTask.Kind.CALLBACK, is_requested=True,
                scheduled_on=day, window_start=day, window_end=day,
                blocks_until=day + dt.timedelta(days=max(1, rules.min_days_between_calls)), callback_at=now, priority=0,
            )
        CallTask.objects.filter(pk=waiting.pk).update(
            status=CallTask.Status.CLAIMED, claimed_by=agent, claimed_at=now, claim_seen_at=now
        )
        waiting.refresh_from_db()
    return waiting


def callbacks_of(*, agent: User) -> QuerySet[CallTask]:
    """The calls customers asked this agent to make, not yet made, in time order: "my callbacks"."""
    return (
        CallTask.objects.filter(
            kind=CallTask.Kind.CALLBACK, assigned_to=agent, status__in=[CallTask.Status.OPEN, CallTask.Status.CLAIMED]
        )
        .select_related("customer", "dealership")
        .order_by("callback_at", "id")
    )


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
    last_seen = task.claim_seen_at or task.claimed_at
    return last_seen is not None and last_seen < now - dt.timedelta(minutes=rules.claim_timeout_minutes)


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
                refusal = _refusal(task)
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
                    status=CallTask.Status.CLAIMED, claimed_by=agent, claimed_at=now, claim_seen_at=now
                )
                if claimed == 1:
                    task.status, task.claimed_by, task.claimed_at = CallTask.Status.CLAIMED, agent, now
                    task.claim_seen_at = now
                    return ClaimResult(task)
        except OperationalError as error:
            # SQLite answers "locked" instead of waiting when another writer holds the database in
            # shared-cache mode (the in-memory test database), and a COMMIT that met the lock finds its
            # transaction already rolled back ("no transaction is active"): wait a moment, then try again.
            is_lock = "locked" in str(error) or "no transaction is active" in str(error)
            if connection.vendor != "sqlite" or not is_lock or attempt == CLAIM_TRIES - 1:
                raise
            time.sleep(0.02 * (attempt + 1))
    return ClaimResult(None, _("Everyone is taking calls at once; press Next call again."), "busy")


def _next_candidate(*, agent: User, dealerships: Sequence[Dealership], now: dt.datetime) -> CallTask | None:
    open_work = queue_for(dealerships=dealerships, now=now).claimable_by(agent, now).select_related("customer")
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


def _refusal(task: CallTask) -> str:
    """Why this call must not be made now: the customer refused calls, or calls about every topic on
    its agenda (a refusal of one purpose withdraws a call that also carries another: contacts.refusals)."""
    customer = task.customer
    if not customer.allows(Channel.CALL):
        return "do_not_contact:call"
    purposes = {
        purpose_of(code=code, department=department)
        for code, department in task.items.values_list("touchpoint__template__code", "touchpoint__template__department__code")
    }
    refused = [p for p in sorted(purposes) if not customer.allows(Channel.CALL, p)]
    if purposes and len(refused) == len(purposes):
        return f"do_not_contact:call:{refused[0]}"
    if not customer.is_phone_reachable:
        return "unreachable"
    return ""


def release_call(*, task: CallTask, by: User) -> bool:
    """Put a claimed call back in the queue: by the agent holding it, or by a supervisor."""
    if task.claimed_by_id != by.pk and not access.has_role(by, access.CAN_SUPERVISE):
        return False
    with transaction.atomic():
        released = CallTask.objects.filter(pk=task.pk, status=CallTask.Status.CLAIMED).update(status=CallTask.Status.OPEN) == 1
        if released:
            _record_call(task, trail.Action.RELEASE, {"status": [CallTask.Status.CLAIMED, CallTask.Status.OPEN]}, by=by,
                         source=trail.Source.CALL_SCREEN if task.claimed_by_id == by.pk else trail.Source.FLOOR)
    return released


@dataclass(frozen=True)
class ClaimState:
    """What the agent's open call screen learns from its heartbeat: still theirs, or what happened."""

    is_held: bool
    message: str = ""


def keep_claim(*, task: CallTask, agent: User, now: dt.datetime) -> ClaimState:
    """The call screen is still open: keep the agent's claim alive, or say in words why it is not theirs."""
    if CallTask.objects.filter(pk=task.pk, status=CallTask.Status.CLAIMED, claimed_by=agent).update(claim_seen_at=now):
        return ClaimState(is_held=True)
    task = CallTask.objects.select_related("claimed_by", "assigned_to", "dealership").get(pk=task.pk)
    still_accepted = _("If you spoke to the customer, record the outcome: it is still accepted.")
    if task.status == CallTask.Status.DONE:
        return ClaimState(is_held=False, message=closed_call_message(task=task, agent=agent))
    if task.status == CallTask.Status.CANCELLED:
        return ClaimState(is_held=False, message=_("This call was cancelled: the customer refused calls or cannot be reached."))
    if task.status == CallTask.Status.CLAIMED and task.claimed_by is not None:
        return ClaimState(is_held=False, message=_("%(agent)s has this call now.") % {"agent": _person(task.claimed_by)}
                          + " " + still_accepted)
    if task.assigned_to is not None and task.assigned_to_id != agent.pk:
        return ClaimState(is_held=False, message=_("A supervisor gave this call to %(agent)s.") % {
            "agent": _person(task.assigned_to)} + " " + still_accepted)
    return ClaimState(is_held=False, message=_("This call went back to the queue.") + " " + still_accepted)


def closed_call_message(*, task: CallTask, agent: User) -> str:
    """A closed call, in words: who recorded its outcome, and when (dealership time)."""
    last = task.attempts_made.select_related("agent").order_by("-ended_at", "-id").first()
    if last is None or last.agent_id == agent.pk:
        return _("This call is already closed; its outcome was recorded before or it was cancelled.")
    return _("%(agent)s recorded this call's outcome (%(outcome)s) at %(time)s. Press Next call.") % {
        "agent": _person(last.agent), "outcome": last.get_outcome_display(),
        "time": local_now(task.dealership, last.ended_at).strftime("%H:%M") if last.ended_at else "",
    }


def _person(user: User | None) -> str:
    return (user.get_full_name() or user.username) if user is not None else _("another agent")


# A call screen's proof that its agent held the call (contacts.views.agent renders it into the outcome form):
# with it, the agent's outcome is accepted even after the claim was released (contacts.calls.outcomes.recording).
CLAIM_TOKEN_SALT = "contacts.calls.claim"
CLAIM_TOKEN_MAX_AGE = dt.timedelta(hours=12)


def claim_token(*, task: CallTask) -> str:
    """A signed note of who claimed this call and when; empty if nobody holds it."""
    if task.status != CallTask.Status.CLAIMED or task.claimed_by_id is None or task.claimed_at is None:
        return ""
    return signing.dumps([task.pk, task.claimed_by_id, task.claimed_at.isoformat()], salt=CLAIM_TOKEN_SALT)


def claim_started_at(*, token: str, task: CallTask, agent: User) -> dt.datetime | None:
    """When this agent's claim on this task began, if the token proves they held it; else None."""
    if not token:
        return None
    try:
        task_id, agent_id, started = signing.loads(token, salt=CLAIM_TOKEN_SALT, max_age=CLAIM_TOKEN_MAX_AGE)
        started_at = dt.datetime.fromisoformat(started)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if task_id != task.pk or agent_id != agent.pk:
        return None
    return started_at


def reassign_call(*, task: CallTask, to: User, by: User) -> bool:
    """A supervisor gives an open or claimed call to one agent of its dealership (it waits for them)."""
    if not access.has_role(by, access.CAN_SUPERVISE):
        return False
    if not access.has_role(to, access.CAN_WORK_QUEUE) or not access.dealerships_of(to).filter(pk=task.dealership_id).exists():
        return False
    with transaction.atomic():
        before = dict(CallTask.objects.filter(pk=task.pk).values("assigned_to", "claimed_by", "status").first() or {})
        reassigned = CallTask.objects.filter(pk=task.pk, status__in=[CallTask.Status.OPEN, CallTask.Status.CLAIMED]).update(
            assigned_to=to, status=CallTask.Status.OPEN, claimed_by=None, claimed_at=None
        ) == 1
        if reassigned:
            _record_call(task, trail.Action.REASSIGN, trail.diff(before, {
                "assigned_to": to.pk, "claimed_by": None, "status": CallTask.Status.OPEN}), by=by, source=trail.Source.FLOOR)
    return reassigned


def _record_call(task: CallTask, action: str, changes: dict[str, list[object]], *, by: User, source: str) -> None:
    trail.record(object_type=trail.ObjectType.CALL_TASK, object_id=task.pk, action=action, changes=changes, actor=by,
                 source=source, dealership_id=task.dealership_id, customer_id=task.customer_id)


def set_agents_on_shift(*, dealership: Dealership, day: dt.date, agents_on_shift: int, by: User) -> DailyCapacity:
    with transaction.atomic():
        before = DailyCapacity.objects.filter(dealership=dealership, day=day).values_list("agents_on_shift", flat=True).first()
        capacity, _created = DailyCapacity.objects.update_or_create(
            dealership=dealership, day=day, defaults={"agents_on_shift": agents_on_shift, "set_by": by}
        )
        trail.record(object_type=trail.ObjectType.CAPACITY, object_id=capacity.pk, actor=by,
                     action=trail.Action.UPDATE if before is not None else trail.Action.CREATE, dealership_id=dealership.pk,
                     changes={"day": [day, day], "agents_on_shift": [before, agents_on_shift]})
    return capacity

