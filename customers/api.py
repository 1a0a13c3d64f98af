"""REST API of the facts: customers, vehicles, sales, service visits and odometer readings.

Per kind, one view per operation (CONVENTIONS 12):

    GET  /api/<kind>/                          list (paginated, filtered)          <Kind>ListApi
    GET  /api/<kind>/<id>/                     one record                          <Kind>DetailApi
    POST /api/<kind>/create/                   create one; 409 if its key exists   <Kind>CreateApi
    PUT  /api/<kind>/by-external-id/<id>/      create or update by key (upsert)    <Kind>UpsertApi
         (/api/vehicles/by-vin/<vin>/; readings have no external id: their create is idempotent)
    POST /api/<kind>/bulk/                     upsert up to 1,000 rows             <Kind>BulkApi
    POST /api/customers/<id>/refusals/         the customer refused channels       CustomerRefusalApi

Every write goes through customers.importing.import_rows, the file import's own parsing and
decisions, so the API and the files accept and refuse the same things with the same words, an empty
or missing optional field never erases a stored value, and the touched vehicles are re-planned.
Reads need a role that sees customers, writes need manager or admin (customers.access.CAN_IMPORT);
everything is scoped to the user's dealerships, so another dealership's record is a 404.

Reads use DRF's ListAPIView/RetrieveAPIView with no logic of their own: with them, the filters and the
page envelope are declared once and appear in the OpenAPI schema exactly as served.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar

from django import forms
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import generics, permissions, serializers, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers import access, importing, refusals
from customers.models import (
    VIN_PATTERN,
    Channel,
    Customer,
    Dealership,
    OdometerReading,
    RefusalSource,
    Sale,
    ServiceVisit,
    Vehicle,
)
from customers.parsers import LimitedJSONParser

MAX_BULK_ROWS = 1000
MAX_ID = 2**63 - 1  # a bigint: a larger id in a filter is a 400, not a database overflow
DEALERSHIP_CODE = re.compile(r"[-a-zA-Z0-9_]{1,30}")


# ------------------------------------------------------------------------------- access, dealership


class CanReadFacts(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return access.has_role(request.user, access.CAN_SEE_CUSTOMERS)


class CanWriteFacts(permissions.BasePermission):
    """Only managers and admins change facts, as only they may import files."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return access.has_role(request.user, access.CAN_IMPORT)


def target_dealership(user: Any, code: Any) -> Dealership:
    """The dealership a write goes to: ``code``, or the user's only dealership; a 400 naming the field."""
    mine = access.dealerships_of(user)
    if code is None or code == "":
        found = list(mine[:2])
        if len(found) == 1:
            return found[0]
        codes = ", ".join(mine.values_list("code", flat=True)) or _("none")
        raise ValidationError({"dealership": [_("Give the dealership code; yours are: %(codes)s.") % {"codes": codes}]})
    if not isinstance(code, str) or not DEALERSHIP_CODE.fullmatch(code):
        raise ValidationError({"dealership": [_("A dealership code is letters, digits, - and _, up to 30.")]})
    dealership = mine.filter(code=code).first()
    if dealership is None:
        raise ValidationError({"dealership": [_("No dealership %(code)s among yours.") % {"code": code}]})
    return dealership


def vehicle_scope(user: Any) -> frozenset[int]:
    """Rows refer by VIN to the vehicles of the user's dealerships only."""
    return frozenset(access.dealerships_of(user).values_list("id", flat=True))


def scoped(user: Any, model: type[models.Model], dealership_path: str) -> QuerySet[Any]:
    return model._default_manager.filter(**{f"{dealership_path}__in": access.dealerships_of(user)}).order_by("id")


# ------------------------------------------------------------------------------------ serializers


class CustomerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    dealership = serializers.CharField(source="dealership.code")
    external_id = serializers.CharField(allow_null=True)
    last_name = serializers.CharField()
    first_name = serializers.CharField()
    middle_name = serializers.CharField()
    phone = serializers.CharField(help_text="E.164, or empty")
    phone_alt = serializers.CharField()
    email = serializers.CharField()
    birthday = serializers.DateField(allow_null=True)
    address = serializers.CharField()
    language = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class VehicleOutput(serializers.Serializer):
    id = serializers.IntegerField()
    dealership = serializers.CharField(source="dealership.code")
    vin = serializers.CharField()
    make = serializers.CharField()
    model = serializers.CharField()
    year = serializers.IntegerField()
    plate = serializers.CharField()
    owner_id = serializers.IntegerField(allow_null=True)
    maintenance_interval_km = serializers.IntegerField(allow_null=True)
    maintenance_interval_months = serializers.IntegerField(allow_null=True)
    warranty_months = serializers.IntegerField()
    warranty_km = serializers.IntegerField()
    is_active = serializers.BooleanField()
    updated_at = serializers.DateTimeField()


class SaleOutput(serializers.Serializer):
    id = serializers.IntegerField()
    dealership = serializers.CharField(source="dealership.code")
    external_id = serializers.CharField(allow_null=True)
    vehicle_id = serializers.IntegerField()
    vin = serializers.CharField(source="vehicle.vin")
    customer_id = serializers.IntegerField()
    sold_on = serializers.DateField()
    kind = serializers.CharField()
    salesperson = serializers.CharField()
    odometer_km = serializers.IntegerField()


class VisitOutput(serializers.Serializer):
    id = serializers.IntegerField()
    dealership = serializers.CharField(source="dealership.code")
    external_id = serializers.CharField(allow_null=True)
    vehicle_id = serializers.IntegerField()
    vin = serializers.CharField(source="vehicle.vin")
    visited_on = serializers.DateField()
    odometer_km = serializers.IntegerField()
    kind = serializers.CharField()


class ReadingOutput(serializers.Serializer):
    id = serializers.IntegerField()
    vehicle_id = serializers.IntegerField()
    vin = serializers.CharField(source="vehicle.vin")
    read_on = serializers.DateField()
    odometer_km = serializers.IntegerField()
    source = serializers.CharField()  # type: ignore[assignment]  # the reading's source field, not DRF's Field.source
    created_at = serializers.DateTimeField()


HOW_WRITTEN: dict[str, str] = {
    "key": "as in your DMS",
    "date": "2025-12-31; 31.12.2025 is read too",
    "number": "a whole number; \"15 000\" and \"15,000\" are read too",
    "phone": "any common format, stored as E.164: +79161234567, 8 (916) 123-45-67",
    "vin": "17 letters and digits, without I, O or Q",
}


def _documented_field(column: importing.Column) -> serializers.Field:
    """How a column appears in the schema. Documentation only: the rows are checked by
    customers.importing, which also takes 31.12.2025 dates, "15 000" numbers and national phones."""
    help_text = column.label + (f": {HOW_WRITTEN[column.type]}" if column.type in HOW_WRITTEN else "")
    options: dict[str, Any] = {"required": column.required, "help_text": help_text}
    if not column.required:
        options["allow_null"] = True
    if column.type == "date":
        return serializers.DateField(**options)
    if column.type == "year":
        return serializers.IntegerField(min_value=importing.EARLIEST_MODEL_YEAR, max_value=2100, **options)
    if column.type == "number":
        return serializers.IntegerField(min_value=column.minimum, max_value=column.maximum, **options)
    if column.type == "choice":
        return serializers.ChoiceField(choices=list(column.choices or ()), **options)
    if column.type == "vin":
        return serializers.RegexField(VIN_PATTERN.pattern, **options)
    if column.type == "email":
        return serializers.EmailField(max_length=column.max_length, **options)
    if column.max_length:
        options["max_length"] = column.max_length
    if column.required:
        options["min_length"] = 1
    return serializers.CharField(allow_blank=not column.required, **options)


def _row_serializer(kind: str) -> type[serializers.Serializer]:
    fields: dict[str, Any] = {column.name: _documented_field(column) for column in importing.columns_of(kind)}
    return type(f"{kind.title()}Row", (serializers.Serializer,), fields)


# The documented shape of one row of each kind: the body of a single-row write and an item of a bulk one.
ROWS: dict[str, type[serializers.Serializer]] = {kind: _row_serializer(kind) for kind in importing.KINDS}


class BulkInput(serializers.Serializer):
    """The envelope of a bulk request; its rows are checked by customers.importing."""

    dealership = serializers.CharField(required=False, max_length=30,
                                       help_text="Dealership code; needed when you work for several.")
    dry_run = serializers.BooleanField(required=False, default=False,
                                       help_text="Check and count, write nothing.")
    rows = serializers.ListField(
        child=serializers.DictField(), min_length=1, max_length=MAX_BULK_ROWS,
        error_messages={"max_length": f"At most {MAX_BULK_ROWS} rows per request: split the batch.",
                        "min_length": "Send at least one row."},
    )


def bulk_input_serializer(kind: str) -> type[serializers.Serializer]:
    """BulkInput with its rows documented as ``kind``'s rows (the schema's request body)."""
    @extend_schema_field(ROWS[kind](many=True))
    class DocumentedRows(serializers.ListField):
        pass

    return type(f"{kind.title()}BulkInput", (BulkInput,), {
        "rows": DocumentedRows(child=serializers.DictField(), min_length=1, max_length=MAX_BULK_ROWS),
    })


class RefusedRowOutput(serializers.Serializer):
    index = serializers.IntegerField(help_text="The row's position in rows, from 0.")
    error = serializers.CharField(help_text="Every problem of the row, in words.")
    errors = serializers.DictField(  # type: ignore[assignment]  # a field named like Serializer.errors
        child=serializers.ListField(child=serializers.CharField()),
        help_text="The problems by field; 'row' for the row as a whole.")


class MergedRowOutput(serializers.Serializer):
    index = serializers.IntegerField()
    same_as = serializers.IntegerField(help_text="The earlier, identical row it was merged into.")


class BulkOutput(serializers.Serializer):
    dry_run = serializers.BooleanField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField(help_text="Includes rows merged into an identical earlier row.")
    merged = MergedRowOutput(many=True)
    refused = RefusedRowOutput(many=True)


DEALERSHIP_PARAMETER = OpenApiParameter(
    "dealership", str, description="The dealership code the write goes to; needed when you work for several.")
ERRORS = OpenApiResponse(OpenApiTypes.OBJECT, description="The problems, by field: {\"vin\": [\"VIN … is invalid …\"]}")


# ----------------------------------------------------------------------------------------- filters


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, turned to UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts
    (found by the schemathesis run), and a moment past year 9999 in UTC is a 400, not an overflow."""

    def to_python(self, value: Any) -> dt.datetime | None:
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError(_("This moment is out of range."), code="invalid") from None


class MomentFilter(filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class IdFilter(filters.NumberFilter):
    """A whole-number id: 1.5 or 10^30 is a 400, never a query."""

    field_class = forms.IntegerField


class CustomerFilter(filters.FilterSet):
    dealership = filters.CharFilter(field_name="dealership__code", max_length=30)
    external_id = filters.CharFilter(max_length=64)
    phone = filters.CharFilter(max_length=20, help_text="E.164, for example +79161234567")
    status = filters.ChoiceFilter(choices=Customer.Status.choices)
    updated_since = MomentFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Customer
        fields: list[str] = []


class VehicleFilter(filters.FilterSet):
    dealership = filters.CharFilter(field_name="dealership__code", max_length=30)
    vin = filters.CharFilter(max_length=17)
    owner = IdFilter(field_name="owner_id", min_value=1, max_value=MAX_ID)
    is_active = filters.BooleanFilter()
    updated_since = MomentFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Vehicle
        fields: list[str] = []


class SaleFilter(filters.FilterSet):
    dealership = filters.CharFilter(field_name="dealership__code", max_length=30)
    external_id = filters.CharFilter(max_length=64)
    vin = filters.CharFilter(field_name="vehicle__vin", max_length=17)
    customer = IdFilter(field_name="customer_id", min_value=1, max_value=MAX_ID)
    sold_from = filters.DateFilter(field_name="sold_on", lookup_expr="gte")
    sold_to = filters.DateFilter(field_name="sold_on", lookup_expr="lte")

    class Meta:
        model = Sale
        fields: list[str] = []


class VisitFilter(filters.FilterSet):
    dealership = filters.CharFilter(field_name="dealership__code", max_length=30)
    external_id = filters.CharFilter(max_length=64)
    vin = filters.CharFilter(field_name="vehicle__vin", max_length=17)
    kind = filters.ChoiceFilter(choices=ServiceVisit.Kind.choices)
    visited_from = filters.DateFilter(field_name="visited_on", lookup_expr="gte")
    visited_to = filters.DateFilter(field_name="visited_on", lookup_expr="lte")

    class Meta:
        model = ServiceVisit
        fields: list[str] = []


class ReadingFilter(filters.FilterSet):
    vin = filters.CharFilter(field_name="vehicle__vin", max_length=17)
    vehicle = IdFilter(field_name="vehicle_id", min_value=1, max_value=MAX_ID)
    source = filters.ChoiceFilter(choices=OdometerReading.Source.choices)
    read_from = filters.DateFilter(field_name="read_on", lookup_expr="gte")
    read_to = filters.DateFilter(field_name="read_on", lookup_expr="lte")

    class Meta:
        model = OdometerReading
        fields: list[str] = []


# ------------------------------------------------------------------------------------------- views


class FactListApi(generics.ListAPIView):
    permission_classes = [permissions.IsAuthenticated, CanReadFacts]
    model: ClassVar[type[models.Model]]
    dealership_path: ClassVar[str] = "dealership"
    related: ClassVar[tuple[str, ...]] = ("dealership",)

    def get_queryset(self) -> QuerySet[Any]:
        return scoped(self.request.user, self.model, self.dealership_path).select_related(*self.related)


class FactDetailApi(generics.RetrieveAPIView):
    permission_classes = [permissions.IsAuthenticated, CanReadFacts]
    model: ClassVar[type[models.Model]]
    dealership_path: ClassVar[str] = "dealership"
    related: ClassVar[tuple[str, ...]] = ("dealership",)

    def get_queryset(self) -> QuerySet[Any]:
        return scoped(self.request.user, self.model, self.dealership_path).select_related(*self.related)


class FactWriteApi(APIView):
    """What the write operations share: JSON only, manager/admin, one row through the import's rules."""

    permission_classes = [permissions.IsAuthenticated, CanWriteFacts]
    parser_classes = [LimitedJSONParser]
    kind: ClassVar[str]
    model: ClassVar[type[models.Model]]
    output: ClassVar[type[serializers.Serializer]]
    key: ClassVar[str] = "external_id"

    def upsert_one(self, request: Request, row: dict[str, Any], *, dry_run: bool = False) -> importing.ImportReport:
        dealership = target_dealership(request.user, request.query_params.get("dealership"))
        report = importing.import_rows(kind=self.kind, rows=[row], dealership=dealership, dry_run=dry_run,
                                       vehicle_dealership_ids=vehicle_scope(request.user))
        if report.refused:
            raise ValidationError(report.refused[0].errors)
        if report.error:  # another request wrote the same record at the same moment
            raise Conflict(report.error)
        return report

    def record_response(self, report: importing.ImportReport, code: int) -> Response:
        record = self.model._default_manager.select_related(*self.output_related()).get(pk=report.record_ids[0])
        return Response(self.output(record).data, status=code)

    def output_related(self) -> tuple[str, ...]:
        return ("vehicle",) if self.kind == "readings" else ("dealership",) + (
            ("vehicle",) if self.kind in ("sales", "visits") else ())


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The record was changed by another request at the same moment; send it again."
    default_code = "conflict"


def one_row(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise ValidationError({"non_field_errors": [_("Send one JSON object with the row's fields.")]})
    return dict(request.data)


class FactCreateApi(FactWriteApi):
    def post(self, request: Request) -> Response:
        row = one_row(request)
        preview = self.upsert_one(request, dict(row), dry_run=True)
        if not preview.created:
            return Response(
                {self.key: [_("%(key)s already exists (id %(id)s): PUT it to change it.")
                            % {"key": row.get(self.key), "id": preview.record_ids.get(0)}]},
                status=status.HTTP_409_CONFLICT,
            )
        report = self.upsert_one(request, row)
        return self.record_response(report, status.HTTP_201_CREATED if report.created else status.HTTP_200_OK)


class FactUpsertApi(FactWriteApi):
    def put(self, request: Request, key: str) -> Response:
        row = one_row(request)
        given = row.get(self.key)
        if given not in (None, "") and str(given).strip().upper() != key.strip().upper():
            raise ValidationError({self.key: [_("%(given)s differs from %(key)s in the URL.") % {"given": given, "key": key}]})
        row[self.key] = key
        report = self.upsert_one(request, row)
        return self.record_response(report, status.HTTP_201_CREATED if report.created else status.HTTP_200_OK)


class FactBulkApi(FactWriteApi):
    def post(self, request: Request) -> Response:
        body = BulkInput(data=request.data)
        body.is_valid(raise_exception=True)
        code = body.validated_data.get("dealership") or request.query_params.get("dealership")
        dealership = target_dealership(request.user, code)
        report = importing.import_rows(
            kind=self.kind, rows=body.validated_data["rows"], dealership=dealership,
            dry_run=body.validated_data["dry_run"], vehicle_dealership_ids=vehicle_scope(request.user),
        )
        if report.error:  # up to 1,000 rows are one batch: nothing was written
            raise Conflict(report.error)
        return Response(BulkOutput({
            "dry_run": report.dry_run, "created": report.created, "updated": report.updated,
            "unchanged": report.unchanged,
            "merged": [{"index": index, "same_as": earlier} for index, earlier in report.merged],
            "refused": [{"index": r.ref, "error": r.reason, "errors": r.errors} for r in sorted(report.refused, key=lambda r: r.ref)],
        }).data)


def _write_schemas(kind: str, output: type[serializers.Serializer], key: str | None) -> dict[str, Any]:
    """The schema of a kind's create, upsert and bulk operations."""
    noun = kind.rstrip("s")
    single = ROWS[kind]
    schemas = {
        "create": extend_schema(
            request=single, parameters=[DEALERSHIP_PARAMETER], responses={201: output, 200: output, 400: ERRORS, 409: ERRORS},
            summary=f"Create one {noun}",
            description=(f"409 when the {noun} exists (PUT it instead)." if key else
                         "Idempotent: a reading with the same VIN, date and km is answered with 200."),
        ),
        "bulk": extend_schema(
            request=bulk_input_serializer(kind), parameters=[DEALERSHIP_PARAMETER],
            responses={200: BulkOutput, 400: ERRORS, 409: ERRORS},
            summary=f"Create or update up to {MAX_BULK_ROWS} {kind}",
            description="Valid rows are applied in one transaction; refused rows are listed by index with the "
                        "reasons, in the same words as a file import. An empty or missing optional field keeps "
                        "the stored value.",
        ),
    }
    if key:
        schemas["upsert"] = extend_schema(
            request=single, responses={201: output, 200: output, 400: ERRORS, 409: ERRORS},
            parameters=[DEALERSHIP_PARAMETER, OpenApiParameter("key", str, OpenApiParameter.PATH,
                                                               description=f"The {key.replace('_', ' ')}.")],
            summary=f"Create or update one {noun} by its {key.replace('_', ' ')}",
            description="201 when created, 200 when updated or unchanged. An empty or missing optional field "
                        "keeps the stored value.",
        )
    return schemas


# Customers -------------------------------------------------------------------------------------------

_customer = _write_schemas("customers", CustomerOutput, "external_id")


class CustomerListApi(FactListApi):
    model = Customer
    serializer_class = CustomerOutput
    filterset_class = CustomerFilter


class CustomerDetailApi(FactDetailApi):
    model = Customer
    serializer_class = CustomerOutput


@extend_schema_view(post=_customer["create"])
class CustomerCreateApi(FactCreateApi):
    kind, model, output = "customers", Customer, CustomerOutput


@extend_schema_view(put=_customer["upsert"])
class CustomerUpsertApi(FactUpsertApi):
    kind, model, output = "customers", Customer, CustomerOutput


@extend_schema_view(post=_customer["bulk"])
class CustomerBulkApi(FactBulkApi):
    kind, model, output = "customers", Customer, CustomerOutput


class RefusalInput(serializers.Serializer):
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=Channel.choices), min_length=1, max_length=len(Channel.choices),
        help_text="The channels the customer refused: call, sms, email.",
    )
    reason = serializers.CharField(max_length=300, allow_blank=True, required=False, default="",
                                   help_text="The customer's words, as typed.")


class RefusalOutput(serializers.Serializer):
    customer = serializers.IntegerField()
    refused = serializers.ListField(child=serializers.CharField())
    refused_at = serializers.DateTimeField()


class CustomerRefusalApi(APIView):
    """Record a customer's refusal of channels. The same workflow as the call screen's and the
    admin's (customers.refusals): open calls and pending messages on them are cancelled at once, and
    the phone and e-mail join the suppression list. Any role that sees customers may record one."""

    permission_classes = [permissions.IsAuthenticated, CanReadFacts]
    parser_classes = [LimitedJSONParser]

    @extend_schema(request=RefusalInput, responses={200: RefusalOutput}, operation_id="customers_refusal_create")
    def post(self, request: Request, pk: int) -> Response:
        customer = scoped(request.user, Customer, "dealership").filter(pk=pk).first()
        if customer is None:
            raise NotFound(_("No such customer among your dealerships."))
        body = RefusalInput(data=request.data)
        body.is_valid(raise_exception=True)
        now = timezone.now()
        channels = sorted(set(body.validated_data["channels"]))
        refusals.record_refusal(customer=customer, channels=channels, now=now, source=RefusalSource.API,
                                reason=body.validated_data["reason"] or _("Refused through the API"))
        return Response(RefusalOutput({"customer": customer.pk, "refused": channels, "refused_at": now}).data)


# Vehicles --------------------------------------------------------------------------------------------

_vehicle = _write_schemas("vehicles", VehicleOutput, "vin")


class VehicleListApi(FactListApi):
    model = Vehicle
    serializer_class = VehicleOutput
    filterset_class = VehicleFilter


class VehicleDetailApi(FactDetailApi):
    model = Vehicle
    serializer_class = VehicleOutput


@extend_schema_view(post=_vehicle["create"])
class VehicleCreateApi(FactCreateApi):
    kind, model, output, key = "vehicles", Vehicle, VehicleOutput, "vin"


@extend_schema_view(put=_vehicle["upsert"])
class VehicleUpsertApi(FactUpsertApi):
    kind, model, output, key = "vehicles", Vehicle, VehicleOutput, "vin"


@extend_schema_view(post=_vehicle["bulk"])
class VehicleBulkApi(FactBulkApi):
    kind, model, output, key = "vehicles", Vehicle, VehicleOutput, "vin"


# Sales -----------------------------------------------------------------------------------------------

_sale = _write_schemas("sales", SaleOutput, "external_id")


class SaleListApi(FactListApi):
    model = Sale
    serializer_class = SaleOutput
    filterset_class = SaleFilter
    related = ("dealership", "vehicle")


class SaleDetailApi(FactDetailApi):
    model = Sale
    serializer_class = SaleOutput
    related = ("dealership", "vehicle")


@extend_schema_view(post=_sale["create"])
class SaleCreateApi(FactCreateApi):
    kind, model, output = "sales", Sale, SaleOutput


@extend_schema_view(put=_sale["upsert"])
class SaleUpsertApi(FactUpsertApi):
    kind, model, output = "sales", Sale, SaleOutput


@extend_schema_view(post=_sale["bulk"])
class SaleBulkApi(FactBulkApi):
    kind, model, output = "sales", Sale, SaleOutput


# Service visits --------------------------------------------------------------------------------------

_visit = _write_schemas("visits", VisitOutput, "external_id")


class VisitListApi(FactListApi):
    model = ServiceVisit
    serializer_class = VisitOutput
    filterset_class = VisitFilter
    related = ("dealership", "vehicle")


class VisitDetailApi(FactDetailApi):
    model = ServiceVisit
    serializer_class = VisitOutput
    related = ("dealership", "vehicle")


@extend_schema_view(post=_visit["create"])
class VisitCreateApi(FactCreateApi):
    kind, model, output = "visits", ServiceVisit, VisitOutput


@extend_schema_view(put=_visit["upsert"])
class VisitUpsertApi(FactUpsertApi):
    kind, model, output = "visits", ServiceVisit, VisitOutput


@extend_schema_view(post=_visit["bulk"])
class VisitBulkApi(FactBulkApi):
    kind, model, output = "visits", ServiceVisit, VisitOutput


# Odometer readings -----------------------------------------------------------------------------------

_reading = _write_schemas("readings", ReadingOutput, None)


class ReadingListApi(FactListApi):
    model = OdometerReading
    serializer_class = ReadingOutput
    filterset_class = ReadingFilter
    dealership_path = "vehicle__dealership"
    related = ("vehicle",)


class ReadingDetailApi(FactDetailApi):
    model = OdometerReading
    serializer_class = ReadingOutput
    dealership_path = "vehicle__dealership"
    related = ("vehicle",)


@extend_schema_view(post=_reading["create"])
class ReadingCreateApi(FactWriteApi):
    """Readings are known by (VIN, date, km): creating one that exists is answered with it and 200."""

    kind, model, output = "readings", OdometerReading, ReadingOutput

    def post(self, request: Request) -> Response:
        report = self.upsert_one(request, one_row(request))
        return self.record_response(report, status.HTTP_201_CREATED if report.created else status.HTTP_200_OK)


@extend_schema_view(post=_reading["bulk"])
class ReadingBulkApi(FactBulkApi):
    kind, model, output = "readings", OdometerReading, ReadingOutput
