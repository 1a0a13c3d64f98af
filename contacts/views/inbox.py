"""The department inbox: hand-offs to accept and close."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from contacts import calls
from contacts.card import topic_results
from contacts.forms import HandoffCloseForm
from contacts.models import Handoff
from contacts.views.common import (
    AuthenticatedHttpRequest,
    get_handoff_for_user,
    handoffs_for,
    is_htmx,
    today_bounds,
)
from customers import access


@require_GET
@access.role_required(access.CAN_SEE_INBOX)
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    today, _start, _end = today_bounds(request, timezone.now())
    handoffs = handoffs_for(request)
    open_handoffs = list(handoffs.exclude(status=Handoff.Status.CLOSED).order_by("deadline", "id")[:300])
    return render(request, "contacts/inbox.html", {
        "handoffs": open_handoffs,
        "closed": list(handoffs.filter(status=Handoff.Status.CLOSED).order_by("-closed_at")[:20]),
        "today": today,
        "topic_results": topic_results(h.created_from for h in open_handoffs),
    })


@require_POST
@access.role_required(access.CAN_SEE_INBOX)
def handoff_action(request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
    handoff = get_handoff_for_user(request, pk)
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
    if is_htmx(request):
        today, _start, _end = today_bounds(request, timezone.now())
        handoff = get_handoff_for_user(request, pk)
        return render(request, "contacts/inbox.html#row", {
            "h": handoff, "today": today, "row_error": error, "typed_result": request.POST.get("result", ""),
            "topic_results": topic_results([handoff.created_from]),
        })
    if error:
        messages.error(request, error)
    return redirect("contacts:inbox")
