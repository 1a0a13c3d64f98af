"""Pages about the facts: the start page, customers and vehicles."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers import access, hooks
from customers.contact_details import correct_phones
from customers.models import Customer, OdometerReading, ServiceVisit, Vehicle


def home(request: HttpRequest) -> HttpResponse:
    """Send each role to the page it works on."""
    roles = access.roles_of(request.user)
    if roles & access.CAN_WORK_QUEUE and access.AGENT in roles:
        return redirect("contacts:queue")
    if roles & access.CAN_SUPERVISE:
        return redirect("contacts:floor")
    if roles & access.CAN_SEE_DASHBOARDS:
        return redirect("contacts:dashboard")
    if roles & frozenset(access.DEPARTMENT_ROLES):
        return redirect("contacts:inbox")
    return render(request, "customers/home.html")


@access.role_required(access.CAN_SEE_CUSTOMERS)
def customer_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    customers = Customer.objects.live().for_dealerships(access.dealerships_of(request.user)).select_related("dealership")
    if query:
        customers = customers.search(query)
    return render(request, "customers/customer_list.html", {"customers": customers[:100], "query": query})


def _get_customer_for_user(request: HttpRequest, pk: int) -> Customer:
    try:
        return Customer.objects.for_dealerships(access.dealerships_of(request.user)).get(pk=pk)
    except Customer.DoesNotExist:
        raise Http404(_("No such customer.")) from None


def _get_vehicle_for_user(request: HttpRequest, pk: int) -> Vehicle:
    try:
        return Vehicle.objects.select_related("owner", "dealership").get(
            pk=pk, dealership__in=access.dealerships_of(request.user)
        )
    except Vehicle.DoesNotExist:
        raise Http404(_("No such vehicle.")) from None


@access.role_required(access.CAN_SEE_CUSTOMERS)
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _get_customer_for_user(request, pk)
    if customer.merged_into_id:  # a merged customer's page is its survivor's
        return redirect("customers:detail", customer.merged_into_id)
    context = hooks.customer_card(customer=customer, today=customer.dealership.local_date(timezone.now()))
    return render(request, "customers/customer_detail.html", {
        **context, "open_timeline": True, "can_correct": access.has_role(request.user, access.CAN_WORK_QUEUE),
        "can_handle_personal_data": access.has_role(request.user, access.CAN_SEE_DASHBOARDS),
        "can_see_audit": access.has_role(request.user, access.CAN_SEE_DASHBOARDS)})


@require_POST
@access.role_required(access.CAN_WORK_QUEUE)
def customer_phones(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a wrong number or add a second one (agents and supervisors)."""
    customer = _get_customer_for_user(request, pk)
    try:
        correct_phones(customer=customer, phone=request.POST.get("phone", ""), phone_alt=request.POST.get("phone_alt", ""))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The phone numbers of %(customer)s are saved.") % {"customer": customer.full_name})
    return redirect("customers:detail", pk=customer.pk)


@access.role_required(access.CAN_SEE_CUSTOMERS)
def vehicle_detail(request: HttpRequest, pk: int) -> HttpResponse:
    from customers.forecasting import forecast_view_data

    vehicle = _get_vehicle_for_user(request, pk)
    readings = list(OdometerReading.objects.filter(vehicle=vehicle).order_by("read_on", "id"))
    visits = list(ServiceVisit.objects.filter(vehicle=vehicle).order_by("visited_on"))
    context = {"vehicle": vehicle, "readings": readings, "visits": visits}
    context.update(forecast_view_data(vehicle=vehicle, readings=readings, today=vehicle.dealership.local_date(timezone.now())))
    return render(request, "customers/vehicle_detail.html", context)


__all__ = ["home", "customer_list", "customer_detail", "vehicle_detail"]
