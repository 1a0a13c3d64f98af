"""One row per change of a recorded object: kept for good, never edited, except by an erasure on request,
which replaces the erased person's values in their entries with a marker (contacts.privacy)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    CALL_SCREEN = "call_screen", _("Call screen")
    CUSTOMER_PAGE = "customer_page", _("Customer page")
    FLOOR = "floor", _("Supervisor floor")
    CONFIGURATION = "configuration", _("Program settings")
    ADMIN = "admin", _("Django admin")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    SYSTEM = "system", _("System")


class ObjectType(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    CONSENT = "consent", _("Consent")
    VEHICLE = "vehicle", _("Vehicle")
    SALE = "sale", _("Sale")
    VISIT = "visit", _("Service visit")
    READING = "reading", _("Odometer reading")
    CONTACT_RULES = "contact_rules", _("Contact rules")
    TEMPLATE = "template", _("Touchpoint template")
    CAPACITY = "capacity", _("Daily capacity")
    CALL_TASK = "call_task", _("Call")
    IMPORT_BATCH = "import_batch", _("Import")


class Action(models.TextChoices):
    CREATE = "create", _("created")
    UPDATE = "update", _("changed")
    DELETE = "delete", _("deleted")
    REFUSE = "refuse", _("refused")
    CONSENT = "consent", _("consented")
    PUBLISH = "publish", _("published")
    RELEASE = "release", _("released")
    REASSIGN = "reassign", _("reassigned")
    APPLY = "apply", _("applied")
    # A person's data on request (contacts.privacy): the export of everything held, the erasure.
    EXPORT = "export", _("personal data exported")
    ERASE = "erase", _("erased on request")


class AuditEntry(models.Model):
    at = models.DateTimeField(_("when"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", verbose_name=_("who"))
    # The actor's login at the time: the entry still names them after the user is deleted.
    actor_name = models.CharField(_("who (login)"), max_length=150, blank=True)
    source = models.CharField(_("where"), max_length=20, choices=Source.choices)
    # Plain ids, not foreign keys: the trail outlives the rows it describes (an erased customer).
    dealership_id = models.IntegerField(_("dealership"), null=True, blank=True)
    object_type = models.CharField(_("what"), max_length=20, choices=ObjectType.choices)
    object_id = models.CharField(_("object id"), max_length=64)
    customer_id = models.IntegerField(_("customer"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    # {field: [old, new]}; for an applied import its file and counts.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["dealership_id", "at"], name="audit_dealership_at"),
            models.Index(fields=["customer_id", "at"], name="audit_customer_at"),
            models.Index(fields=["actor", "at"], name="audit_actor_at"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or '-'} {self.action} {self.object_type} {self.object_id}"

    def change_rows(self) -> list[tuple[str, Any, Any]]:
        """(field, old, new) for the page and the admin's history, fields in order."""
        return [(name, *pair) if isinstance(pair, list) and len(pair) == 2 else (name, None, pair)
                for name, pair in sorted(self.changes.items())]
