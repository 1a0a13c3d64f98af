"""Dealerships (their time zone, call hours and tyre seasons, their staff) and the contact channels."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    CALL = "call", _("Call")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a known time zone; use an IANA name such as Europe/Moscow."),
            params={"value": value},
            code="bad_time_zone",
        )


class Dealership(models.Model):
    name = models.CharField(_("name"), max_length=200)
    code = models.SlugField(_("code"), max_length=30, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Moscow", validators=[validate_time_zone]
    )
    country = models.CharField(_("country for holidays"), max_length=2, default="RU")
    region = models.CharField(_("region for holidays"), max_length=10, blank=True)
    call_hours_start = models.TimeField(_("call hours from"), default=dt.time(9, 0))
    call_hours_end = models.TimeField(_("call hours to"), default=dt.time(20, 0))
    # Tyre-season anchors (docs/program.md: 20 March and 5 October), month-day.
    spring_tyre_day = models.CharField(_("spring tyre change (MM-DD)"), max_length=5, default="03-20")
    autumn_tyre_day = models.CharField(_("autumn tyre change (MM-DD)"), max_length=5, default="10-05")
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="dealerships", blank=True, verbose_name=_("staff")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("dealership")
        verbose_name_plural = _("dealerships")
        constraints = [
            models.CheckConstraint(
                condition=Q(call_hours_start__lt=models.F("call_hours_end")), name="dealership_call_hours_order"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def local_date(self, moment: dt.datetime) -> dt.date:
        """The calendar day at ``moment`` in this dealership's zone."""
        return moment.astimezone(self.zone).date()

    def clean(self) -> None:
        for field in ("spring_tyre_day", "autumn_tyre_day"):
            value = getattr(self, field)
            try:
                dt.date(2024, int(value[:2]), int(value[3:5]))
            except (ValueError, IndexError):
                raise ValidationError({field: _("Use MM-DD, for example 03-20.")}) from None
