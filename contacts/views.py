"""The call-centre pages: the agent's queue and call screen, the supervisor's floor, the department inbox.

Access is decided in customers.access (roles) and in the ``_get_*_for_user`` helpers (dealership
scoping): a task of another dealership is a 404, a page of another role a 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts import calls
from contacts.card import customer_card
from contacts.forms import CapacityForm, HandoffCloseForm, OutcomeForm
from contacts.models import REACHED_OUTCOMES, CallAttempt, CallTask, DailyCapacity, Handoff
from contacts.queues import AGENT_MARKER, why
from customers import access


def _today(request: HttpRequest, now: dt.datetime) -> dt.date:
    dealership = access.dealerships_of(request.user).first()
    return dealership.local_date(now) if dealership else now.date()


def _get_task_for_user(request: HttpRequest, pk: int) -> CallTask:
    try:
        return CallTask.objects.select_related("customer", "dealership").get(
            pk=pk, dealership__in=access.dealerships_of(request.user)
        )
    except CallTask.DoesNotExist:
        raise Http404(_("No such call.")) from None


def _hx_redirect(request: HttpRequest, url: str) -> HttpResponse:
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@access.role_required(access.CAN_WORK_QUEUE)
def queue(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    today = _today(request, now)
    dealerships = access.dealerships_of(request.user)
    tasks = calls.queue_in_order(dealerships=dealerships, day=today, now=now, limit=150)
    user: Any = request.user
    mine_today = CallAttempt.objects.filter(agent=user, ended_at__date=today)
    counts = mine_today.aggregate(done=Count("id"), reached=Count("id", filter=Q(outcome__in=REACHED_OUTCOMES)))
    context: dict[str, Any] = {
        "tasks": tasks,
        "today": today,
        "now": now,
        "left": calls.queue_for(dealerships=dealerships, day=today).count(),
        "done": counts["done"],
        "reached": counts["reached"],
        "held": CallTask.objects.filter(claimed_by=user, status=CallTask.Status.CLAIMED).first(),
    }
    template = "contacts/queue.html#rows" if request.headers.get("HX-Request") else "contacts/queue.html"
    return render(request, template, context)


@require_POST
@access.role_required(access.CAN_WORK_QUEUE)
def next_call(request: HttpRequest) -> HttpResponse:
    result = calls.claim_next_call(agent=request.user, dealerships=list(access.dealerships_of(request.user)), now=timezone.now())
    if result.task is None:
        messages.info(request, result.message)
        return _hx_redirect(request, reverse("contacts:queue"))
    return _hx_redirect(request, reverse("contacts:call", args=[result.task.pk]))


@access.role_required(access.CAN_WORK_QUEUE)
def call(request: HttpRequest, pk: int) -> HttpResponse:
    task = _get_task_for_user(request, pk)
    now = timezone.now()
    form = OutcomeForm(customer_id=task.customer_id)
    return render(request, "contacts/call.html", _call_context(request, task, form, now))


def _call_context(request: HttpRequest, task: CallTask, form: OutcomeForm, now: dt.datetime) -> dict[str, Any]:
    user: Any = request.user
    script = task.script.replace(AGENT_MARKER, user.first_name or user.username)
    sections = []
    for block in script.split("## ")[1:] if script.startswith("## ") else [script]:
        title, _newline, body = block.partition("\n")
        sections.append({"title": title.strip(), "body": body.strip()})
    today = task.dealership.local_date(now)
    # The reasons were written in the build's language; say them again in the agent's.
    for item in task.agenda:
        if "detail" in item:
            item["why"] = why(item.get("reason", ""), item["detail"])
    return {
        "task": task,
        "sections": sections,
        "form": form,
        "is_mine": task.status == CallTask.Status.CLAIMED and task.claimed_by_id == user.pk,
        "outcomes": OUTCOME_BUTTONS,
        "default_booking": today + dt.timedelta(days=3),
        **customer_card(customer=task.customer, today=today),
    }


# (outcome, keyboard key, style) in the order of the buttons.
OUTCOME_BUTTONS = [
    (CallAttempt.Outcome.REACHED, "1", "primary"),
    (CallAttempt.Outcome.NO_ANSWER, "2", ""),
    (CallAttempt.Outcome.CALL_BACK, "3", ""),
    (CallAttempt.Outcome.BOOKED, "4", ""),
    (CallAttempt.Outcome.HOT_LEAD, "5", ""),
    (CallAttempt.Outcome.WRONG_NUMBER, "6", ""),
    (CallAttempt.Outcome.SERVICED_ELSEWHERE, "7", ""),
    (CallAttempt.Outcome.SOLD_CAR, "8", ""),
    (CallAttempt.Outcome.DO_NOT_CALL, "9", "danger"),
]


@require_POST
@access.role_required(access.CAN_WORK_QUEUE)
def record_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    task = _get_task_for_user(request, pk)
    now = timezone.now()
    form = OutcomeForm(request.POST, customer_id=task.customer_id)
    if form.is_valid():
        data = form.cleaned_data
        callback_at = data["callback_at"]
        if callback_at is not None and timezone.is_naive(callback_at):
            callback_at = timezone.make_aware(callback_at, task.dealership.zone)
        results = {
            key.removeprefix("result_"): str(value)
            for key, value in request.POST.items()
            if key.startswith("result_") and value
        }
        try:
            calls.record_outcome(
                task=task, agent=request.user, outcome=data["outcome"], now=now, note=data["note"],
                odometer_km=data["odometer_km"], vehicle=data["vehicle"], callback_at=callback_at,
                booked_on=data["booked_on"], department=data["department"], reason=data["reason"] or None,
                results=results,
            )
        except calls.OutcomeError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Saved: %(outcome)s.") % {"outcome": CallAttempt.Outcome(data["outcome"]).label})
            if request.POST.get("then") == "queue":
                return _hx_redirect(request, reverse("contacts:queue"))
            result = calls.claim_next_call(agent=request.user, dealerships=list(access.dealerships_of(request.user)), now=now)
            if result.task is None:
                messages.info(request, result.message)
                return _hx_redirect(request, reverse("contacts:queue"))
            return _hx_redirect(request, reverse("contacts:call", args=[result.task.pk]))
    task.refresh_from_db()
    context = _call_context(request, task, form, now)
    template = "contacts/call.html#outcome" if request.headers.get("HX-Request") else "contacts/call.html"
    return render(request, template, context, status=200 if request.headers.get("HX-Request") else 400)


@require_POST
@access.role_required(access.CAN_WORK_QUEUE)
def release(request: HttpRequest, pk: int) -> HttpResponse:
    task = _get_task_for_user(request, pk)
    if task.claimed_by_id == request.user.pk or access.has_role(request.user, access.CAN_SUPERVISE):
        calls.release_call(task=task)
        messages.info(request, _("The call went back to the queue."))
    else:
        raise Http404(_("No such call."))
    if access.has_role(request.user, access.CAN_SUPERVISE) and request.POST.get("back") == "floor":
        return redirect("contacts:floor")
    return redirect("contacts:queue")


@access.role_required(access.CAN_SUPERVISE)
def floor(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    today = _today(request, now)
    dealerships = access.dealerships_of(request.user)
    agents = (
        User.objects.filter(groups__name=access.AGENT, dealerships__in=dealerships)
        .distinct()
        .annotate(
            calls_today=Count("calls", filter=Q(calls__ended_at__date=today), distinct=True),
            reached_today=Count("calls", filter=Q(calls__ended_at__date=today, calls__outcome__in=REACHED_OUTCOMES), distinct=True),
        )
        .order_by("username")
    )
    claims = list(
        CallTask.objects.filter(dealership__in=dealerships, status=CallTask.Status.CLAIMED)
        .select_related("claimed_by", "customer", "dealership__contact_rules")
        .order_by("claimed_at")
    )
    for task in claims:
        minutes = int((now - task.claimed_at).total_seconds() // 60) if task.claimed_at else 0
        limit = getattr(task.dealership, "contact_rules", None)
        task.age_minutes = minutes  # type: ignore[attr-defined]
        task.is_stale = minutes >= (limit.claim_timeout_minutes if limit else 20)  # type: ignore[attr-defined]
    capacities = []
    for dealership in dealerships:
        row = DailyCapacity.objects.filter(dealership=dealership, day=dealership.local_date(now)).first()
        rules = getattr(dealership, "contact_rules", None)
        agents_on_shift = row.agents_on_shift if row else (rules.default_agents_on_shift if rules else 0)
        capacities.append({
            "dealership": dealership,
            "agents_on_shift": agents_on_shift,
            "calls": agents_on_shift * (rules.calls_per_agent if rules else 0),
            "left": calls.queue_for(dealerships=[dealership], day=dealership.local_date(now)).count(),
        })
    done = sum(a.calls_today for a in agents)
    reached = sum(a.reached_today for a in agents)
    return render(request, "contacts/floor.html", {
        "agents": agents, "claims": claims, "capacities": capacities, "today": today,
        "done": done, "reach_rate": round(100 * reached / done) if done else None,
        "assignable": agents,
    })


@require_POST
@access.role_required(access.CAN_SUPERVISE)
def set_capacity(request: HttpRequest, dealership_id: int) -> HttpResponse:
    dealership = access.dealerships_of(request.user).filter(pk=dealership_id).first()
    if dealership is None:
        raise Http404(_("No such dealership."))
    form = CapacityForm(request.POST)
    if form.is_valid():
        DailyCapacity.objects.update_or_create(
            dealership=dealership, day=dealership.local_date(timezone.now()),
            defaults={"agents_on_shift": form.cleaned_data["agents_on_shift"], "set_by": request.user},
        )
        messages.success(request, _("Capacity for today saved."))
    else:
        messages.error(request, _("Agents on shift must be a whole number from 0 to 500."))
    return redirect("contacts:floor")


@require_POST
@access.role_required(access.CAN_SUPERVISE)
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    task = _get_task_for_user(request, pk)
    agent = User.objects.filter(pk=request.POST.get("agent") or 0, dealerships=task.dealership).first()
    if agent is None:
        messages.error(request, _("Choose an agent of this dealership."))
        return redirect("contacts:floor")
    CallTask.objects.filter(pk=task.pk).update(
        assigned_to=agent, status=CallTask.Status.OPEN, claimed_by=None, claimed_at=None
    )
    messages.success(request, _("The call now waits for %(agent)s.") % {"agent": agent.get_full_name() or agent.username})
    return redirect("contacts:floor")


def _handoffs_for(request: HttpRequest) -> Any:
    handoffs = Handoff.objects.filter(dealership__in=access.dealerships_of(request.user)).select_related(
        "customer", "vehicle", "department"
    )
    roles = access.roles_of(request.user)
    if not roles & {access.SUPERVISOR, access.MANAGER, access.ADMIN}:
        handoffs = handoffs.filter(department__code__in=roles)
    return handoffs


@access.role_required(access.CAN_SEE_INBOX)
def inbox(request: HttpRequest) -> HttpResponse:
    today = _today(request, timezone.now())
    handoffs = _handoffs_for(request).exclude(status=Handoff.Status.CLOSED).order_by("deadline", "id")
    closed = _handoffs_for(request).filter(status=Handoff.Status.CLOSED).order_by("-closed_at")[:20]
    return render(request, "contacts/inbox.html", {"handoffs": handoffs, "closed": closed, "today": today})


@require_POST
@access.role_required(access.CAN_SEE_INBOX)
def handoff_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    handoff = _handoffs_for(request).filter(pk=pk).first()
    if handoff is None:
        raise Http404(_("No such hand-off."))
    if action == "accept":
        Handoff.objects.filter(pk=pk, status=Handoff.Status.NEW).update(status=Handoff.Status.ACCEPTED, accepted_by=request.user)
    elif action == "close":
        form = HandoffCloseForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Write the result before closing the hand-off."))
            return redirect("contacts:inbox")
        Handoff.objects.filter(pk=pk).exclude(status=Handoff.Status.CLOSED).update(
            status=Handoff.Status.CLOSED, result=form.cleaned_data["result"], closed_at=timezone.now()
        )
    else:
        raise Http404(_("No such action."))
    return redirect("contacts:inbox")


