"""The trail in the Django admin: read-only entries, and the old and new values in each recorded
object's history page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from audit.models import AuditEntry

# Entries shown in one object's admin history (the /audit/ page has them all).
HISTORY_ENTRIES = 200


class AuditHistoryMixin:
    """A ModelAdmin whose history page lists the object's audit entries with old and new values.
    ``audit_object_type``: the ObjectType its entries are recorded under; a customer's page also shows
    the entries recorded about the customer (consents, calls)."""

    audit_object_type: str = ""
    object_history_template: Any = "audit/admin_object_history.html"

    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        entries = AuditEntry.objects.filter(object_type=self.audit_object_type, object_id=str(object_id))
        if self.audit_object_type == "customer" and str(object_id).isdigit():
            entries = AuditEntry.objects.filter(customer_id=int(object_id)) | entries
        context = {**(extra_context or {}), "audit_entries": list(entries.select_related("actor")[:HISTORY_ENTRIES]),
                   "audit_object_type": self.audit_object_type, "audit_object_id": object_id}
        return super().history_view(request, object_id, extra_context=context)  # type: ignore[misc]


class AuditedAdminMixin(AuditHistoryMixin):
    """A ModelAdmin whose saves are recorded with the old and new value of each changed field."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        from audit import trail

        fields = [name for name in form.changed_data if name in form._meta.model._meta._forward_fields_map]
        before = type(obj)._default_manager.filter(pk=obj.pk).values(*fields).first() if change and fields else {}
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        changes = trail.diff(before or {}, {name: getattr(obj, form._meta.model._meta.get_field(name).attname)
                                            for name in fields})
        if changes or not change:
            trail.record(object_type=self.audit_object_type, object_id=obj.pk, changes=changes,
                         action=trail.Action.UPDATE if change else trail.Action.CREATE, source=trail.Source.ADMIN,
                         dealership_id=getattr(obj, "dealership_id", None),
                         customer_id=obj.pk if self.audit_object_type == "customer" else None)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_name", "source", "action", "object_type", "object_id", "customer_id", "dealership_id"]
    list_filter = ["source", "object_type", "action"]
    search_fields = ["actor_name", "object_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
