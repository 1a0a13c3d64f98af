"""Vehicles and their facts: sales, service visits and odometer readings."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customers.models.dealerships import Dealership
from customers.models.people import Customer

VIN_PATTERN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


def validate_vin(value: str) -> None:
    if not VIN_PATTERN.match(value):
        raise ValidationError(
            _("VIN %(value)s is invalid: it must be 17 letters and digits, without I, O or Q."),
            params={"value": value},
            code="bad_vin",
        )


class Vehicle(models.Model):
    vin = models.CharField(_("VIN"), max_length=17, unique=True, validators=[validate_vin])
    make = models.CharField(_("make"), max_length=60)
    model = models.CharField(_("model"), max_length=60)
    year = models.PositiveSmallIntegerField(_("year"))
    plate = models.CharField(_("plate"), max_length=20, blank=True)
    owner = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="vehicles", verbose_name=_("owner")
    )
    dealership = models.ForeignKey(
        Dealership, on_delete=models.PROTECT, related_name="vehicles", verbose_name=_("dealership")
    )
    # Empty means: the make/model schedule, else the global default.
    maintenance_interval_km = models.PositiveIntegerField(_("maintenance interval, km"), null=True, blank=True)
    maintenance_interval_months = models.PositiveSmallIntegerField(
        _("maintenance interval, months"), null=True, blank=True
    )
    warranty_months = models.PositiveSmallIntegerField(_("warranty, months"), default=36)
    warranty_km = models.PositiveIntegerField(_("warranty, km"), default=100000)
    is_active = models.BooleanField(_("active"), default=True, help_text=_("Off when the owner sold the car."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["vin"]
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        constraints = [
            models.CheckConstraint(condition=Q(vin__regex=r"^[A-HJ-NPR-Z0-9]{17}$"), name="vehicle_vin_format"),
            models.CheckConstraint(condition=Q(year__gte=1950) & Q(year__lte=2100), name="vehicle_year_range"),
        ]

    def __str__(self) -> str:
        return f"{self.make} {self.model} {self.plate or self.vin}"

    def clean(self) -> None:
        self.vin = (self.vin or "").strip().upper()
        validate_vin(self.vin)


class Sale(models.Model):
    class Kind(models.TextChoices):
        NEW = "new", _("New")
        USED = "used", _("Used")
        TRADE_IN = "trade_in", _("Trade-in")

    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="sales", verbose_name=_("vehicle"))
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="sales", verbose_name=_("customer"))
    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="sales")
    sold_on = models.DateField(_("sold on"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.NEW)
    salesperson = models.CharField(_("salesperson"), max_length=120, blank=True)
    odometer_km = models.PositiveIntegerField(_("odometer at sale, km"), default=0)
    external_id = models.CharField(_("external id"), max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["-sold_on", "id"]
        verbose_name = _("sale")
        verbose_name_plural = _("sales")
        constraints = [
            models.UniqueConstraint(fields=["dealership", "external_id"], name="sale_external_id_unique_per_dealership"),
            models.CheckConstraint(condition=Q(odometer_km__gte=0), name="sale_odometer_non_negative"),
            models.CheckConstraint(condition=Q(kind__in=["new", "used", "trade_in"]), name="sale_kind_valid"),
        ]
        indexes = [models.Index(fields=["customer", "sold_on"], name="sale_customer_sold_on")]

    def __str__(self) -> str:
        return f"{self.sold_on} {self.vehicle_id} → {self.customer_id}"


class ServiceVisit(models.Model):
    class Kind(models.TextChoices):
        MAINTENANCE = "maintenance", _("Scheduled maintenance")
        REPAIR = "repair", _("Repair")
        WARRANTY = "warranty", _("Warranty")
        TYRES = "tyres", _("Tyres")
        BODY = "body", _("Body")

    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.CASCADE, related_name="service_visits", verbose_name=_("vehicle")
    )
    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="service_visits")
    visited_on = models.DateField(_("visited on"))
    odometer_km = models.PositiveIntegerField(_("odometer, km"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.MAINTENANCE)
    external_id = models.CharField(_("external id"), max_length=64, null=True, blank=True)
    # A maintenance visit's forecast error (actual minus predicted day, as the forecast predicted it the
    # day before the visit) and a digest of the facts it was computed from (customers.core.forecast.
    # habit_errors): filled by the re-plan, recomputed only when a fact dated before the visit, the
    # interval or the prior changes. Derived, so not part of the plan's fingerprint.
    habit_error_days = models.IntegerField(null=True, blank=True, editable=False)
    habit_error_stamp = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-visited_on", "id"]
        verbose_name = _("service visit")
        verbose_name_plural = _("service visits")
        constraints = [
            models.UniqueConstraint(
                fields=["dealership", "external_id"], name="service_visit_external_id_unique_per_dealership"
            ),
            models.CheckConstraint(condition=Q(odometer_km__gte=0), name="service_visit_odometer_non_negative"),
            models.CheckConstraint(
                condition=Q(kind__in=["maintenance", "repair", "warranty", "tyres", "body"]),
                name="service_visit_kind_valid",
            ),
        ]
        indexes = [models.Index(fields=["vehicle", "visited_on"], name="service_visit_vehicle_day")]

    def __str__(self) -> str:
        return f"{self.visited_on} {self.get_kind_display()} {self.odometer_km} km"


class OdometerReading(models.Model):
    class Source(models.TextChoices):
        SALE = "sale", _("Sale")
        VISIT = "visit", _("Service visit")
        CALL = "call", _("Call")
        MANUAL = "manual", _("Manual")
        TELEMATICS = "telematics", _("Telematics")
        SMS = "sms", _("SMS reply")

    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.CASCADE, related_name="odometer_readings", verbose_name=_("vehicle")
    )
    read_on = models.DateField(_("read on"))
    odometer_km = models.PositiveIntegerField(_("odometer, km"))
    source = models.CharField(_("source"), max_length=12, choices=Source.choices, default=Source.MANUAL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["read_on", "id"]
        verbose_name = _("odometer reading")
        verbose_name_plural = _("odometer readings")
        constraints = [
            models.CheckConstraint(condition=Q(odometer_km__gte=0), name="odometer_reading_non_negative"),
            models.CheckConstraint(
                condition=Q(source__in=["sale", "visit", "call", "manual", "telematics", "sms"]),
                name="odometer_reading_source_valid",
            ),
        ]
        indexes = [models.Index(fields=["vehicle", "read_on"], name="odometer_vehicle_day")]

    def __str__(self) -> str:
        return f"{self.read_on}: {self.odometer_km} km"
