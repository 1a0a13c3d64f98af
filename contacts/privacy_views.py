"""The customer page's "personal data" actions for managers and admins: download everything held
about the customer as JSON, and erase the customer on request (contacts.privacy)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts.privacy import customer_data, erase_customer
from customers import access
from customers.models import Customer

CAN_HANDLE_PERSONAL_DATA = frozenset({access.MANAGER, access.ADMIN})


def _customer(request: HttpRequest, pk: int) -> Customer:
    customer = Customer.objects.filter(pk=pk, dealership__in=access.dealerships_of(request.user)).first()
    if customer is None:
        raise Http404(_("No such customer."))
    return customer


@access.role_required(CAN_HANDLE_PERSONAL_DATA)
def customer_data_download(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    data = customer_data(customer=customer, now=timezone.now(), requested_by=request.user.get_username())
    response = HttpResponse(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.json"'
    return response


@require_POST
@access.role_required(CAN_HANDLE_PERSONAL_DATA)
def customer_erase(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    if request.POST.get("confirm") != "erase":
        messages.error(request, _("Tick the box to confirm the erasure: nothing was erased."))
        return redirect("customers:detail", pk=customer.pk)
    erase_customer(customer=customer, now=timezone.now(), requested_by=request.user.get_username())
    messages.success(request, _("The customer's personal data is erased. The refusal of all contact is kept, "
                                "so the same phone or e-mail is never contacted again."))
    return redirect("customers:detail", pk=customer.pk)
