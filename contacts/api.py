"""REST API for planned work: touchpoints and call tasks (read), claim and outcome for a dialer, figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts import calls, metrics
from contacts.models import CallAttempt, CallTask, Department, Touchpoint
from customers import access
from customers.api import paginated


class CanWorkQueue(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return access.has_role(request.user, access.CAN_WORK_QUEUE)


class CanSeeCustomers(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return access.has_role(request.user, access.CAN_SEE_CUSTOMERS)


class CanSeeDashboards(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return access.has_role(request.user, access.CAN_SEE_DASHBOARDS)


def _date_param(request: Request, name: str) -> dt.date | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError({name: ["Use a date like 2026-11-23."]}) from None
    if not 1950 <= day.year <= 2100:
        raise ValidationError({name: ["Use a date between 1950 and 2100."]})
    return day


class TouchpointOut(serializers.Serializer):
    id = serializers.IntegerField()
    vehicle_id = serializers.IntegerField()
    customer_id = serializers.IntegerField()
    code = serializers.CharField(source="template.code")
    due_on = serializers.DateField()
    window_start = serializers.DateField()
    window_end = serializers.DateField()
    status = serializers.CharField()
    reason = serializers.CharField()
    resolution = serializers.CharField()


class CallTaskOut(serializers.Serializer):
    id = serializers.IntegerField()
    customer_id = serializers.IntegerField()
    phone = serializers.CharField(source="customer.phone")
    scheduled_on = serializers.DateField()
    window_end = serializers.DateField()
    status = serializers.CharField()
    kind = serializers.CharField()
    priority = serializers.IntegerField()
    agenda = serializers.ListField(child=serializers.DictField())
    script = serializers.CharField()


FILTERS = [
    OpenApiParameter("status", str), OpenApiParameter("customer", int),
    OpenApiParameter("from", dt.date), OpenApiParameter("to", dt.date), OpenApiParameter("page", int),
]


def _paginate(request: Request, view: APIView, rows: Any, output: type[serializers.Serializer]) -> Response:
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(output(page, many=True).data)


def _common_filters(request: Request, rows: Any, date_field: str) -> Any:
    status = request.query_params.get("status")
    if status:
        rows = rows.filter(status=status)
    customer = request.query_params.get("customer")
    if customer:
        if not customer.isdigit():
            raise ValidationError({"customer": ["Must be a whole number."]})
        rows = rows.filter(customer_id=int(customer))
    start, end = _date_param(request, "from"), _date_param(request, "to")
    if start:
        rows = rows.filter(**{f"{date_field}__gte": start})
    if end:
        rows = rows.filter(**{f"{date_field}__lte": end})
    return rows


class TouchpointsApi(APIView):
    permission_classes = [permissions.IsAuthenticated, CanSeeCustomers]

    @extend_schema(parameters=FILTERS, responses=paginated(TouchpointOut), summary="Planned touchpoints")
    def get(self, request: Request) -> Response:
        rows = Touchpoint.objects.filter(customer__dealership__in=access.dealerships_of(request.user)).select_related("template").order_by("id")
        return _paginate(request, self, _common_filters(request, rows, "due_on"), TouchpointOut)


class CallTasksApi(APIView):
    permission_classes = [permissions.IsAuthenticated, CanSeeCustomers]

    @extend_schema(parameters=FILTERS, responses=paginated(CallTaskOut), summary="Call tasks")
    def get(self, request: Request) -> Response:
        rows = CallTask.objects.filter(dealership__in=access.dealerships_of(request.user)).select_related("customer").order_by("id")
        return _paginate(request, self, _common_filters(request, rows, "scheduled_on"), CallTaskOut)


class ClaimNextOut(serializers.Serializer):
    task = CallTaskOut(allow_null=True)
    message = serializers.CharField()


class CallTaskClaimApi(APIView):
    """A softphone or dialer takes the next call for the authenticated agent."""

    permission_classes = [permissions.IsAuthenticated, CanWorkQueue]

    @extend_schema(request=None, responses=ClaimNextOut, summary="Claim the next call")
    def post(self, request: Request) -> Response:
        result = calls.claim_next_call(agent=request.user, dealerships=list(access.dealerships_of(request.user)), now=timezone.now())
        return Response(ClaimNextOut({"task": result.task, "message": result.message}).data)


class OutcomeIn(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=CallAttempt.Outcome.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    odometer_km = serializers.IntegerField(required=False, min_value=1, max_value=2_000_000)
    vehicle_id = serializers.IntegerField(required=False, min_value=1)
    callback_at = serializers.DateTimeField(required=False)
    booked_on = serializers.DateField(required=False)
    department = serializers.SlugField(required=False)
    reason = serializers.ChoiceField(choices=list(calls.CHURN_REASONS), required=False)


class OutcomeOut(serializers.Serializer):
    attempt_id = serializers.IntegerField()
    task_status = serializers.CharField()


class CallTaskOutcomeApi(APIView):
    permission_classes = [permissions.IsAuthenticated, CanWorkQueue]

    @extend_schema(request=OutcomeIn, responses=OutcomeOut, summary="Record a call's outcome")
    def post(self, request: Request, pk: int) -> Response:
        task = CallTask.objects.filter(pk=pk, dealership__in=access.dealerships_of(request.user)).first()
        if task is None:
            raise NotFound("No such call.")
        body = OutcomeIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        vehicle = task.customer.vehicles.filter(pk=data["vehicle_id"]).first() if data.get("vehicle_id") else None
        if data.get("vehicle_id") and vehicle is None:
            raise ValidationError({"vehicle_id": ["Not a car of this customer."]})
        department = Department.objects.filter(code=data["department"]).first() if data.get("department") else None
        try:
            attempt = calls.record_outcome(
                task=task, agent=request.user, outcome=data["outcome"], now=timezone.now(), note=data.get("note", ""),
                odometer_km=data.get("odometer_km"), vehicle=vehicle, callback_at=data.get("callback_at"),
                booked_on=data.get("booked_on"), department=department, reason=data.get("reason"),
            )
        except calls.OutcomeError as error:
            raise ValidationError({"outcome": [str(error)]}) from None
        task.refresh_from_db(fields=["status"])
        return Response(OutcomeOut({"attempt_id": attempt.pk, "task_status": task.status}).data)


class FiguresApi(APIView):
    permission_classes = [permissions.IsAuthenticated, CanSeeDashboards]

    @extend_schema(
        parameters=[OpenApiParameter("from", dt.date, required=True), OpenApiParameter("to", dt.date, required=True),
                    OpenApiParameter("dealership", str)],
        responses={200: dict}, summary="The dashboard figures of a period",
    )
    def get(self, request: Request) -> Response:
        start, end = _date_param(request, "from"), _date_param(request, "to")
        if start is None or end is None:
            raise ValidationError({"from": ["Give from and to dates."]})
        if start > end:
            raise ValidationError({"from": ["from must not be after to."]})
        dealerships = access.dealerships_of(request.user)
        code = request.query_params.get("dealership")
        if code:
            dealerships = dealerships.filter(code=code)
        scope = metrics.Scope(tuple(dealerships.values_list("id", flat=True)), start, end, as_of=timezone.now().date())
        return Response(metrics.all_figures(scope))
