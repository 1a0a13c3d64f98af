"""The Duplicates page (managers and admins): pairs of customers who may be one person, side by side,
to merge (choosing who stays) or to mark as different people (customers.duplicates)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers import access, hooks
from customers.duplicates import MergeRefused, dismiss_pair, merge_customers
from customers.models import Customer, DuplicateCandidate, Vehicle

PAGE_PAIRS = 50


def _open_pairs(request: HttpRequest) -> Any:
    return DuplicateCandidate.objects.filter(
        status=DuplicateCandidate.Status.OPEN, dealership__in=access.dealerships_of(request.user)
    )


def _side(customer: Customer, last_contact: Any) -> dict[str, Any]:
    return {
        "customer": customer,
        "phones": [p for p in (customer.phone, customer.phone_alt) if p],
        "vehicles": list(customer.vehicles.all()),
        "last_contact": customer.dealership.local_date(last_contact) if last_contact else None,
    }


@access.role_required(access.CAN_MERGE_CUSTOMERS)
def duplicates(request: HttpRequest) -> HttpResponse:
    vehicles = Prefetch("vehicles", queryset=Vehicle.objects.order_by("id"))
    pairs = list(
        _open_pairs(request).order_by("-found_at", "id")
        .select_related("dealership", "customer__dealership", "other__dealership")
        .prefetch_related(Prefetch("customer__vehicles", queryset=vehicles.queryset),
                          Prefetch("other__vehicles", queryset=vehicles.queryset))[:PAGE_PAIRS]
    )
    last = hooks.last_contacts({c for pair in pairs for c in (pair.customer_id, pair.other_id)})
    rows = [
        {"pair": pair, "sides": [_side(pair.customer, last.get(pair.customer_id)), _side(pair.other, last.get(pair.other_id))]}
        for pair in pairs
    ]
    return render(request, "customers/duplicates.html", {"rows": rows, "total": _open_pairs(request).count()})


def _pair_for_user(request: HttpRequest, pk: int) -> DuplicateCandidate:
    try:
        return _open_pairs(request).select_related("customer", "other").get(pk=pk)
    except DuplicateCandidate.DoesNotExist:
        raise Http404(_("No such pair to review: it was merged or dismissed already, or is not yours to see.")) from None


@require_POST
@access.role_required(access.CAN_MERGE_CUSTOMERS)
def merge(request: HttpRequest, pk: int) -> HttpResponse:
    pair = _pair_for_user(request, pk)
    chosen = request.POST.get("survivor", "")
    if chosen not in (str(pair.customer_id), str(pair.other_id)):
        messages.error(request, _("Choose which of the two customers to keep."))
        return redirect("customers:duplicates")
    survivor, merged = (pair.customer, pair.other) if chosen == str(pair.customer_id) else (pair.other, pair.customer)
    try:
        merge_customers(survivor=survivor, merged=merged, now=timezone.now(), decided_by=request.user)
    except MergeRefused as refused:
        messages.error(request, str(refused))
        return redirect("customers:duplicates")
    messages.success(request, _("%(merged)s was merged into %(survivor)s: their cars, history and consents are one "
                                "customer's now.") % {"merged": merged.full_name, "survivor": survivor.full_name})
    return redirect("customers:duplicates")


@require_POST
@access.role_required(access.CAN_MERGE_CUSTOMERS)
def dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    pair = _pair_for_user(request, pk)
    dismiss_pair(candidate=pair, now=timezone.now(), decided_by=request.user)
    messages.success(request, _("Marked as different people: this pair will not be proposed again."))
    return redirect("customers:duplicates")



