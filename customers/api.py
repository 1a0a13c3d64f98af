"""REST API for the facts: list, and upsert in bulk (≤ 1,000 rows) by external id or VIN.

Rows go through the same parsing and upsert as the file import (customers.importing), so the API and
the files accept and refuse the same things with the same messages. Token or session authentication;
roles and dealership scoping from customers.access.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers import access
from customers.importing import APPLY, COLUMNS, ImportReport, _natural_key, _parse_row
from customers.models import Customer, Dealership, OdometerReading, Sale, ServiceVisit, Vehicle

MAX_BULK = 1000


class HasRole(permissions.BasePermission):
    """Reading needs a role that sees customers; writing needs manager or admin (as importing does)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return access.has_role(request.user, access.CAN_SEE_CUSTOMERS)
        return access.has_role(request.user, access.CAN_IMPORT)


def dealership_for(request: Request, code: str | None) -> Dealership:
    """The dealership a write goes to: the given code, or the user's only one."""
    mine = access.dealerships_of(request.user)
    if code:
        found = mine.filter(code=code).first()
        if found is None:
            raise NotFound(f"No dealership with code {code!r} among yours.")
        return found
    if mine.count() != 1:
        raise ValidationError({"dealership": ["Give the dealership code: you work for several."]})
    return mine.get()


class CustomerOut(serializers.Serializer):
    id = serializers.IntegerField()
    dealership = serializers.CharField(source="dealership.code")
    external_id = serializers.CharField(allow_null=True)
    first_name = serializers.CharField()
    middle_name = serializers.CharField()
    last_name = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    birthday = serializers.DateField(allow_null=True)
    status = serializers.CharField()


class VehicleOut(serializers.Serializer):
    id = serializers.IntegerField()
    vin = serializers.CharField()
    make = serializers.CharField()
    model = serializers.CharField()
    year = serializers.IntegerField()
    plate = serializers.CharField()
    owner_id = serializers.IntegerField(allow_null=True)
    dealership = serializers.CharField(source="dealership.code")
    is_active = serializers.BooleanField()


class SaleOut(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField(allow_null=True)
    vin = serializers.CharField(source="vehicle.vin")
    customer_id = serializers.IntegerField()
    sold_on = serializers.DateField()
    kind = serializers.CharField()
    odometer_km = serializers.IntegerField()


class VisitOut(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField(allow_null=True)
    vin = serializers.CharField(source="vehicle.vin")
    visited_on = serializers.DateField()
    odometer_km = serializers.IntegerField()
    kind = serializers.CharField()


class ReadingOut(serializers.Serializer):
    id = serializers.IntegerField()
    vin = serializers.CharField(source="vehicle.vin")
    read_on = serializers.DateField()
    odometer_km = serializers.IntegerField()
    source = serializers.CharField()  # type: ignore[assignment]  # the reading's source, not DRF's Field.source


class BulkIn(serializers.Serializer):
    dealership = serializers.CharField(required=False, help_text="Dealership code; needed if you work for several.")
    rows = serializers.ListField(child=serializers.DictField(), max_length=MAX_BULK, min_length=1)


class RefusedOut(serializers.Serializer):
    index = serializers.IntegerField()
    reason = serializers.CharField()


class BulkOut(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    refused = RefusedOut(many=True)


def upsert_rows(*, kind: str, dealership: Dealership, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Parse and apply API rows like file rows; ``index`` is the row's position in the request."""
    report = ImportReport(kind=kind)
    parsed: list[tuple[int, dict[str, Any]]] = []
    seen: dict[Any, int] = {}
    known = set(COLUMNS[kind])
    for index, raw in enumerate(rows):
        unknown = sorted(set(raw) - known)
        if unknown:
            report.refuse(index, f"unknown field(s): {', '.join(unknown)}", raw)
            continue
        try:
            row = _parse_row(kind, {k: ("" if v is None else v) for k, v in raw.items()})
        except (ValueError, TypeError) as error:
            report.refuse(index, str(error), raw)
            continue
        natural = _natural_key(kind, row)
        if natural in seen:
            report.refuse(index, f"row {index} repeats row {seen[natural]}", raw)
            continue
        seen[natural] = index
        parsed.append((index, row))
    from django.db import transaction

    with transaction.atomic():
        APPLY[kind](dealership, parsed, report, True)
    if report.vehicle_ids:
        from contacts import tasks

        tasks.replan_vehicles.delay_on_commit(sorted(report.vehicle_ids))
    return {
        "created": report.created, "updated": report.updated, "unchanged": report.unchanged,
        "refused": [{"index": r["line"], "reason": r["reason"]} for r in sorted(report.refused, key=lambda r: r["line"])],
    }


class FactsApi(APIView):
    """GET: the facts of your dealerships, paginated. POST: upsert up to 1,000 rows."""

    permission_classes = [permissions.IsAuthenticated, HasRole]
    kind: ClassVar[str]
    model: ClassVar[type[models.Model]]
    output: ClassVar[type[serializers.Serializer]]
    dealership_path: ClassVar[str] = "dealership"

    def queryset(self, request: Request) -> Any:
        scope = {f"{self.dealership_path}__in": access.dealerships_of(request.user)}
        return self.model.objects.filter(**scope).order_by("id")  # type: ignore[attr-defined]

    def get(self, request: Request) -> Response:
        rows = self.queryset(request)
        since = request.query_params.get("id_after")
        if since:
            if not since.isdigit():
                raise ValidationError({"id_after": ["Must be a whole number."]})
            rows = rows.filter(id__gt=int(since))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(self.output(page, many=True).data)

    def post(self, request: Request) -> Response:
        body = BulkIn(data=request.data)
        body.is_valid(raise_exception=True)
        dealership = dealership_for(request, body.validated_data.get("dealership"))
        result = upsert_rows(kind=self.kind, dealership=dealership, rows=body.validated_data["rows"])
        return Response(BulkOut(result).data, status=status.HTTP_200_OK)


def paginated(output: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The page envelope DRF's PageNumberPagination returns, for the schema."""
    return type(
        f"Paginated{output.__name__}",
        (serializers.Serializer,),
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": output(many=True),
        },
    )


def _schema(kind: str, output: type[serializers.Serializer]) -> Any:
    return extend_schema(
        methods=["GET"], responses=paginated(output),
        parameters=[OpenApiParameter("id_after", int, description="Only rows with a larger id."),
                    OpenApiParameter("page", int)],
        summary=f"List {kind}",
    ), extend_schema(methods=["POST"], request=BulkIn, responses=BulkOut, summary=f"Upsert {kind} (≤ {MAX_BULK})")


def _api(kind: str, model: type[models.Model], output: type[serializers.Serializer], path: str = "dealership") -> type[FactsApi]:
    list_schema, post_schema = _schema(kind, output)

    # Own functions per view: the schema decorators annotate the function object they wrap.
    def get(self: FactsApi, request: Request) -> Response:
        return FactsApi.get(self, request)

    def post(self: FactsApi, request: Request) -> Response:
        return FactsApi.post(self, request)

    attributes = {"kind": kind, "model": model, "output": output, "dealership_path": path,
                  "get": list_schema(get), "post": post_schema(post)}
    return type(f"{kind.title()}Api", (FactsApi,), attributes)


CustomersApi = _api("customers", Customer, CustomerOut)
VehiclesApi = _api("vehicles", Vehicle, VehicleOut)
SalesApi = _api("sales", Sale, SaleOut)
VisitsApi = _api("visits", ServiceVisit, VisitOut)
ReadingsApi = _api("readings", OdometerReading, ReadingOut, path="vehicle__dealership")


class CustomerDetailApi(APIView):
    permission_classes = [permissions.IsAuthenticated, HasRole]

    @extend_schema(responses=CustomerOut, summary="One customer")
    def get(self, request: Request, pk: int) -> Response:
        customer = Customer.objects.filter(pk=pk, dealership__in=access.dealerships_of(request.user)).first()
        if customer is None:
            raise NotFound("No such customer.")
        return Response(CustomerOut(customer).data)


