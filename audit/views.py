"""The audit trail's page for managers and admins: search by customer, user, kind of object and dates,
scoped to the user's dealerships, times in each entry's dealership's time zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from audit.models import AuditEntry, ObjectType, Source
from customers import access

ENTRIES_PER_PAGE = 50
# The model whose field labels name an entry's fields on the page.
LABEL_MODELS = {
    ObjectType.CUSTOMER: "customers.Customer", ObjectType.CONSENT: "customers.Consent",
    ObjectType.VEHICLE: "customers.Vehicle", ObjectType.SALE: "customers.Sale", ObjectType.VISIT: "customers.ServiceVisit",
    ObjectType.READING: "customers.OdometerReading", ObjectType.CONTACT_RULES: "contacts.ContactRules",
    ObjectType.TEMPLATE: "contacts.TouchpointTemplate", ObjectType.CAPACITY: "contacts.DailyCapacity",
    ObjectType.CALL_TASK: "contacts.CallTask", ObjectType.IMPORT_BATCH: "customers.ImportBatch",
}


def field_label(object_type: str, name: str) -> str:
    """A field's label in the reader's language, else its name."""
    try:
        model = apps.get_model(LABEL_MODELS[ObjectType(object_type)])
        field = model._meta.get_field(name.removesuffix("_id"))
    except (KeyError, ValueError, LookupError, FieldDoesNotExist):
        return name
    return str(getattr(field, "verbose_name", name))


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


def scoped_entries(user: Any) -> QuerySet[AuditEntry]:
    """The entries of the user's dealerships; those of no dealership (the templates, shared by the whole
    group) for admins only."""
    scope = Q(dealership_id__in=list(access.dealerships_of(user).values_list("id", flat=True)))
    if access.has_role(user, access.CAN_CONFIGURE):
        scope |= Q(dealership_id__isnull=True)
    return AuditEntry.objects.filter(scope)


@access.role_required(access.CAN_SEE_DASHBOARDS)
def entries(request: HttpRequest) -> HttpResponse:
    dealerships = list(access.dealerships_of(request.user).order_by("name"))
    zones = {d.pk: d.zone for d in dealerships}
    found = scoped_entries(request.user)
    query = {name: request.GET.get(name, "").strip() for name in ("customer", "user", "type", "dealership", "source", "from", "to")}
    errors = []
    if query["customer"]:
        if query["customer"].isdigit():
            found = found.filter(customer_id=int(query["customer"]))
        else:
            errors.append(_("Give the customer's number, as in the address of the customer's page."))
    if query["user"]:
        found = found.filter(actor_name__iexact=query["user"])
    if query["type"] in ObjectType.values:
        found = found.filter(object_type=query["type"])
    if query["source"] in Source.values:
        found = found.filter(source=query["source"])
    chosen = next((d for d in dealerships if str(d.pk) == query["dealership"]), None)
    if chosen is not None:
        found = found.filter(dealership_id=chosen.pk)
    # Dates are days of the chosen dealership (else of the user's first one, else the server's zone).
    zone = chosen.zone if chosen else (dealerships[0].zone if dealerships else zoneinfo.ZoneInfo(settings.TIME_ZONE))
    start, end = _date(query["from"]), _date(query["to"])
    for name, value in (("from", start), ("to", end)):
        if query[name] and value is None:
            errors.append(_("%(value)s is not a date; type it as 2026-01-31.") % {"value": query[name]})
    if start:
        found = found.filter(at__gte=dt.datetime.combine(start, dt.time(), zone))
    if end:
        found = found.filter(at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone))
    page = Paginator(found.select_related("actor").order_by("-at", "-id"), ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    names = {d.pk: d.name for d in dealerships}
    rows = [
        {"entry": e, "local_at": e.at.astimezone(zones.get(e.dealership_id, zone)).strftime("%d.%m.%Y %H:%M:%S"),
         "dealership": names.get(e.dealership_id, "") if e.dealership_id else _("the whole group"),
         "changes": [(field_label(e.object_type, name), old, new) for name, old, new in e.change_rows()]}
        for e in page.object_list
    ]
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "audit/entries.html", {
        "page": page, "rows": rows, "query": query, "errors": errors, "dealerships": dealerships,
        "object_types": ObjectType.choices, "sources": Source.choices, "params": params.urlencode(),
    })
