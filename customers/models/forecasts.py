"""Maintenance intervals by make and model, and each vehicle's stored mileage forecast and the snapshots
of it that planned calls."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.core.forecast import odometer_on_day
from customers.models.vehicles import Vehicle


class MaintenanceSchedule(models.Model):
    """Interval per make/model; an empty model applies to the whole make. Global default: 15,000 km / 12 months."""

    make = models.CharField(_("make"), max_length=60)
    model = models.CharField(_("model"), max_length=60, blank=True)
    interval_km = models.PositiveIntegerField(_("interval, km"), default=15000)
    interval_months = models.PositiveSmallIntegerField(_("interval, months"), default=12)
    first_interval_km = models.PositiveIntegerField(_("first interval, km"), null=True, blank=True)
    first_interval_months = models.PositiveSmallIntegerField(_("first interval, months"), null=True, blank=True)

    class Meta:
        ordering = ["make", "model"]
        verbose_name = _("maintenance schedule")
        verbose_name_plural = _("maintenance schedules")
        constraints = [
            models.UniqueConstraint(fields=["make", "model"], name="maintenance_schedule_unique_make_model"),
            models.CheckConstraint(
                condition=Q(interval_km__gt=0) & Q(interval_months__gt=0), name="maintenance_schedule_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.make} {self.model or '*'}: {self.interval_km} km / {self.interval_months} mo"


class VehicleForecast(models.Model):
    """The stored mileage forecast of a vehicle, recomputed on a new reading/visit and nightly."""

    class Driver(models.TextChoices):
        KM = "km", _("mileage")
        TIME = "time", _("time")

    vehicle = models.OneToOneField(Vehicle, on_delete=models.CASCADE, related_name="forecast")
    computed_on = models.DateField(_("computed on"))
    km_per_month = models.FloatField(_("km per month"))
    km_per_month_low = models.FloatField(_("km per month, low"))
    km_per_month_high = models.FloatField(_("km per month, high"))
    source = models.CharField(_("source"), max_length=10)
    # The odometer as estimated on ``odometer_on`` (the latest usable reading, else the start of the
    # cycle); the odometer today is computed on read from it and the rate (``odometer_today_km``).
    odometer_km = models.PositiveIntegerField(_("estimated odometer, km"))
    odometer_on = models.DateField(_("odometer estimated on"))
    next_due_on = models.DateField(_("next maintenance due"))
    due_earliest_on = models.DateField(_("due, earliest"))
    due_latest_on = models.DateField(_("due, latest"))
    due_driver = models.CharField(_("due by"), max_length=4, choices=Driver.choices)
    due_odometer_km = models.PositiveIntegerField(_("due at, km"))
    interval_number = models.PositiveSmallIntegerField(_("maintenance number"))
    is_overdue = models.BooleanField(_("overdue"), default=False)
    # [{"read_on": "2025-01-02", "odometer_km": 123450, "reason": "implausible_jump", "reading_id": 7}, ...]
    flagged_readings = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("vehicle forecast")
        verbose_name_plural = _("vehicle forecasts")
        constraints = [
            models.CheckConstraint(
                condition=Q(due_earliest_on__lte=models.F("next_due_on")) & Q(next_due_on__lte=models.F("due_latest_on")),
                name="forecast_interval_contains_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vehicle_id}: due {self.next_due_on}"

    def odometer_on_day(self, day: dt.date) -> int:
        """The estimated odometer on ``day``, from the stored estimate and rate."""
        return odometer_on_day(self.km_per_month, self.odometer_on, self.odometer_km, max(day, self.odometer_on))

    @property
    def odometer_today_km(self) -> int:
        """The estimated odometer today (the dealership's day; computed on read, never stored)."""
        return self.odometer_on_day(self.vehicle.dealership.local_date(timezone.now()))


class ForecastSnapshot(models.Model):
    """A forecast as it was when it planned a call, so plan-versus-actual can be measured later."""

    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="forecast_snapshots")
    taken_on = models.DateField()
    km_per_month = models.FloatField()
    next_due_on = models.DateField()
    due_earliest_on = models.DateField()
    due_latest_on = models.DateField()
    due_driver = models.CharField(max_length=4)
    interval_number = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle", "interval_number", "next_due_on"], name="forecast_snapshot_unique"
            )
        ]
        indexes = [models.Index(fields=["vehicle", "interval_number"], name="snapshot_vehicle_interval")]

    def __str__(self) -> str:
        return f"{self.vehicle_id}: TO-{self.interval_number} {self.next_due_on}"
