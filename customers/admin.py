from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit import trail
from audit.admin import AuditedAdminMixin
from customers import hooks, refusals
from customers.admin_scoping import DealershipScopedAdmin, DealershipScopedInline
from customers.models import (
    Consent,
    Customer,
    Dealership,
    ImportBatch,
    MaintenanceSchedule,
    OdometerReading,
    Purpose,
    RefusalSource,
    Sale,
    ServiceVisit,
    Suppression,
    Vehicle,
    VehicleForecast,
)


def _vehicle_ids(obj: Model) -> list[int]:
    if isinstance(obj, Vehicle):
        return [obj.pk]
    if isinstance(obj, Customer):
        return list(obj.vehicles.values_list("id", flat=True))
    vehicle_id = getattr(obj, "vehicle_id", None)
    return [vehicle_id] if vehicle_id else []


class ReplanOnSaveMixin:
    """A fact edited in the admin re-plans its vehicles once the transaction commits (no signals)."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        ids = _vehicle_ids(form.instance)
        if ids:
            hooks.vehicles_changed(ids)


@admin.register(Dealership)
class DealershipAdmin(DealershipScopedAdmin, admin.ModelAdmin):
    dealership_path = "id"
    list_display = ["name", "code", "time_zone", "country", "call_hours_start", "call_hours_end"]
    search_fields = ["name", "code"]
    filter_horizontal = ["staff"]


class VehicleInline(DealershipScopedInline, admin.TabularInline):
    model = Vehicle
    fk_name = "owner"
    fields = ["vin", "make", "model", "year", "plate", "is_active"]
    extra = 0
    show_change_link = True


class ConsentForm(forms.ModelForm):
    """Purpose left empty = all purposes, as everywhere else a refusal is recorded."""

    class Meta:
        model = Consent
        fields = ["channel", "purpose", "is_allowed", "reason"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["purpose"].required = False

    def clean_purpose(self) -> str:
        return self.cleaned_data.get("purpose") or Purpose.ALL


class ConsentInline(DealershipScopedInline, admin.TabularInline):
    dealership_path = "customer__dealership"
    model = Consent
    form = ConsentForm
    extra = 0
    fields = ["channel", "purpose", "is_allowed", "reason", "changed_at", "source", "recorded_by"]
    # Set by the refusal workflow (customers.refusals): the moment the admin saved it, where and by whom.
    readonly_fields = ["changed_at", "source", "recorded_by"]


@admin.register(Customer)
class CustomerAdmin(AuditedAdminMixin, DealershipScopedAdmin, ReplanOnSaveMixin, admin.ModelAdmin):
    audit_object_type = trail.ObjectType.CUSTOMER
    list_display = ["name", "phone", "email", "dealership", "status", "is_holdout"]
    list_filter = ["dealership", "status", "language", "is_holdout"]
    search_fields = ["last_name", "first_name", "phone", "email", "external_id"]
    inlines = [VehicleInline, ConsentInline]
    list_select_related = ["dealership"]

    @admin.display(description=_("full name"), ordering="last_name")
    def name(self, obj: Customer) -> str:
        return obj.full_name

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)  # recorded in the audit trail (AuditedAdminMixin)
        if not change or {"phone", "phone_alt", "email"} & set(form.changed_data):
            # A new customer, or a new phone or e-mail, on the suppression list comes back refused.
            refusals.apply_suppression_list(customer_ids=[obj.pk], now=timezone.now())

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Consents go through the refusal workflow, as on the call screen: a refusal entered here
        cancels that day's messages and open calls at once and joins the suppression list."""
        if formset.model is not Consent:
            super().save_formset(request, form, formset, change)
            return
        now = timezone.now()
        customer = form.instance
        formset.save(commit=False)
        for consent in formset.deleted_objects:
            consent.delete()
            if not consent.is_allowed:
                refusals.sync_suppression(customer=customer, channel=consent.channel, now=now)
        for consent in [*formset.new_objects, *(obj for obj, _fields in formset.changed_objects)]:
            if consent.is_allowed:
                refusals.record_consent(customer=customer, channel=consent.channel, now=now, reason=consent.reason,
                                        purposes=[consent.purpose], recorded_by=request.user)
            else:
                refusals.record_refusal(customer=customer, channels=[consent.channel], now=now,
                                        reason=consent.reason, source=RefusalSource.ADMIN,
                                        purposes=[consent.purpose], recorded_by=request.user)


@admin.register(Suppression)
class SuppressionAdmin(DealershipScopedAdmin, admin.ModelAdmin):
    """The refusals kept by phone and e-mail. Deleting an entry lets that address be contacted again
    once its customer's consent is changed too."""
    dealership_path = "customer__dealership"

    list_display = ["value", "kind", "channel", "refused_at", "source", "reason"]
    list_filter = ["kind", "channel", "source"]
    search_fields = ["value"]
    readonly_fields = ["customer"]


class SaleInline(DealershipScopedInline, admin.TabularInline):
    model = Sale
    extra = 0
    raw_id_fields = ["customer"]


class ServiceVisitInline(DealershipScopedInline, admin.TabularInline):
    model = ServiceVisit
    extra = 0


class OdometerReadingInline(DealershipScopedInline, admin.TabularInline):
    dealership_path = "vehicle__dealership"
    model = OdometerReading
    extra = 0


@admin.register(Vehicle)
class VehicleAdmin(DealershipScopedAdmin, ReplanOnSaveMixin, admin.ModelAdmin):
    list_display = ["vin", "make", "model", "year", "plate", "owner", "dealership", "is_active"]
    list_filter = ["dealership", "make", "is_active"]
    search_fields = ["vin", "plate", "model", "owner__last_name", "owner__phone"]
    raw_id_fields = ["owner"]
    inlines = [SaleInline, ServiceVisitInline, OdometerReadingInline]
    list_select_related = ["owner", "dealership"]


@admin.register(Sale)
class SaleAdmin(DealershipScopedAdmin, ReplanOnSaveMixin, admin.ModelAdmin):
    list_display = ["sold_on", "vehicle", "customer", "dealership", "kind", "salesperson"]
    list_filter = ["dealership", "kind"]
    search_fields = ["vehicle__vin", "customer__last_name", "external_id"]
    raw_id_fields = ["vehicle", "customer"]
    date_hierarchy = "sold_on"


@admin.register(ServiceVisit)
class ServiceVisitAdmin(DealershipScopedAdmin, ReplanOnSaveMixin, admin.ModelAdmin):
    list_display = ["visited_on", "vehicle", "dealership", "kind", "odometer_km"]
    list_filter = ["dealership", "kind"]
    search_fields = ["vehicle__vin", "external_id"]
    raw_id_fields = ["vehicle"]
    date_hierarchy = "visited_on"


@admin.register(OdometerReading)
class OdometerReadingAdmin(DealershipScopedAdmin, ReplanOnSaveMixin, admin.ModelAdmin):
    dealership_path = "vehicle__dealership"
    list_display = ["read_on", "vehicle", "odometer_km", "source"]
    list_filter = ["source"]
    search_fields = ["vehicle__vin"]
    raw_id_fields = ["vehicle"]


@admin.register(MaintenanceSchedule)
class MaintenanceScheduleAdmin(DealershipScopedAdmin, admin.ModelAdmin):
    dealership_path = None
    list_display = ["make", "model", "interval_km", "interval_months", "first_interval_km", "first_interval_months"]
    search_fields = ["make", "model"]


@admin.register(VehicleForecast)
class VehicleForecastAdmin(DealershipScopedAdmin, admin.ModelAdmin):
    dealership_path = "vehicle__dealership"
    list_display = ["vehicle", "km_per_month", "next_due_on", "due_driver", "is_overdue", "computed_on"]
    list_filter = ["due_driver", "is_overdue"]
    search_fields = ["vehicle__vin"]
    raw_id_fields = ["vehicle"]


@admin.register(ImportBatch)
class ImportBatchAdmin(DealershipScopedAdmin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "file_name", "dealership", "uploaded_by", "status", "refused_count"]
    list_filter = ["kind", "status", "dealership"]
    exclude = ["file_content"]

from customers import admin_tokens  # noqa: E402, F401  (API tokens: their own module)
