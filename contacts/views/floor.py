"""The supervisor's floor: who is on which call, agents on shift, reassigning a call."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from contacts import calls
from contacts.floor import floor_summary
from contacts.forms import CapacityForm, ReassignForm
from contacts.views.common import (
    AuthenticatedHttpRequest,
    get_dealership_for_user,
    get_task_for_user,
    is_htmx,
    today_bounds,
)
from customers import access


@require_GET
@access.role_required(access.CAN_SUPERVISE)
def floor(request: AuthenticatedHttpRequest) -> HttpResponse:
    template = "contacts/floor.html#live" if request.GET.get("part") == "live" else "contacts/floor.html"
    return render(request, template, _floor_context(request, timezone.now()))


def floor_answer(request: AuthenticatedHttpRequest) -> HttpResponse:
    if is_htmx(request):
        return render(request, "contacts/floor.html#live", _floor_context(request, timezone.now()))
    return redirect("contacts:floor")


def _floor_context(request: AuthenticatedHttpRequest, now: dt.datetime) -> dict[str, Any]:
    today, start, end = today_bounds(request, now)
    dealerships = list(access.dealerships_of(request.user).order_by("id"))
    return {"floor": floor_summary(dealerships=dealerships, now=now, day_start=start, day_end=end), "today": today, "now": now}


@require_POST
@access.role_required(access.CAN_SUPERVISE)
def set_capacity(request: AuthenticatedHttpRequest, dealership_id: int) -> HttpResponse:
    dealership = get_dealership_for_user(request, dealership_id)
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
    return floor_answer(request)


@require_POST
@access.role_required(access.CAN_SUPERVISE)
def reassign(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = get_task_for_user(request, pk)
    form = ReassignForm(request.POST, task=task)
    if form.is_valid() and calls.reassign_call(task=task, to=form.cleaned_data["agent"], by=request.user):
        agent = form.cleaned_data["agent"]
        messages.success(request, _("The call to %(customer)s now waits for %(agent)s.") % {
            "customer": task.customer.full_name, "agent": agent.get_full_name() or agent.username})
    else:
        messages.error(request, _("Choose an agent of this dealership; a finished call cannot be reassigned."))
    return floor_answer(request)
