"""Import batches: one uploaded file, its progress and its refused rows."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models.dealerships import Dealership


class ImportBatch(models.Model):
    """One uploaded file: who, when, what, counts, progress and refused rows."""

    class Kind(models.TextChoices):
        CUSTOMERS = "customers", _("Customers")
        VEHICLES = "vehicles", _("Vehicles")
        SALES = "sales", _("Sales")
        VISITS = "visits", _("Service visits")
        READINGS = "readings", _("Odometer readings")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        PREVIEWED = "previewed", _("Previewed (dry run)")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        # Saved, but the task could not be queued (the broker was down): the page offers a retry.
        UNQUEUED = "unqueued", _("Not queued")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="imports")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="imports"
    )
    file_name = models.CharField(_("file"), max_length=255)
    file_content = models.BinaryField(editable=False)
    is_dry_run = models.BooleanField(_("dry run"), default=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    refused_count = models.PositiveIntegerField(default=0)
    # Customers rows that look like an existing different customer (same phone, e-mail or name and
    # birthday): candidates on the Duplicates page once applied.
    look_alike_count = models.PositiveIntegerField(default=0)
    # [{"line": 7, "reason": "VIN ... is invalid", "row": {...}}]
    refused_rows = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When it was last queued, claimed or moved on: a batch waiting or running with no progress for
    # settings.IMPORT_STALLED_AFTER is stalled (a lost task, a killed worker), and can be retried.
    progressed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name}"

    @property
    def is_waiting_or_running(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)

    def is_stalled(self, now: dt.datetime) -> bool:
        """Waiting or running, with no progress for settings.IMPORT_STALLED_AFTER."""
        last = self.progressed_at or self.created_at
        return self.is_waiting_or_running and last is not None and now - last > settings.IMPORT_STALLED_AFTER

    def can_retry(self, now: dt.datetime) -> bool:
        return self.status == self.Status.UNQUEUED or self.is_stalled(now)
