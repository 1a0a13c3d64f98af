"""Pairs of customers of one dealership who may be one person (customers.duplicates finds and merges them)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from customers.models.dealerships import Dealership
from customers.models.people import Customer


class DuplicateCandidate(models.Model):
    """Two customers (the lower id first) who share a phone, an e-mail or a name and birthday. Found by
    the import and the nightly detection; an admin or manager merges them or says they are not the same
    person, which is remembered: a dismissed pair is never proposed again."""

    class Status(models.TextChoices):
        OPEN = "open", _("To review")
        MERGED = "merged", _("Merged")
        DISMISSED = "dismissed", _("Not the same person")

    class Reason(models.TextChoices):
        PHONE = "phone", _("same phone")
        EMAIL = "email", _("same e-mail")
        NAME_BIRTHDAY = "name_birthday", _("same name and birthday")

    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    # The Reason values that hold, sorted and comma-separated ("email,phone").
    reasons = models.CharField(_("why"), max_length=60)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    found_at = models.DateTimeField(_("found at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    survivor = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-found_at", "id"]
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        constraints = [
            models.UniqueConstraint(fields=["customer", "other"], name="duplicate_pair_unique"),
            models.CheckConstraint(condition=Q(customer__lt=F("other")), name="duplicate_pair_ordered"),
            models.CheckConstraint(
                condition=Q(status__in=["open", "merged", "dismissed"]), name="duplicate_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["dealership", "found_at"], name="duplicate_open", condition=Q(status="open")),
            models.Index(fields=["other"], name="duplicate_other"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} ~ {self.other_id} ({self.reasons})"

    @property
    def reason_list(self) -> list[str]:
        return [r for r in self.reasons.split(",") if r]

    def reason_labels(self) -> list[str]:
        labels = dict(self.Reason.choices)
        return [str(labels.get(r, r)) for r in self.reason_list]
