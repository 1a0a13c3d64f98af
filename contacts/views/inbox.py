"""The department inbox: hand-offs to accept, forward, and answer with a structured outcome; the head's
escalations; the navigation's unread badge (polled by htmx)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from contacts import calls
from contacts.calls import handoffs as pipeline
from contacts.card import topic_results
from contacts.forms import HandoffCloseForm, HandoffForwardForm, HandoffOutcomeForm
from contacts.models import Department, Handoff
from contacts.views.common import (
    AuthenticatedHttpRequest,
    get_handoff_for_user,
    handoffs_for,
    is_htmx,
    today_bounds,
    unread_handoffs,
)
from customers import access
from customers.models import Customer, Sale, ServiceVisit


def _row_context(request: AuthenticatedHttpRequest, handoffs: list[Handoff]) -> dict[str, object]:
    now = timezone.now()
    today, _start, _end = today_bounds(request, now)
    return {
        "today": today, "now": now,
        "topic_results": topic_results(h.created_from for h in handoffs),
        "forward_to": list(Department.objects.filter(takes_handoffs=True, is_active=True)),
        "temperatures": Customer.Temperature.choices,
        "links": {h.pk: {"sales": pipeline.recent_sales(h, today), "visits": pipeline.recent_visits(h, today)}
                  for h in handoffs if h.status != Handoff.Status.CLOSED},
    }


@require_GET
@access.role_required(access.CAN_SEE_INBOX)
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    handoffs = handoffs_for(request)
    open_handoffs = list(handoffs.exclude(status=Handoff.Status.CLOSED).order_by("due_at", "deadline", "id")[:300])
    headed = access.headed_departments_of(request.user)
    escalated = [h for h in open_handoffs if h.escalated_at is not None and h.department.code in headed]
    context = {
        **_row_context(request, open_handoffs),
        "handoffs": [h for h in open_handoffs if h not in escalated],
        "escalated": escalated,
        "closed": list(handoffs.filter(status=Handoff.Status.CLOSED).order_by("-closed_at")[:20]),
    }
    if is_htmx(request) and request.GET.get("part") == "list":
        return render(request, "contacts/inbox.html#list", context)
    return render(request, "contacts/inbox.html", context)


@require_GET
@access.role_required(access.CAN_SEE_INBOX)
def inbox_badge(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The navigation's count of new hand-offs (and, for a head, escalated ones), polled by htmx."""
    return render(request, "contacts/inbox.html#badge", {"unread": unread_handoffs(request)})


@require_POST
@access.role_required(access.CAN_SEE_INBOX)
def handoff_action(request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
    handoff = get_handoff_for_user(request, pk)
    now = timezone.now()
    error = ""
    try:
        error = _act(request, handoff, action, now)
    except calls.OutcomeError as problem:
        error = str(problem)
    if is_htmx(request):
        found = handoffs_for(request).filter(pk=pk).first()
        if found is None:  # forwarded out of this user's departments
            message = _("Forwarded.")
            response = HttpResponse(format_html('<tr id="handoff-{}" class="gone"><td colspan="7">{}</td></tr>', pk, message))
        else:
            response = render(request, "contacts/inbox.html#row", {
                **_row_context(request, [found]), "h": found, "row_error": error,
                "typed_result": request.POST.get("result", ""),
            })
        response["HX-Trigger"] = "handoffs-changed"  # the navigation's badge counts again
        return response
    if error:
        messages.error(request, error)
    return redirect("contacts:inbox")


def _act(request: AuthenticatedHttpRequest, handoff: Handoff, action: str, now: dt.datetime) -> str:
    """Do the action; returns an error to show, or ""."""
    if action == "accept":
        if not calls.accept_handoff(handoff=handoff, by=request.user):
            return _("Someone accepted or closed this hand-off already.")
    elif action == "close":
        form = HandoffCloseForm(request.POST)
        if not form.is_valid():
            return _("Write the result (up to 200 characters) before closing the hand-off.")
        calls.close_handoff(handoff=handoff, by=request.user, result=form.cleaned_data["result"], now=now)
    elif action == "outcome":
        outcome_form = HandoffOutcomeForm(request.POST)
        if not outcome_form.is_valid():
            return _("Choose an outcome.")
        data = outcome_form.cleaned_data
        sale = Sale.objects.filter(pk=data["sale"], customer_id=handoff.customer_id).first() if data["sale"] else None
        visit = (ServiceVisit.objects.filter(pk=data["service_visit"], vehicle__owner_id=handoff.customer_id)
                 .select_related("vehicle").first() if data["service_visit"] else None)
        pipeline.record_handoff_outcome(handoff=handoff, by=request.user, outcome=data["outcome"], now=now,
                                        note=data["note"], sale=sale, service_visit=visit)
    elif action == "forward":
        forward_form = HandoffForwardForm(request.POST)
        if not forward_form.is_valid():
            return _("Choose the department and write a note for it.")
        pipeline.forward_handoff(handoff=handoff, to=forward_form.cleaned_data["department"], by=request.user,
                                 note=forward_form.cleaned_data["note"], now=now)
    elif action == "temperature":
        pipeline.set_temperature(customer=handoff.customer, temperature=request.POST.get("temperature", ""),
                                 by=request.user, now=now, handoff=handoff)
    else:
        raise Http404(_("No such action."))
    return ""
