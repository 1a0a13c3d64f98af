"""The dealer's admin pages (admin role): the program, the template editor with drafts, rules, team.

Thin: access through customers.access, page contexts from readmodels, changes through workflows.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from contacts.configuration import readmodels
from contacts.models import TouchpointTemplate
from customers import access


class AuthenticatedHttpRequest(HttpRequest):
    user: User


@require_GET
@access.role_required(access.CAN_CONFIGURE)
def program(request: AuthenticatedHttpRequest) -> HttpResponse:
    vin = request.GET.get("vin", "").strip()
    timeline = (
        readmodels.vehicle_timeline(vin=vin, dealerships=access.dealerships_of(request.user), now=timezone.now())
        if vin
        else readmodels.reference_timeline()
    )
    templates = TouchpointTemplate.objects.select_related("department").order_by("-is_active", "priority", "code")
    return render(request, "contacts/configuration/program.html", {
        "timeline": timeline,
        "vin": vin,
        "rows": readmodels.template_rows(templates),
        "section": "program",
    })
