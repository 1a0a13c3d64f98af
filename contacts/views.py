"""The call-centre pages: the agent's queue and call screen, the supervisor's floor, the department inbox.

Who may open a page is decided once, by ``customers.access.role_required`` (a page of another role is
a 403); which rows a user may touch is decided by the ``_get_<thing>_for_user`` helpers through
``customers.access.dealerships_of`` (a task of another dealership is a 404). The work itself is done
by ``contacts.calls``; these views only read the request, call it and render.

htmx: forms post with ``hx-post``; an error re-renders only the form's partial with what the agent
typed; a success moves to the next page with ``HX-Location`` (an ajax swap of ``<main>``, no reload).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.db import DatabaseError
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from contacts import calls
from contacts.card import customer_card
from contacts.forms import CapacityForm, HandoffCloseForm, OutcomeForm, ReassignForm
from contacts.models import (
    REACHED_OUTCOMES,
    CallAttempt,
    CallTask,
    ContactRules,
    DailyCapacity,
    Handoff,
    TouchpointTemplate,
)
from contacts.queues import AGENT_MARKER, why
from customers import access
from customers.models import Dealership

logger = logging.getLogger(__name__)
Outcome = CallAttempt.Outcome
# The most urgent calls the queue page lists: two screens of a 1366x768 display; "Next call" always
# takes the most urgent one anyway, and 150 rows cost three times the rendering.
QUEUE_ROWS = 50
FLOOR_WAITING_ROWS = 15


class AuthenticatedHttpRequest(HttpRequest):
    user: User


# --- helpers: access and navigation ---------------------------------------------------------------


def _get_task_for_user(request: AuthenticatedHttpRequest, pk: int) -> CallTask:
    task = (
        CallTask.objects.filter(pk=pk, dealership__in=access.dealerships_of(request.user))
        .select_related("customer", "dealership", "claimed_by", "assigned_to")
        .first()
    )
    if task is None:
        raise Http404(_("No such call."))
    return task


def _get_handoff_for_user(request: AuthenticatedHttpRequest, pk: int) -> Handoff:
    handoff = _handoffs_for(request).filter(pk=pk).first()
    if handoff is None:
        raise Http404(_("No such hand-off."))
    return handoff


def _get_dealership_for_user(request: AuthenticatedHttpRequest, pk: int) -> Dealership:
    dealership = access.dealerships_of(request.user).filter(pk=pk).first()
    if dealership is None:
        raise Http404(_("No such dealership."))
    return dealership


def _handoffs_for(request: AuthenticatedHttpRequest) -> QuerySet[Handoff]:
    """Hand-offs of the user's dealerships; department staff see only their departments'."""
    handoffs = Handoff.objects.filter(dealership__in=access.dealerships_of(request.user)).select_related(
        "customer", "vehicle", "department", "accepted_by", "created_from__agent"
    )
    roles = access.roles_of(request.user)
    if not roles & {access.SUPERVISOR, access.MANAGER, access.ADMIN}:
        handoffs = handoffs.filter(department__code__in=roles)
    return handoffs


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _navigate(request: HttpRequest, url: str) -> HttpResponse:
    """Go to another page: with htmx, fetch it, swap the body in place and push the URL (no reload, the
    header's language switch learns the new address); without htmx, a redirect."""
    if _is_htmx(request):
        response = HttpResponse()
        response["HX-Location"] = json.dumps({"path": url})
        return response
    return redirect(url)


def _home_dealership(request: AuthenticatedHttpRequest) -> Dealership | None:
    return access.dealerships_of(request.user).order_by("id").first()


def _today_bounds(request: AuthenticatedHttpRequest, now: dt.datetime) -> tuple[dt.date, dt.datetime, dt.datetime]:
    """Today in the user's (first) dealership's zone, and that day's [start, end) instants."""
    dealership = _home_dealership(request)
    if dealership is None:
        day = now.date()
        start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
        return day, start, start + dt.timedelta(days=1)
    day = dealership.local_date(now)
    return (day, *calls.local_day_bounds(dealership, day))


# --- the agent's queue ----------------------------------------------------------------------------


@require_GET
@access.role_required(access.CAN_WORK_QUEUE)
def queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = _queue_context(request, timezone.now())
    template = "contacts/queue.html#board" if request.GET.get("part") == "board" else "contacts/queue.html"
    return render(request, template, context)


def _queue_context(request: AuthenticatedHttpRequest, now: dt.datetime) -> dict[str, Any]:
    user = request.user
    dealerships = list(access.dealerships_of(user).order_by("id"))
    today, start, end = _today_bounds(request, now)
    tasks = calls.queue_in_order(agent=user, dealerships=dealerships, now=now, limit=QUEUE_ROWS)
    for task in tasks:
        task.local_today = task.dealership.local_date(now)  # type: ignore[attr-defined]
        task.is_overdue_today = task.window_end < task.local_today  # type: ignore[attr-defined]
        task.is_due_callback = task.callback_at is not None and task.callback_at <= now  # type: ignore[attr-defined]
    mine = CallAttempt.objects.filter(agent=user, ended_at__gte=start, ended_at__lt=end).aggregate(
        done=Count("id"), reached=Count("id", filter=Q(outcome__in=REACHED_OUTCOMES))
    )
    closed_hours = [d for d in dealerships if not calls.is_within_call_hours(d, now)]
    return {
        "tasks": tasks,
        "today": today,
        "now": now,
        "done": mine["done"],
        "reached": mine["reached"],
        "left": calls.queue_for(dealerships=dealerships, now=now).count(),
        "shown": len(tasks),
        "held": CallTask.objects.filter(claimed_by=user, status=CallTask.Status.CLAIMED).select_related("customer").first(),
        "hours_message": calls.call_hours_message(closed_hours[0], now) if dealerships and len(closed_hours) == len(dealerships) else "",
        "has_dealership": bool(dealerships),
    }


@require_POST
@access.role_required(access.CAN_WORK_QUEUE)
def next_call(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _go_to_next_call(request, timezone.now())


def _go_to_next_call(request: AuthenticatedHttpRequest, now: dt.datetime) -> HttpResponse:
    try:
        result = calls.claim_next_call(agent=request.user, now=now)
    except DatabaseError:
        logger.exception("claim_next_call failed for user %s", request.user.pk)
        messages.error(request, _("The database was busy and no call was taken. Press Next call again."))
        return _navigate(request, reverse("contacts:queue"))
    if result.task is None:
        # Outside call hours the queue page itself says so, with the hours: no second message.
        if result.reason != "outside_call_hours":
            messages.info(request, result.message)
        return _navigate(request, reverse("contacts:queue"))
    return _navigate(request, reverse("contacts:call", args=[result.task.pk]))


# --- the call screen ------------------------------------------------------------------------------

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


@require_GET
@access.role_required(access.CAN_WORK_QUEUE)
def call(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = _get_task_for_user(request, pk)
    return render(request, "contacts/call.html", _call_context(request, task, OutcomeForm(task=task), timezone.now()))


@require_POST
@access.role_required(access.CAN_WORK_QUEUE)
def record_outcome(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = _get_task_for_user(request, pk)
    now = timezone.now()
    form = OutcomeForm(request.POST, task=task)
    if form.is_valid():
        data = form.cleaned_data
        try:
            calls.record_outcome(
                task=task, agent=request.user, outcome=data["outcome"], now=now, note=data["note"],
                odometer_km=data["odometer_km"], vehicle=data["vehicle"], callback_at=data["callback_at"],
                booked_on=data["booked_on"], department=data["department"], reason=data["reason"] or None,
                results=form.results(), channels=data["channels"], deadline=data["deadline"],
            )
        except calls.OutcomeError as error:
            form.add_error(None, str(error))
        except DatabaseError:
            logger.exception("record_outcome failed for task %s", task.pk)
            form.add_error(None, _("The database was busy and nothing was saved. Press the button again."))
        else:
            return _after_outcome(request, data, now)
    task.refresh_from_db()
    context = _call_context(request, task, form, now)
    if _is_htmx(request):
        # htmx swaps only 2xx answers by default: the error form comes back as 200.
        return render(request, "contacts/call.html#outcome", context)
    return render(request, "contacts/call.html", context, status=400)


def _after_outcome(request: AuthenticatedHttpRequest, data: dict[str, Any], now: dt.datetime) -> HttpResponse:
    messages.success(request, _("Saved: %(outcome)s.") % {"outcome": Outcome(data["outcome"]).label})
    if data.get("then") == "pause":
        return _navigate(request, reverse("contacts:queue"))
    return _go_to_next_call(request, now)


def _call_context(request: AuthenticatedHttpRequest, task: CallTask, form: OutcomeForm, now: dt.datetime) -> dict[str, Any]:
    user = request.user
    dealership = task.dealership
    rules = ContactRules.for_dealership(dealership)
    today = dealership.local_date(now)
    agenda = [dict(item) for item in task.agenda]
    for item in agenda:
        if "detail" in item:
            # The reason was written in the queue build's language; say it in the agent's.
            item["why"] = why(item.get("reason", ""), item.get("detail") or {})
    is_mine = task.status == CallTask.Status.CLAIMED and task.claimed_by_id == user.pk
    chosen = form.data.get("outcome", "") if form.is_bound else ""
    card = customer_card(customer=task.customer, today=today)
    vehicles = [v for v in card["vehicles"] if v.is_active]
    for vehicle in vehicles:
        readings = list(vehicle.odometer_readings.all())  # prefetched, newest first
        vehicle.last_reading = readings[0] if readings else None
    return {
        **card,
        "task": task,
        "agenda": agenda,
        "sections": _script_sections(task.script, user.first_name or user.username, len(agenda)),
        "explanation": _explanation(task.explanation or {}),
        "form": form,
        "is_mine": is_mine,
        "outcomes": OUTCOME_BUTTONS,
        "open_panel": chosen if chosen in PANEL_OUTCOMES and form.errors else "",
        "active_vehicles": vehicles,
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


SECTION_HEADING = re.compile(r"(?m)^## ")


def _script_sections(script: str, agent_name: str, agenda_size: int) -> list[dict[str, Any]]:
    """One section per agenda item ("## title" lines, as the queue build writes them), agent named."""
    text = (script or "").replace(AGENT_MARKER, agent_name)
    blocks = SECTION_HEADING.split(text)
    sections = []
    if blocks[0].strip():
        sections.append({"title": "", "body": blocks[0].strip()})
    for block in blocks[1:]:
        title, _newline, body = block.partition("\n")
        sections.append({"title": title.strip(), "body": body.strip()})
    for position, section in enumerate(sections):
        section["position"] = position if position < max(1, agenda_size) else None
    return sections


# The resolver's reason codes (contacts.core.pressure), in words an agent reads.
RULE_WORDS = {
    "merge": lambda: _("moved so that one call covers several topics"),
    "holiday": lambda: _("a public holiday"),
    "weekend": lambda: _("a weekend"),
    "message_same_day_as_call": lambda: _("a message goes out that day"),
    "min_gap": lambda: _("too soon after another call"),
    "cap_30": lambda: _("the limit of calls in 30 days"),
    "cap_365": lambda: _("the limit of calls in a year"),
    "message_gap": lambda: _("too soon after another message"),
}


def reason_words(reason: str) -> str:
    kind, _colon, rest = (reason or "").partition(":")
    if kind == "merged_into":
        return _("on this call, so the customer gets one call instead of several")
    if kind == "deferred":
        return RULE_WORDS[rest]() if rest in RULE_WORDS else rest
    if kind == "window_closed":
        rule = RULE_WORDS[rest]() if rest in RULE_WORDS else rest
        return _("its time window closed (%(rule)s)") % {"rule": rule}
    if kind == "do_not_contact":
        return _("the customer refused this channel (%(channel)s)") % {"channel": rest}
    if kind == "unreachable":
        return _("the phone is marked unreachable")
    if kind == "window_passed":
        return _("its time window has passed")
    if kind == "beyond_horizon":
        return _("too far ahead to plan yet")
    return reason


def _date_or_none(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _explanation(explanation: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    codes = {item.get("code", "") for items in explanation.values() if isinstance(items, list) for item in items}
    names = {t.code: t.name for t in TouchpointTemplate.objects.filter(code__in=codes)}
    result: dict[str, list[dict[str, Any]]] = {}
    for kind in ("merged", "deferred", "suppressed"):
        result[kind] = [
            {"title": names.get(item.get("code", ""), item.get("code", "")), "why": reason_words(item.get("reason", "")),
             "on": _date_or_none(item.get("on", ""))}
            for item in explanation.get(kind) or []
        ]
    return result


@require_POST
@access.role_required(access.CAN_WORK_QUEUE)
def release(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = _get_task_for_user(request, pk)
    if calls.release_call(task=task, by=request.user):
        messages.info(request, _("The call to %(customer)s went back to the queue.") % {"customer": task.customer.full_name})
    else:
        messages.error(request, _("That call is not in progress any more, or it is not yours to release."))
    if request.POST.get("back") == "floor" and access.has_role(request.user, access.CAN_SUPERVISE):
        return _floor_answer(request)
    return _navigate(request, reverse("contacts:queue"))


# --- the supervisor's floor -----------------------------------------------------------------------


@require_GET
@access.role_required(access.CAN_SUPERVISE)
def floor(request: AuthenticatedHttpRequest) -> HttpResponse:
    template = "contacts/floor.html#live" if request.GET.get("part") == "live" else "contacts/floor.html"
    return render(request, template, _floor_context(request, timezone.now()))


def _floor_answer(request: AuthenticatedHttpRequest) -> HttpResponse:
    if _is_htmx(request):
        return render(request, "contacts/floor.html#live", _floor_context(request, timezone.now()))
    return redirect("contacts:floor")


def _floor_context(request: AuthenticatedHttpRequest, now: dt.datetime) -> dict[str, Any]:
    dealerships = list(access.dealerships_of(request.user).select_related("contact_rules").order_by("id"))
    today, start, end = _today_bounds(request, now)
    timeouts = {d.pk: ContactRules.for_dealership(d).claim_timeout_minutes for d in dealerships}
    staff = Dealership.staff.through.objects.filter(dealership__in=dealerships)
    dealerships_of_user: dict[int, set[int]] = {}
    for user_id, dealership_id in staff.values_list("user_id", "dealership_id"):
        dealerships_of_user.setdefault(user_id, set()).add(dealership_id)
    agents = list(
        User.objects.filter(pk__in=dealerships_of_user, groups__name=access.AGENT, is_active=True).distinct().order_by(
            "first_name", "username"
        )
    )
    counts = {
        row["agent"]: row
        for row in CallAttempt.objects.filter(
            call_task__dealership__in=dealerships, ended_at__gte=start, ended_at__lt=end
        ).values("agent").annotate(calls=Count("id"), reached=Count("id", filter=Q(outcome__in=REACHED_OUTCOMES)))
    }
    claims = list(
        CallTask.objects.filter(dealership__in=dealerships, status=CallTask.Status.CLAIMED)
        .select_related("claimed_by", "customer", "dealership")
        .order_by("claimed_at")
    )
    stale_count = 0
    for task in claims:
        minutes = int((now - task.claimed_at).total_seconds() // 60) if task.claimed_at else 0
        is_stale = minutes >= timeouts.get(task.dealership_id, 20)
        task.age_minutes = minutes  # type: ignore[attr-defined]
        task.is_stale = is_stale  # type: ignore[attr-defined]
        stale_count += is_stale
    claim_of = {task.claimed_by_id: task for task in claims}
    # Anyone holding a claim appears, agent or not (a supervisor may take calls too).
    people = agents + [t.claimed_by for t in claims if t.claimed_by and t.claimed_by not in agents]
    rows = []
    for person in people:
        row = counts.get(person.pk, {"calls": 0, "reached": 0})
        rows.append({
            "user": person,
            "calls": row["calls"],
            "reached": row["reached"],
            "reach_rate": round(100 * row["reached"] / row["calls"]) if row["calls"] else None,
            "claim": claim_of.get(person.pk),
        })
    for task in claims:
        task.assignable = [a for a in agents if task.dealership_id in dealerships_of_user.get(a.pk, set())]  # type: ignore[attr-defined]
    capacities = []
    for dealership in dealerships:
        day = dealership.local_date(now)
        rules = ContactRules.for_dealership(dealership)
        row_capacity = DailyCapacity.objects.filter(dealership=dealership, day=day).first()
        on_shift = row_capacity.agents_on_shift if row_capacity else rules.default_agents_on_shift
        capacities.append({
            "dealership": dealership,
            "agents_on_shift": on_shift,
            "is_default": row_capacity is None,
            "calls": on_shift * rules.calls_per_agent,
            "left": calls.queue_for(dealerships=[dealership], now=now).count(),
            "done": CallAttempt.objects.filter(
                call_task__dealership=dealership, ended_at__gte=calls.local_day_bounds(dealership, day)[0],
                ended_at__lt=calls.local_day_bounds(dealership, day)[1],
            ).count(),
        })
    waiting = list(
        calls.queue_for(dealerships=dealerships, now=now)
        .select_related("customer", "assigned_to", "dealership")
        .order_by("priority", "window_end", "id")[:FLOOR_WAITING_ROWS]
    )
    for task in waiting:
        task.assignable = [a for a in agents if task.dealership_id in dealerships_of_user.get(a.pk, set())]  # type: ignore[attr-defined]
    done = sum(r["calls"] for r in counts.values())
    reached = sum(r["reached"] for r in counts.values())
    return {
        "rows": rows,
        "claims": claims,
        "stale_count": stale_count,
        "capacities": capacities,
        "waiting": waiting,
        "today": today,
        "now": now,
        "done": done,
        "reach_rate": round(100 * reached / done) if done else None,
    }


@require_POST
@access.role_required(access.CAN_SUPERVISE)
def set_capacity(request: AuthenticatedHttpRequest, dealership_id: int) -> HttpResponse:
    dealership = _get_dealership_for_user(request, dealership_id)
    form = CapacityForm(request.POST)
    if form.is_valid():
        calls.set_agents_on_shift(
            dealership=dealership, day=dealership.local_date(timezone.now()),
            agents_on_shift=form.cleaned_data["agents_on_shift"], by=request.user,
        )
        messages.success(request, _("%(dealership)s: %(n)s agents on shift today.") % {
            "dealership": dealership.name, "n": form.cleaned_data["agents_on_shift"]})
    else:
        messages.error(request, _("Agents on shift must be a whole number from 0 to 500."))
    return _floor_answer(request)


@require_POST
@access.role_required(access.CAN_SUPERVISE)
def reassign(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = _get_task_for_user(request, pk)
    form = ReassignForm(request.POST, task=task)
    if form.is_valid() and calls.reassign_call(task=task, to=form.cleaned_data["agent"], by=request.user):
        agent = form.cleaned_data["agent"]
        messages.success(request, _("The call to %(customer)s now waits for %(agent)s.") % {
            "customer": task.customer.full_name, "agent": agent.get_full_name() or agent.username})
    else:
        messages.error(request, _("Choose an agent of this dealership; a finished call cannot be reassigned."))
    return _floor_answer(request)


# --- the department inbox -------------------------------------------------------------------------


@require_GET
@access.role_required(access.CAN_SEE_INBOX)
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    today, _start, _end = _today_bounds(request, timezone.now())
    handoffs = _handoffs_for(request)
    return render(request, "contacts/inbox.html", {
        "handoffs": list(handoffs.exclude(status=Handoff.Status.CLOSED).order_by("deadline", "id")[:300]),
        "closed": list(handoffs.filter(status=Handoff.Status.CLOSED).order_by("-closed_at")[:20]),
        "today": today,
    })


@require_POST
@access.role_required(access.CAN_SEE_INBOX)
def handoff_action(request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
    handoff = _get_handoff_for_user(request, pk)
    error = ""
    if action == "accept":
        if not calls.accept_handoff(handoff=handoff, by=request.user):
            error = _("Someone accepted or closed this hand-off already.")
    elif action == "close":
        form = HandoffCloseForm(request.POST)
        if not form.is_valid():
            error = _("Write the result (up to 200 characters) before closing the hand-off.")
        else:
            try:
                calls.close_handoff(handoff=handoff, by=request.user, result=form.cleaned_data["result"], now=timezone.now())
            except calls.OutcomeError as problem:
                error = str(problem)
    else:
        raise Http404(_("No such action."))
    if _is_htmx(request):
        today, _start, _end = _today_bounds(request, timezone.now())
        handoff = _get_handoff_for_user(request, pk)
        return render(request, "contacts/inbox.html#row", {"h": handoff, "today": today, "row_error": error,
                                                            "typed_result": request.POST.get("result", "")})
    if error:
        messages.error(request, error)
    return redirect("contacts:inbox")
