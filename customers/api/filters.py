"""The list endpoints' filters: by dealership, by moment (UTC, ISO 8601) and by id."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField

from customers.api.access import MAX_ID
from customers.models import (
    Customer,
    OdometerReading,
    Sale,
    ServiceVisit,
    Vehicle,
)

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
