from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path
from django.utils import timezone

from audit import trail
from audit.admin import AuditedAdminMixin, AuditHistoryMixin
from contacts.models import (
    CallAttempt,
    CallTask,
    ConfigurationChange,
    ContactRules,
    DailyCapacity,
    Department,
    Handoff,
    OutboxMessage,
    TemplateVersion,
    Touchpoint,
    TouchpointTemplate,
)
from customers.admin_scoping import DealershipScopedAdmin


@admin.register(Department)
class DepartmentAdmin(DealershipScopedAdmin, admin.ModelAdmin):
    dealership_path = None
    list_display = ["code", "name_en", "name_ru", "priority", "takes_handoffs", "is_active"]


@admin.register(TouchpointTemplate)
class TouchpointTemplateAdmin(AuditHistoryMixin, DealershipScopedAdmin, admin.ModelAdmin):
    audit_object_type = trail.ObjectType.TEMPLATE
    dealership_path = None
    list_display = ["code", "name_en", "department", "channel", "anchor", "recurrence", "priority", "is_active", "version"]
    list_filter = ["department", "channel", "anchor", "phase", "is_active", "may_go_on_days_off"]
    search_fields = ["code", "name_en", "name_ru"]
    # Script variants are edited (and validated as a whole) on the program designer's template page.
    readonly_fields = ["version", "script_share", "script_variants"]
    change_form_template = "admin/contacts/touchpointtemplate/change_form.html"

    def get_urls(self) -> list[URLPattern]:
        preview = path(
            "<int:pk>/preview/",
            self.admin_site.admin_view(self.preview_view),
            name="contacts_touchpointtemplate_preview",
        )
        return [preview, *super().get_urls()]

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """htmx: the edited (unsaved) form → the next 90 days with and without the change."""
        from contacts.preview import preview_template_change

        template = get_object_or_404(TouchpointTemplate, pk=pk)
        form_class = self.get_form(request, template)
        form = form_class(request.POST or None, instance=template)
        context: dict[str, Any] = {"form": form}
        if request.method == "POST" and form.is_valid():
            edited = form.save(commit=False)
            context["preview"] = preview_template_change(edited=edited, today=timezone.now().date()).as_dict()
        return render(request, "admin/contacts/touchpointtemplate/preview.html", context)

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        # Issued calls keep the script they were rendered with; the version marks the change, and its
        # texts and timing are kept as a published version, as the dealer's template editor keeps them.
        from contacts.configuration.versions import record_published_version

        with transaction.atomic():
            if change:
                obj.version = F("version") + 1
            super().save_model(request, obj, form, change)
            obj.refresh_from_db(fields=["version"])
            record_published_version(template=obj, user=request.user, now=timezone.now())


@admin.register(Touchpoint)
class TouchpointAdmin(DealershipScopedAdmin, admin.ModelAdmin):
    dealership_path = "customer__dealership"
    list_display = ["due_on", "template", "vehicle", "customer", "status", "resolution"]
    list_filter = ["status", "template"]
    search_fields = ["vehicle__vin", "customer__last_name"]
    raw_id_fields = ["vehicle", "customer", "snapshot"]


@admin.register(ContactRules)
class ContactRulesAdmin(AuditedAdminMixin, DealershipScopedAdmin, admin.ModelAdmin):
    audit_object_type = trail.ObjectType.CONTACT_RULES
    list_display = [
        "dealership",
        "min_days_between_calls",
        "max_calls_per_30_days",
        "max_calls_per_365_days",
        "merge_window_days",
        "calls_per_agent",
    ]


@admin.register(DailyCapacity)
class DailyCapacityAdmin(AuditedAdminMixin, DealershipScopedAdmin, admin.ModelAdmin):
    audit_object_type = trail.ObjectType.CAPACITY
    list_display = ["dealership", "day", "agents_on_shift", "set_by"]


@admin.register(CallTask)
class CallTaskAdmin(DealershipScopedAdmin, admin.ModelAdmin):
    list_display = ["scheduled_on", "customer", "dealership", "kind", "status", "priority", "claimed_by"]
    list_filter = ["dealership", "status", "kind"]
    search_fields = ["customer__last_name", "customer__phone"]
    raw_id_fields = ["customer", "previous", "assigned_to", "claimed_by"]


@admin.register(CallAttempt)
class CallAttemptAdmin(DealershipScopedAdmin, admin.ModelAdmin):
    dealership_path = "call_task__dealership"
    list_display = ["ended_at", "customer", "agent", "outcome"]
    list_filter = ["outcome"]
    raw_id_fields = ["call_task", "customer", "vehicle"]


@admin.register(Handoff)
class HandoffAdmin(DealershipScopedAdmin, admin.ModelAdmin):
    list_display = ["deadline", "customer", "department", "kind", "status"]
    list_filter = ["department", "kind", "status"]
    raw_id_fields = ["customer", "vehicle", "created_from"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(DealershipScopedAdmin, admin.ModelAdmin):
    list_display = ["send_on", "customer", "channel", "status", "provider", "attempts", "sent_at", "error"]
    list_filter = ["channel", "status", "provider"]
    raw_id_fields = ["customer", "touchpoint"]
    readonly_fields = ["provider", "provider_message_id", "attempts", "reserved_at", "next_attempt_at", "delivered_at",
                       "status_changed_at"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """History: written by the workflows that make the change, never edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TemplateVersion)
class TemplateVersionAdmin(DealershipScopedAdmin, ReadOnlyAdmin):
    dealership_path = None
    list_display = ["code", "status", "number", "published_at", "published_by", "created_at", "created_by"]
    list_filter = ["status"]
    search_fields = ["code"]


@admin.register(ConfigurationChange)
class ConfigurationChangeAdmin(DealershipScopedAdmin, ReadOnlyAdmin):
    list_display = ["changed_at", "dealership", "subject", "changed_by"]
    list_filter = ["subject", "dealership"]
