"""The endpoints: list, detail, create, upsert and bulk per kind of fact, each with its schema."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, permissions, serializers, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers import importing, refusals
from customers.api.access import (
    MAX_BULK_ROWS,
    CanReadFacts,
    CanWriteFacts,
    TokenScope,
    scoped,
    target_dealership,
    vehicle_scope,
)
from customers.api.filters import CustomerFilter, ReadingFilter, SaleFilter, VehicleFilter, VisitFilter
from customers.api.serializers import (
    DEALERSHIP_PARAMETER,
    ERRORS,
    ROWS,
    BulkInput,
    BulkOutput,
    CustomerOutput,
    ReadingOutput,
    SaleOutput,
    VehicleOutput,
    VisitOutput,
    bulk_input_serializer,
)
from customers.models import (
    Channel,
    Customer,
    OdometerReading,
    Purpose,
    RefusalSource,
    Sale,
    ServiceVisit,
    Vehicle,
)
from customers.parsers import LimitedJSONParser

# ------------------------------------------------------------------------------------------- views


class FactListApi(generics.ListAPIView):
    permission_classes = [permissions.IsAuthenticated, TokenScope, CanReadFacts]
    model: ClassVar[type[models.Model]]
    dealership_path: ClassVar[str] = "dealership"
    related: ClassVar[tuple[str, ...]] = ("dealership",)

    def get_queryset(self) -> QuerySet[Any]:
        return scoped(self.request.user, self.model, self.dealership_path).select_related(*self.related)


class FactDetailApi(generics.RetrieveAPIView):
    permission_classes = [permissions.IsAuthenticated, TokenScope, CanReadFacts]
    model: ClassVar[type[models.Model]]
    dealership_path: ClassVar[str] = "dealership"
    related: ClassVar[tuple[str, ...]] = ("dealership",)

    def get_queryset(self) -> QuerySet[Any]:
        return scoped(self.request.user, self.model, self.dealership_path).select_related(*self.related)


class FactWriteApi(APIView):
    """What the write operations share: JSON only, manager/admin, one row through the import's rules."""

    permission_classes = [permissions.IsAuthenticated, TokenScope, CanWriteFacts]
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
    purposes = serializers.ListField(
        child=serializers.ChoiceField(choices=Purpose.choices), required=False, default=list,
        max_length=len(Purpose.choices),
        help_text="What the customer refused them for: service, survey, marketing, or all. Absent or empty: "
                  "every purpose (a sales-offers refusal leaves the service reminders coming).",
    )
    reason = serializers.CharField(max_length=300, allow_blank=True, required=False, default="",
                                   help_text="The customer's words, as typed.")


class RefusalOutput(serializers.Serializer):
    customer = serializers.IntegerField()
    refused = serializers.ListField(child=serializers.CharField())
    purposes = serializers.ListField(child=serializers.CharField(), help_text="The purposes refused, spelled out.")
    refused_at = serializers.DateTimeField()


class CustomerRefusalApi(APIView):
    """Record a customer's refusal of channels, for some purposes or all. The same workflow as the call screen's and the
    admin's (customers.refusals): open calls and pending messages on them are cancelled at once, and
    the phone and e-mail join the suppression list. Any role that sees customers may record one."""

    permission_classes = [permissions.IsAuthenticated, TokenScope, CanReadFacts]
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
        purposes = refusals.purposes_said(body.validated_data["purposes"])
        refusals.record_refusal(customer=customer, channels=channels, now=now, source=RefusalSource.API,
                                reason=body.validated_data["reason"] or _("Refused through the API"),
                                purposes=purposes, recorded_by=request.user)
        return Response(RefusalOutput({"customer": customer.pk, "refused": channels, "purposes": sorted(purposes),
                                       "refused_at": now}).data)


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
