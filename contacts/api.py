"""REST API for planned work: touchpoints and call tasks (read, filtered), claim and outcome for a
dialer, and the dashboard figures. Scoping and roles come from customers.access, as in the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts import calls, metrics
from contacts.models import CallAttempt, CallTask, Department, Touchpoint
from customers import access
from customers.api import MAX_ID, IdFilter, TokenScope
from customers.models import ApiToken

# What a dialer integration's token (scope dialer) may do: read call tasks, claim one, record its outcome.
DIALER_READS = (ApiToken.Scope.READ, ApiToken.Scope.DIALER)
DIALER_ONLY = (ApiToken.Scope.DIALER,)


def agent_of(request: Request) -> User:
    """The authenticated user of a queue operation (CanWorkQueue has let only logged-in agents in)."""
    return cast(User, request.user)


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


class TouchpointOutput(serializers.Serializer):
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
    updated_at = serializers.DateTimeField()


class CallTaskOutput(serializers.Serializer):
    id = serializers.IntegerField()
    dealership = serializers.CharField(source="dealership.code")
    customer_id = serializers.IntegerField()
    phone = serializers.CharField(source="customer.phone")
    kind = serializers.CharField()
    status = serializers.CharField()
    scheduled_on = serializers.DateField()
    window_start = serializers.DateField()
    window_end = serializers.DateField()
    callback_at = serializers.DateTimeField(allow_null=True)
    priority = serializers.IntegerField()
    attempts = serializers.IntegerField()
    assigned_to_id = serializers.IntegerField(allow_null=True)
    outcome = serializers.CharField()
    agenda = serializers.ListField(child=serializers.DictField())
    script = serializers.CharField()
    completed_at = serializers.DateTimeField(allow_null=True)


class TouchpointFilter(filters.FilterSet):
    dealership = filters.CharFilter(field_name="customer__dealership__code", max_length=30)
    status = filters.ChoiceFilter(choices=Touchpoint.Status.choices)
    customer = IdFilter(field_name="customer_id", min_value=1, max_value=MAX_ID)
    vehicle = IdFilter(field_name="vehicle_id", min_value=1, max_value=MAX_ID)
    code = filters.CharFilter(field_name="template__code", max_length=60)
    due_from = filters.DateFilter(field_name="due_on", lookup_expr="gte")
    due_to = filters.DateFilter(field_name="due_on", lookup_expr="lte")

    class Meta:
        model = Touchpoint
        fields: list[str] = []


class CallTaskFilter(filters.FilterSet):
    dealership = filters.CharFilter(field_name="dealership__code", max_length=30)
    status = filters.ChoiceFilter(choices=CallTask.Status.choices)
    kind = filters.ChoiceFilter(choices=CallTask.Kind.choices)
    customer = IdFilter(field_name="customer_id", min_value=1, max_value=MAX_ID)
    assigned_to = IdFilter(field_name="assigned_to_id", min_value=1, max_value=MAX_ID)
    scheduled_from = filters.DateFilter(field_name="scheduled_on", lookup_expr="gte")
    scheduled_to = filters.DateFilter(field_name="scheduled_on", lookup_expr="lte")

    class Meta:
        model = CallTask
        fields: list[str] = []


def touchpoints_of(user: Any) -> QuerySet[Touchpoint]:
    return (Touchpoint.objects.filter(customer__dealership__in=access.dealerships_of(user))
            .select_related("template").order_by("id"))


def call_tasks_of(user: Any) -> QuerySet[CallTask]:
    return (CallTask.objects.filter(dealership__in=access.dealerships_of(user))
            .select_related("dealership", "customer").order_by("id"))


class TouchpointListApi(generics.ListAPIView):
    """Planned touchpoints of your dealerships' customers."""

    permission_classes = [permissions.IsAuthenticated, TokenScope, CanSeeCustomers]
    serializer_class = TouchpointOutput
    filterset_class = TouchpointFilter

    def get_queryset(self) -> QuerySet[Touchpoint]:
        return touchpoints_of(self.request.user)


class TouchpointDetailApi(generics.RetrieveAPIView):
    permission_classes = [permissions.IsAuthenticated, TokenScope, CanSeeCustomers]
    serializer_class = TouchpointOutput

    def get_queryset(self) -> QuerySet[Touchpoint]:
        return touchpoints_of(self.request.user)


class CallTaskListApi(generics.ListAPIView):
    """Call tasks of your dealerships."""

    permission_classes = [permissions.IsAuthenticated, TokenScope, CanSeeCustomers]
    token_scopes = DIALER_READS
    serializer_class = CallTaskOutput
    filterset_class = CallTaskFilter

    def get_queryset(self) -> QuerySet[CallTask]:
        return call_tasks_of(self.request.user)


class CallTaskDetailApi(generics.RetrieveAPIView):
    permission_classes = [permissions.IsAuthenticated, TokenScope, CanSeeCustomers]
    token_scopes = DIALER_READS
    serializer_class = CallTaskOutput

    def get_queryset(self) -> QuerySet[CallTask]:
        return call_tasks_of(self.request.user)


class ClaimNextOut(serializers.Serializer):
    task = CallTaskOutput(allow_null=True)
    message = serializers.CharField()


class CallTaskClaimApi(APIView):
    """A softphone or dialer takes the next call for the authenticated agent."""

    permission_classes = [permissions.IsAuthenticated, TokenScope, CanWorkQueue]
    token_scopes = DIALER_ONLY

    @extend_schema(request=None, responses=ClaimNextOut, summary="Claim the next call")
    def post(self, request: Request) -> Response:
        result = calls.claim_next_call(agent=agent_of(request), dealerships=list(access.dealerships_of(request.user)),
                                       now=timezone.now())
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
    permission_classes = [permissions.IsAuthenticated, TokenScope, CanWorkQueue]
    token_scopes = DIALER_ONLY

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
                task=task, agent=agent_of(request), outcome=data["outcome"], now=timezone.now(), note=data.get("note", ""),
                odometer_km=data.get("odometer_km"), vehicle=vehicle, callback_at=data.get("callback_at"),
                booked_on=data.get("booked_on"), department=department, reason=data.get("reason"),
            )
        except calls.OutcomeError as error:
            raise ValidationError({"outcome": [str(error)]}) from None
        task.refresh_from_db(fields=["status"])
        return Response(OutcomeOut({"attempt_id": attempt.pk, "task_status": task.status}).data)


class FiguresApi(APIView):
    permission_classes = [permissions.IsAuthenticated, TokenScope, CanSeeDashboards]

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
