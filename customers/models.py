"""The dealer's facts: dealerships, customers, vehicles, sales, service visits and odometer readings.

Single-row rules are model methods, row-set rules are QuerySet methods (CONVENTIONS 2). Invariants
live in the database as constraints, not only in forms (CONVENTIONS 13).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

VIN_PATTERN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


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


def validate_vin(value: str) -> None:
    if not VIN_PATTERN.match(value):
        raise ValidationError(
            _("VIN %(value)s is invalid: it must be 17 letters and digits, without I, O or Q."),
            params={"value": value},
            code="bad_vin",
        )


def normalize_phone(raw: str, region: str = "RU") -> str:
    """A phone in any common national or international format → E.164, or ValidationError naming it."""
    text = (raw or "").strip()
    if not text:
        return ""
    # Russian numbers are often written 8XXXXXXXXXX (trunk prefix 8): phonenumbers handles that for RU.
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise ValidationError(
            _("Phone number %(value)s is not valid."), params={"value": raw}, code="bad_phone"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


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
    # Tyre-season anchors (PROGRAM.md: 20 March and 5 October), month-day.
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


class CustomerQuerySet(models.QuerySet["Customer"]):
    def for_dealerships(self, dealerships: Any) -> CustomerQuerySet:
        return self.filter(dealership__in=dealerships)


class Customer(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        DEFECTED = "defected", _("Defected")
        INACTIVE = "inactive", _("Inactive")

    class Language(models.TextChoices):
        RU = "ru", _("Russian")
        EN = "en", _("English")

    dealership = models.ForeignKey(
        Dealership, on_delete=models.PROTECT, related_name="customers", verbose_name=_("dealership")
    )
    external_id = models.CharField(_("external id"), max_length=64, null=True, blank=True)
    first_name = models.CharField(_("first name"), max_length=100)
    middle_name = models.CharField(_("middle name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    phone_alt = models.CharField(_("second phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.RU)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=Channel.choices, default=Channel.CALL
    )
    preferred_hours_start = models.TimeField(_("preferred hours from"), null=True, blank=True)
    preferred_hours_end = models.TimeField(_("preferred hours to"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # Failed calls in a row (no answer, wrong number) on the main phone; reset by a reached call.
    phone_failures = models.PositiveSmallIntegerField(_("failed calls in a row"), default=0)
    phone_unreachable_since = models.DateField(_("phone unreachable since"), null=True, blank=True)
    # Set by a permanent e-mail failure (an address the mail server refused, a bounce).
    email_unreachable_since = models.DateField(_("e-mail unreachable since"), null=True, blank=True)
    # Hold-out group: gets no calls except those they ask for (the dashboards compare the two groups).
    is_holdout = models.BooleanField(_("in hold-out group"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(
                fields=["dealership", "external_id"], name="customer_external_id_unique_per_dealership"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "defected", "inactive"]), name="customer_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(phone="") | Q(phone__startswith="+"), name="customer_phone_e164"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.last_name, self.first_name, self.middle_name) if part)

    @property
    def is_phone_reachable(self) -> bool:
        return self.phone != "" and self.phone_unreachable_since is None

    @property
    def is_email_reachable(self) -> bool:
        return self.email != "" and self.email_unreachable_since is None

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        for field in ("phone", "phone_alt"):
            try:
                setattr(self, field, normalize_phone(getattr(self, field)))
            except ValidationError as error:
                errors[field] = error
        if errors:
            raise ValidationError(errors)

    def blocked_channels(self) -> frozenset[str]:
        """Channels the customer refused (do-not-call / do-not-SMS / do-not-e-mail)."""
        return frozenset(c.channel for c in self.consents.all() if not c.is_allowed)

    def allows(self, channel: str) -> bool:
        return channel not in self.blocked_channels()


class Consent(models.Model):
    """A customer's consent or refusal for one channel, with date and reason. No row = allowed."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    is_allowed = models.BooleanField(_("allowed"), default=True)
    changed_at = models.DateTimeField(_("changed at"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["customer", "channel"], name="consent_one_per_channel"),
            models.CheckConstraint(condition=Q(channel__in=["call", "sms", "email"]), name="consent_channel_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}: {'yes' if self.is_allowed else 'no'}"


class RefusalSource(models.TextChoices):
    """Where a refusal was recorded."""

    CALL = "call", _("call screen")
    ADMIN = "admin", _("administration")
    API = "api", _("API")
    IMPORT = "import", _("import")


class SuppressionQuerySet(models.QuerySet["Suppression"]):
    def matching(self, *, phones: Any = (), emails: Any = ()) -> SuppressionQuerySet:
        """Entries for any of these phones (E.164) or e-mails (any case)."""
        phone_values = {p for p in phones if p}
        email_values = {normalize_email(e) for e in emails if e}
        condition = Q(pk__in=[])
        if phone_values:
            condition |= Q(kind=Suppression.Kind.PHONE, value__in=phone_values)
        if email_values:
            condition |= Q(kind=Suppression.Kind.EMAIL, value__in=email_values)
        return self.filter(condition)


def normalize_email(raw: str) -> str:
    return (raw or "").strip().lower()


class Suppression(models.Model):
    """A refusal kept by phone number or e-mail address, so it outlives the customer row: a customer
    deleted and imported again, or created anew with the same phone, comes back refused (written and
    applied by customers.refusals). One list for the installation, which serves one dealer group (a
    VIN is unique across the group too)."""

    class Kind(models.TextChoices):
        PHONE = "phone", _("phone")
        EMAIL = "email", _("e-mail")

    kind = models.CharField(_("kind"), max_length=5, choices=Kind.choices)
    # E.164 for a phone, lower case for an e-mail (normalize_phone, normalize_email).
    value = models.CharField(_("phone or e-mail"), max_length=254, blank=True)
    # HMAC of kind and value (customers.privacy.address_hash), set when the customer is erased on
    # request: then value is blank and the refusal is matched by this alone.
    value_hash = models.CharField(_("hash of the phone or e-mail"), max_length=64, blank=True, default="", db_index=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    refused_at = models.DateTimeField(_("refused at"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    source = models.CharField(_("recorded in"), max_length=12, choices=RefusalSource.choices)
    # The customer who refused, while that row exists (a deleted customer leaves the entry).
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )

    objects = SuppressionQuerySet.as_manager()

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppression list")
        constraints = [
            models.UniqueConstraint(fields=["kind", "value", "channel"], condition=~Q(value=""),
                                    name="suppression_unique_address_channel"),
            models.UniqueConstraint(fields=["kind", "value_hash", "channel"], condition=~Q(value_hash=""),
                                    name="suppression_unique_hash_channel"),
            models.CheckConstraint(condition=Q(kind__in=["phone", "email"]), name="suppression_kind_valid"),
            models.CheckConstraint(condition=Q(channel__in=["call", "sms", "email"]), name="suppression_channel_valid"),
            models.CheckConstraint(
                condition=~Q(kind="phone") | Q(value__startswith="+") | Q(value=""), name="suppression_phone_e164"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.value}: no {self.channel}"


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
    odometer_today_km = models.PositiveIntegerField(_("estimated odometer today, km"))
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

