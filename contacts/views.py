"""The call-centre pages: the agent's queue, the supervisor's floor, the department inbox."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from contacts.models import CallTask, Handoff
from customers import access


@access.role_required(access.CAN_WORK_QUEUE)
def queue(request: HttpRequest) -> HttpResponse:
    today = timezone.now().date()
    tasks = (
        CallTask.objects.filter(dealership__in=access.dealerships_of(request.user), scheduled_on__lte=today)
        .exclude(status__in=[CallTask.Status.DONE, CallTask.Status.CANCELLED])
        .select_related("customer")[:200]
    )
    return render(request, "contacts/queue.html", {"tasks": tasks, "today": today})


@access.role_required(access.CAN_SUPERVISE)
def floor(request: HttpRequest) -> HttpResponse:
    return render(request, "contacts/floor.html", {})


@access.role_required(access.CAN_SEE_INBOX)
def inbox(request: HttpRequest) -> HttpResponse:
    handoffs = Handoff.objects.filter(dealership__in=access.dealerships_of(request.user)).exclude(
        status=Handoff.Status.CLOSED
    )
    return render(request, "contacts/inbox.html", {"handoffs": handoffs})


@access.role_required(access.CAN_SEE_DASHBOARDS)
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "contacts/dashboard.html", {})
