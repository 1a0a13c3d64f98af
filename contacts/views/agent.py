"""The agent's pages: the queue, "Next call", an inbound call, the call screen with its outcome bar, undo
and release."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.db import DatabaseError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from contacts import calls, presence
from contacts.call_screen import call_topics, other_plans, script_sections
from contacts.card import customer_card
from contacts.forms import OutcomeForm
from contacts.message_board import message_board
from contacts.models import (
    REACHED_OUTCOMES,
    AgentPresence,
    CallAttempt,
    CallTask,
    ContactRules,
    TouchpointTemplate,
)
from contacts.views.common import AuthenticatedHttpRequest, get_task_for_user, is_htmx, navigate, today_bounds
from contacts.views.floor import floor_answer
from customers import access
from customers.models import Customer, Dealership

logger = logging.getLogger(__name__)
Outcome = CallAttempt.Outcome

# The most urgent calls the queue page lists: two screens of a 1366x768 display; "Next call" always
# takes the most urgent one anyway, and 150 rows cost three times the rendering.
QUEUE_ROWS = 50

MY_CALLBACK_ROWS = 20


@dataclass(frozen=True)
class QueueRow:
    """A call of the queue page, with what the page says about it on the dealership's own day."""

    task: CallTask
    local_today: dt.date
    is_overdue_today: bool
    is_due_callback: bool

    @classmethod
    def of(cls, task: CallTask, now: dt.datetime) -> QueueRow:
        today = task.dealership.local_date(now)
        return cls(task=task, local_today=today, is_overdue_today=task.window_end < today,
                   is_due_callback=task.callback_at is not None and task.callback_at <= now)


@require_GET
@access.role_required(access.CAN_WORK_QUEUE)
def queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = _queue_context(request, timezone.now())
    template = "contacts/queue.html#board" if request.GET.get("part") == "board" else "contacts/queue.html"
    return render(request, template, context)


def _queue_context(request: AuthenticatedHttpRequest, now: dt.datetime) -> dict[str, Any]:
    user = request.user
    dealerships = list(access.dealerships_of(user).order_by("id"))
    today, start, end = today_bounds(request, now)
    tasks = calls.queue_in_order(agent=user, dealerships=dealerships, now=now, limit=QUEUE_ROWS)
    mine = CallAttempt.objects.filter(agent=user, ended_at__gte=start, ended_at__lt=end).aggregate(
        done=Count("id"), reached=Count("id", filter=Q(outcome__in=REACHED_OUTCOMES))
    )
    closed_hours = [d for d in dealerships if not calls.is_within_call_hours(d, now)]
    callbacks = calls.callbacks_of(agent=user)
    my_callbacks = list(callbacks[:MY_CALLBACK_ROWS])
    codes = {item.get("code", "") for task in tasks + my_callbacks for item in task.agenda if isinstance(item, dict)}
    return {
        "paused_since": AgentPresence.objects.filter(user_id=user.pk, state=AgentPresence.State.PAUSED)
        .values_list("since", flat=True).first(),
        "undo_offer": _undo_offer(request, now),
        "callbacks": my_callbacks,
        "callback_count": len(my_callbacks) if len(my_callbacks) < MY_CALLBACK_ROWS else callbacks.count(),
        "topic_titles": _topic_titles(tasks + my_callbacks, codes),
        "tasks": tasks,
        "rows": [QueueRow.of(task, now) for task in tasks],
        "today": today,
        "now": now,
        "done": mine["done"],
        "reached": mine["reached"],
        "left": calls.queue_for(dealerships=dealerships, now=now).count(),
        "shown": len(tasks),
        "held": CallTask.objects.filter(claimed_by=user, status=CallTask.Status.CLAIMED).select_related("customer").first(),
        "hours_message": calls.call_hours_message(closed_hours[0], now) if dealerships and len(closed_hours) == len(dealerships) else "",
        "has_dealership": bool(dealerships),
        "time_zone": dealerships[0].time_zone if dealerships else "UTC",
        "board": message_board(dealerships=dealerships, now=now),
    }


def _topic_titles(tasks: list[CallTask], codes: set[str]) -> dict[int, list[str]]:
    """Each call's topics in the UI's language, each topic once (two missed maintenances are one topic)."""
    names = {t.code: t.name for t in TouchpointTemplate.objects.filter(code__in=codes)}
    titles: dict[int, list[str]] = {}
    for task in tasks:
        seen = titles.setdefault(task.pk, [])
        for item in task.agenda:
            title = names.get(item.get("code", ""), item.get("title", "")) if isinstance(item, dict) else ""
            if title and title not in seen:
                seen.append(title)
    return titles


@require_POST
@access.role_required(access.CAN_WORK_QUEUE)
def next_call(request: AuthenticatedHttpRequest) -> HttpResponse:
    now = timezone.now()
    presence.set_presence(request.user, presence.State.READY, now=now)
    return _go_to_next_call(request, now)


@require_POST
@access.role_required(access.CAN_WORK_QUEUE)
def pause(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The agent steps away: the floor shows them paused until they take the next call."""
    presence.set_presence(request.user, presence.State.PAUSED, now=timezone.now())
    return navigate(request, reverse("contacts:queue"))


def _go_to_next_call(request: AuthenticatedHttpRequest, now: dt.datetime) -> HttpResponse:
    try:
        result = calls.claim_next_call(agent=request.user, now=now)
    except DatabaseError:
        logger.exception("claim_next_call failed for user %s", request.user.pk)
        messages.error(request, _("The database was busy and no call was taken. Press Next call again."))
        return navigate(request, reverse("contacts:queue"))
    if result.task is None:
        # Outside call hours the queue page itself says so, with the hours: no second message.
        if result.reason != "outside_call_hours":
            messages.info(request, result.message)
        return navigate(request, reverse("contacts:queue"))
    return navigate(request, reverse("contacts:call", args=[result.task.pk]))


@require_POST
@access.role_required(access.CAN_WORK_QUEUE)
def inbound_call(request: AuthenticatedHttpRequest, customer_id: int) -> HttpResponse:
    """The customer calls in: open a call screen for them, with the same outcome bar."""
    customer = Customer.objects.for_dealerships(access.dealerships_of(request.user)).filter(pk=customer_id).first()
    if customer is None:
        raise Http404(_("No such customer."))
    try:
        task = calls.take_inbound_call(customer=customer, agent=request.user, now=timezone.now())
    except calls.OutcomeError as error:
        messages.error(request, str(error))
        return navigate(request, reverse("customers:detail", args=[customer.pk]))
    return navigate(request, reverse("contacts:call", args=[task.pk]))

# (outcome, keyboard key, button style, panel asking for details, or "" to record at once).
OUTCOME_BUTTONS = [
    (Outcome.REACHED, "1", "primary", ""),
    (Outcome.NO_ANSWER, "2", "", ""),
    (Outcome.CALL_BACK, "3", "", "call_back"),
    (Outcome.BOOKED, "4", "", "booked"),
    (Outcome.HOT_LEAD, "5", "", "hot_lead"),
    (Outcome.WRONG_NUMBER, "6", "", ""),
    (Outcome.SERVICED_ELSEWHERE, "7", "", "serviced_elsewhere"),
    (Outcome.SOLD_CAR, "8", "", "sold_car"),
    (Outcome.DO_NOT_CALL, "9", "danger", "do_not_call"),
]

PANEL_OUTCOMES = frozenset(panel for _o, _k, _s, panel in OUTCOME_BUTTONS if panel)

# The open call screen tells the server it is still open this often (contacts.calls.keep_claim): far
# inside any claim timeout (at least a minute), so only a closed or frozen screen lets a claim go stale.
HEARTBEAT_SECONDS = 45


@require_GET
@access.role_required(access.CAN_WORK_QUEUE)
def call(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = get_task_for_user(request, pk)
    is_mine = task.status == CallTask.Status.CLAIMED and task.claimed_by_id == request.user.pk
    claim = calls.claim_token(task=task) if is_mine else ""
    return render(request, "contacts/call.html", _call_context(request, task, OutcomeForm(task=task), timezone.now(), claim))


@require_POST
@access.role_required(access.CAN_WORK_QUEUE)
def heartbeat(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The open call screen keeps its claim alive; if the call is no longer the agent's, it says why."""
    task = get_task_for_user(request, pk)
    state = calls.keep_claim(task=task, agent=request.user, now=timezone.now())
    return render(request, "contacts/call.html#claim_state", {"claim_state": state})


@require_POST
@access.role_required(access.CAN_WORK_QUEUE)
def record_outcome(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = get_task_for_user(request, pk)
    now = timezone.now()
    form = OutcomeForm(request.POST, task=task)
    claim = request.POST.get("claim", "")
    if form.is_valid():
        data = form.cleaned_data
        try:
            attempt = calls.record_outcome(
                task=task, agent=request.user, outcome=data["outcome"], now=now, note=data["note"],
                odometer_km=data["odometer_km"], vehicle=data["vehicle"], callback_at=data["callback_at"],
                booked_on=data["booked_on"], booked_time=data["booked_time"], department=data["department"], reason=data["reason"] or None,
                results=form.results(), channels=data["channels"], purposes=data["purposes"], deadline=data["deadline"],
                topic=data["topic"], temperature=data["temperature"],
                claim_started_at=calls.claim_started_at(token=claim, task=task, agent=request.user),
            )
        except calls.OutcomeError as error:
            form.add_error(None, str(error))
        except DatabaseError:
            logger.exception("record_outcome failed for task %s", task.pk)
            form.add_error(None, _("The database was busy and nothing was saved. Press the button again."))
        else:
            return _after_outcome(request, data, now, attempt)
    task.refresh_from_db()
    context = _call_context(request, task, form, now, claim)
    if is_htmx(request):
        # htmx swaps only 2xx answers by default: the error form comes back as 200.
        return render(request, "contacts/call.html#outcome", context)
    return render(request, "contacts/call.html", context, status=400)


def _after_outcome(
    request: AuthenticatedHttpRequest, data: dict[str, Any], now: dt.datetime, attempt: CallAttempt
) -> HttpResponse:
    messages.success(request, _("Saved: %(outcome)s.") % {"outcome": Outcome(data["outcome"]).label})
    request.session[LAST_OUTCOME] = {"attempt_id": attempt.pk, "until": (now + calls.UNDO_WINDOW).isoformat()}
    if data.get("then") == "pause":
        presence.set_presence(request.user, presence.State.PAUSED, now=now)
        return navigate(request, reverse("contacts:queue"))
    return _go_to_next_call(request, now)

LAST_OUTCOME = "contacts.last_outcome"  # the session's note of the agent's last outcome, for its undo


def _undo_offer(request: AuthenticatedHttpRequest, now: dt.datetime) -> dict[str, Any] | None:
    """The agent's last outcome while it can still be undone, in words for the undo bar."""
    last = request.session.get(LAST_OUTCOME)
    if not last or dt.datetime.fromisoformat(last["until"]) <= now:
        return None
    if not calls.can_undo(attempt_id=last["attempt_id"], agent=request.user, now=now):
        return None
    attempt = CallAttempt.objects.filter(pk=last["attempt_id"]).select_related("customer__dealership").first()
    if attempt is None:
        return None
    until = calls.local_now(attempt.customer.dealership, dt.datetime.fromisoformat(last["until"]))
    return {"attempt_id": attempt.pk, "outcome": attempt.get_outcome_display(), "customer": attempt.customer.full_name,
            "until": until.strftime("%H:%M")}


@require_POST
@access.role_required(access.CAN_WORK_QUEUE)
def undo(request: AuthenticatedHttpRequest, attempt_id: int) -> HttpResponse:
    try:
        task = calls.undo_outcome(attempt_id=attempt_id, agent=request.user, now=timezone.now())
    except calls.OutcomeError as error:
        messages.error(request, str(error))
        return navigate(request, reverse("contacts:queue"))
    request.session.pop(LAST_OUTCOME, None)
    messages.info(request, _("Undone: the call to %(customer)s is open again.") % {"customer": task.customer.full_name})
    return navigate(request, reverse("contacts:call", args=[task.pk]))


def _call_context(
    request: AuthenticatedHttpRequest, task: CallTask, form: OutcomeForm, now: dt.datetime, claim: str
) -> dict[str, Any]:
    """``claim``: the screen's proof that the agent held the call (calls.claim_token); with it the
    outcome bar stays while the call is open, even if the claim was released meanwhile."""
    user = request.user
    dealership = task.dealership
    rules = ContactRules.for_dealership(dealership)
    today = dealership.local_date(now)
    topics = call_topics(task, today=today)
    is_mine = task.status == CallTask.Status.CLAIMED and task.claimed_by_id == user.pk
    if not is_mine and task.status in (CallTask.Status.OPEN, CallTask.Status.CLAIMED):
        is_mine = calls.claim_started_at(token=claim, task=task, agent=user) is not None
    chosen = form.data.get("outcome", "") if form.is_bound else ""
    card = customer_card(customer=task.customer, today=today, first_vehicle_ids=form.call_vehicle_ids)
    vehicles = [v for v in card["vehicles"] if v.is_active]
    last_readings = {v.pk: next(iter(v.odometer_readings.all()), None) for v in vehicles}  # prefetched, newest first
    return {
        **card,
        "task": task,
        "agenda": topics,
        "sections": script_sections(
            task, topics=topics, agent_name=user.first_name or user.username, today=today, language=task.customer.language
        ),
        "explanation": other_plans(task.explanation or {}),
        "form": form,
        "is_mine": is_mine,
        "claim": claim,
        "heartbeat_seconds": HEARTBEAT_SECONDS,
        "undo_offer": _undo_offer(request, now),
        "outcomes": OUTCOME_BUTTONS,
        "open_panel": chosen if chosen in PANEL_OUTCOMES and form.errors else "",
        "active_vehicles": vehicles,
        "last_reading": last_readings.get(vehicles[0].pk) if len(vehicles) == 1 else None,
        "suggested_callback": _suggested_callback(dealership, now).strftime("%Y-%m-%dT%H:%M"),
        "min_callback": calls.local_now(dealership, now).strftime("%Y-%m-%dT%H:%M"),
        "next_working_day": calls.next_working_day(today, dealership=dealership, rules=rules),
        "today": today,
        "hours_open": calls.is_within_call_hours(dealership, now),
    }


def _suggested_callback(dealership: Dealership, now: dt.datetime) -> dt.datetime:
    """In an hour, on the half hour; if that is outside call hours, the next day an hour after opening."""
    local = calls.local_now(dealership, now) + dt.timedelta(hours=1)
    local = local.replace(minute=0 if local.minute < 30 else 30, second=0, microsecond=0)
    if calls.is_within_call_hours(dealership, local):
        return local
    day = local.date() if local.time() < dealership.call_hours_start else local.date() + dt.timedelta(days=1)
    opening = dt.datetime.combine(day, dealership.call_hours_start, tzinfo=dealership.zone)
    return opening + dt.timedelta(hours=1)


@require_POST
@access.role_required(access.CAN_WORK_QUEUE)
def release(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = get_task_for_user(request, pk)
    if calls.release_call(task=task, by=request.user):
        messages.info(request, _("The call to %(customer)s went back to the queue.") % {"customer": task.customer.full_name})
    else:
        messages.error(request, _("That call is not in progress any more, or it is not yours to release."))
    if request.POST.get("back") == "floor" and access.has_role(request.user, access.CAN_SUPERVISE):
        return floor_answer(request)
    return navigate(request, reverse("contacts:queue"))
