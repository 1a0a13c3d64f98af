"""What every call-centre page shares: which rows a user may touch (a task of another dealership is a
404), htmx navigation, and the user's day."""

from __future__ import annotations

import datetime as dt
import json

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from contacts import calls
from contacts.models import CallTask, Handoff
from customers import access
from customers.models import Dealership


class AuthenticatedHttpRequest(HttpRequest):
    user: User


def get_task_for_user(request: AuthenticatedHttpRequest, pk: int) -> CallTask:
    task = (
        CallTask.objects.filter(pk=pk, dealership__in=access.dealerships_of(request.user))
        .select_related("customer", "dealership", "claimed_by", "assigned_to")
        .first()
    )
    if task is None:
        raise Http404(_("No such call."))
    return task


def get_handoff_for_user(request: AuthenticatedHttpRequest, pk: int) -> Handoff:
    handoff = handoffs_for(request).filter(pk=pk).first()
    if handoff is None:
        raise Http404(_("No such hand-off."))
    return handoff


def get_dealership_for_user(request: AuthenticatedHttpRequest, pk: int) -> Dealership:
    dealership = access.dealerships_of(request.user).filter(pk=pk).first()
    if dealership is None:
        raise Http404(_("No such dealership."))
    return dealership


def handoffs_for(request: AuthenticatedHttpRequest) -> QuerySet[Handoff]:
    """Hand-offs of the user's dealerships; department staff see only their departments'."""
    handoffs = Handoff.objects.filter(dealership__in=access.dealerships_of(request.user)).select_related(
        "customer", "vehicle", "department", "accepted_by", "created_from__agent", "created_from__call_task", "dealership"
    )
    roles = access.roles_of(request.user)
    if not roles & access.SEES_ALL_HANDOFFS:
        handoffs = handoffs.filter(department__code__in=roles)
    return handoffs


def unread_handoffs(request: AuthenticatedHttpRequest) -> int:
    """The navigation badge: new hand-offs of the user's departments (all, for supervisors and managers),
    plus, for a department head, the open escalated ones of the departments they head."""
    mine = Handoff.objects.filter(dealership__in=access.dealerships_of(request.user))
    if not access.roles_of(request.user) & access.SEES_ALL_HANDOFFS:
        mine = mine.filter(department__code__in=access.departments_of(request.user))
    headed = access.headed_departments_of(request.user)
    return mine.filter(
        Q(status=Handoff.Status.NEW) | Q(escalated_at__isnull=False, department__code__in=headed)
    ).exclude(status=Handoff.Status.CLOSED).count()


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def navigate(request: HttpRequest, url: str) -> HttpResponse:
    """Go to another page: with htmx, fetch it, swap the body in place and push the URL (no reload, the
    header's language switch learns the new address); without htmx, a redirect."""
    if is_htmx(request):
        response = HttpResponse()
        response["HX-Location"] = json.dumps({"path": url})
        return response
    return redirect(url)


def home_dealership(request: AuthenticatedHttpRequest) -> Dealership | None:
    return access.dealerships_of(request.user).order_by("id").first()


def today_bounds(request: AuthenticatedHttpRequest, now: dt.datetime) -> tuple[dt.date, dt.datetime, dt.datetime]:
    """Today in the user's (first) dealership's zone, and that day's [start, end) instants."""
    dealership = home_dealership(request)
    if dealership is None:
        day = now.date()
        start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
        return day, start, start + dt.timedelta(days=1)
    day = dealership.local_date(now)
    return (day, *calls.local_day_bounds(dealership, day))
