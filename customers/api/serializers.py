"""What the API reads and writes: one output serializer per kind of fact, the bulk input built from
the import's own columns, and the bulk result."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema_field,
)
from rest_framework import serializers

from customers import importing
from customers.api.access import MAX_BULK_ROWS, may_list_phones
from customers.models import (
    VIN_PATTERN,
)

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

    CONTACT_FIELDS = ("phone", "phone_alt", "email")

    def to_representation(self, instance: Any) -> dict[str, Any]:
        """Phones and e-mail only to the roles that may list them (access.may_list_phones): an agent's
        token pages out names, not a phone book; empty, as for a customer without them."""
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and not self.context.setdefault("may_list_phones", may_list_phones(request.user)):
            data.update(dict.fromkeys(self.CONTACT_FIELDS, ""))
        return data


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
