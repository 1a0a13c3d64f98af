"""The plan: each vehicle's planned touchpoints, and the digest of what its plan was computed from."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from contacts.models.program import TouchpointTemplate
from customers.models import Customer, Vehicle


class TouchpointQuerySet(models.QuerySet["Touchpoint"]):
    def open(self) -> TouchpointQuerySet:
        return self.filter(status=Touchpoint.Status.PLANNED)


class Touchpoint(models.Model):
    """One planned contact of a vehicle's plan. Natural key: (vehicle, template, cycle_start, occurrence)."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ISSUED = "issued", _("Issued")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")
        SUPPRESSED = "suppressed", _("Suppressed")

    # No index of its own: the natural key (vehicle first) serves every lookup by vehicle, and each
    # index costs every one of the ~15 touchpoint rows a vehicle's re-plan inserts.
    # No database constraint on the vehicle, the customer and the template (Django still applies
    # on_delete, in Python): the re-plan writes ~15 rows a vehicle whose vehicle, customer and template
    # it has just read, and the keys' checks at COMMIT were over half of a cold chunk's PostgreSQL CPU
    # (bench/README.md). The chunk holds those parent rows itself instead, once per parent
    # (contacts.planning.writing._hold_parents), and the touchpoints that a concurrent re-plan wrote
    # for a vehicle or customer being deleted go with it (writing.drop_touchpoints_of_deleted_parent).
    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.CASCADE, related_name="touchpoints", db_index=False, db_constraint=False
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="touchpoints", db_constraint=False)
    template = models.ForeignKey(
        TouchpointTemplate, on_delete=models.PROTECT, related_name="touchpoints", db_constraint=False
    )
    cycle_start = models.DateField(_("cycle start"))
    occurrence = models.PositiveSmallIntegerField(_("occurrence"))
    due_on = models.DateField(_("date"))
    window_start = models.DateField(_("window from"))
    window_end = models.DateField(_("window to"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    reason = models.CharField(_("why"), max_length=200)
    reason_detail = models.JSONField(default=dict, blank=True)
    # The pressure resolver's last word on this touchpoint: "placed", "deferred:min_gap", "suppressed:...".
    resolution = models.CharField(_("resolution"), max_length=80, blank=True)
    snapshot = models.ForeignKey(
        "customers.ForecastSnapshot", on_delete=models.SET_NULL, null=True, blank=True, related_name="touchpoints",
        db_index=False,  # a partial index below: almost every row has none
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = TouchpointQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("touchpoint")
        verbose_name_plural = _("touchpoints")
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle", "template", "cycle_start", "occurrence"], name="touchpoint_natural_key"
            ),
            models.CheckConstraint(
                condition=Q(window_start__lte=models.F("window_end")), name="touchpoint_window_order"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["planned", "issued", "done", "cancelled", "suppressed"]),
                name="touchpoint_status_valid",
            ),
        ]
        indexes = [
            # Read by the daily queue build (contacts.queues): open touchpoints whose window reaches today.
            models.Index(
                fields=["customer", "window_end"], name="touchpoint_open_by_customer", condition=Q(status="planned")
            ),
            # For SET NULL when a snapshot is deleted, without indexing the rows that have none.
            models.Index(fields=["snapshot"], name="touchpoint_snapshot", condition=Q(snapshot__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.template_id} #{self.occurrence} {self.due_on}"

    def is_overdue(self, today: dt.date) -> bool:
        return self.status == self.Status.PLANNED and self.window_end < today


class PlanFingerprint(models.Model):
    """What a vehicle's stored forecast and plan were computed from, as a 64-bit digest of its facts,
    its mileage prior, the templates and the schedules (contacts.planning.computing), and the local day
    from which the same facts may plan differently (``valid_until``: a window, threshold or horizon
    reached; contacts.core.plan_engine.validity). The nightly re-plan skips a vehicle whose digest is
    unchanged and whose validity has not ended; ``replan --force`` ignores both."""

    vehicle = models.OneToOneField(Vehicle, on_delete=models.CASCADE, primary_key=True, related_name="plan_fingerprint")
    digest = models.BigIntegerField()
    planned_at = models.DateTimeField()
    valid_until = models.DateField(null=True, db_index=True)  # exclusive; None: re-plan the next night

    def __str__(self) -> str:
        return f"{self.vehicle_id}: {self.digest:016x}"
