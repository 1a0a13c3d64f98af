"""Touchpoint templates, planned touchpoints, contact rules, call tasks, hand-offs and the outbox."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from contacts.core.plan_engine import ANCHOR_RECURRENCES, DEFAULT_WINDOW_END_DAYS, SALE_KINDS
from contacts.scripts import script_errors
from customers.hooks import DEFAULT_HOLDOUT_SHARE_PERCENT
from customers.models import Channel, Customer, Dealership, Vehicle


class Department(models.Model):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_ru = models.CharField(_("name (Russian)"), max_length=100)
    # Lower comes first on a merged call's agenda and in ties between departments.
    priority = models.PositiveSmallIntegerField(_("priority"), default=5)
    takes_handoffs = models.BooleanField(_("receives hand-offs"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["priority", "code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_ru if (get_language() or "en").startswith("ru") else self.name_en


class Anchor(models.TextChoices):
    SALE = "sale", _("Sale")
    MAINTENANCE_DUE = "maintenance_due", _("Predicted maintenance due date")
    MAINTENANCE_VISIT = "maintenance_visit", _("Maintenance visit")
    WARRANTY_END = "warranty_end", _("Warranty end")
    INSURANCE_RENEWAL = "insurance_renewal", _("Insurance renewal")
    BIRTHDAY = "birthday", _("Birthday")
    SEASON = "season", _("Season date")
    MISSED_MAINTENANCE = "missed_maintenance", _("Missed maintenance")
    LAPSED = "lapsed", _("Lapsed customer")
    KEEP_ALIVE = "keep_alive", _("Keep-alive")


class Recurrence(models.TextChoices):
    ONCE = "once", _("Once")
    PER_MAINTENANCE = "per_maintenance", _("Per maintenance")
    PER_VISIT = "per_visit", _("Per visit")
    YEARLY = "yearly", _("Yearly")
    SEASONAL = "seasonal", _("Each season")


class Phase(models.TextChoices):
    CYCLE = "cycle", _("Inside the 3-year cycle")
    AFTER_CYCLE = "after_cycle", _("After the cycle")
    ALWAYS = "always", _("Always")


# How far from its anchor a touchpoint may be dated, in days (a month counts 30.44 days), and what
# the anchor is in words. Outside these a touchpoint falls before its anchor event or outside the
# 3-year cycle, and the plan engine silently plans nothing: the template editor and the Django admin
# refuse it instead (TouchpointTemplate.clean).
CYCLE_DAYS = 1095
ANCHOR_OFFSET_LIMITS: dict[str, tuple[int, int]] = {
    "sale": (0, CYCLE_DAYS - 1),
    "maintenance_due": (-180, 90),
    "maintenance_visit": (0, 90),
    "warranty_end": (-365, 30),
    "insurance_renewal": (-90, 30),
    "birthday": (-14, 14),
    "season": (-60, 30),
    "missed_maintenance": (1, 180),
    "lapsed": (183, CYCLE_DAYS),
    "keep_alive": (30, 730),
}
# A yearly touchpoint anchored at the sale repeats each anniversary: its offset stays inside a year.
YEARLY_SALE_OFFSET_LIMIT = (0, 364)
MAX_OFFSET_MONTHS = 36
MAX_OFFSET_DAYS = 365
MAX_WINDOW_DAYS = 60
DAYS_PER_MONTH = 30.44

WINDOW_ORDER_MESSAGE = _("The window must start on or before the day it ends.")


def offset_in_days(months: int, days: int) -> int:
    return round(months * DAYS_PER_MONTH) + days


def _timing_errors(template: TouchpointTemplate) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    months, days = template.offset_months or 0, template.offset_days or 0
    if abs(months) > MAX_OFFSET_MONTHS:
        refuse("offset_months", _("Offset in months: %(value)s is too far; use -%(max)s to %(max)s.")
               % {"value": months, "max": MAX_OFFSET_MONTHS})
    if abs(days) > MAX_OFFSET_DAYS:
        refuse("offset_days", _("Offset in days: %(value)s is too far; use -%(max)s to %(max)s (months for longer).")
               % {"value": days, "max": MAX_OFFSET_DAYS})
    allowed = ANCHOR_RECURRENCES.get(template.anchor, ())
    if template.anchor and template.recurrence not in allowed:
        refuse("recurrence", _("Repeats: “%(anchor)s” allows only %(allowed)s.") % {
            "anchor": Anchor(template.anchor).label,
            "allowed": ", ".join(str(Recurrence(value).label) for value in allowed),
        })
    if errors or not template.anchor:
        return errors
    low, high = ANCHOR_OFFSET_LIMITS[template.anchor]
    if template.anchor == "sale" and template.recurrence == Recurrence.YEARLY:
        low, high = YEARLY_SALE_OFFSET_LIMIT
    offset = offset_in_days(months, days)
    if not low <= offset <= high:
        refuse("offset_months" if months else "offset_days", _(
            "Offset: the touchpoint would fall %(offset)s days from its anchor (%(anchor)s); "
            "it must be between %(low)s and %(high)s days, or it is never planned."
        ) % {"offset": offset, "anchor": Anchor(template.anchor).label, "low": low, "high": high})
    start = 0 if template.window_start_days is None else template.window_start_days
    default_end = DEFAULT_WINDOW_END_DAYS.get(template.channel, 3)
    end = default_end if template.window_end_days is None else template.window_end_days
    if start > end:
        refuse("window_end_days", str(WINDOW_ORDER_MESSAGE))
        return errors
    if start > 0:
        refuse("window_start_days", str(_("Window start: it must be on the touchpoint's day or before it (0 or less).")))
    if end < 0:
        refuse("window_end_days", str(_("Window end: it must be on the touchpoint's day or after it (0 or more).")))
    if end - start > MAX_WINDOW_DAYS:
        refuse("window_end_days", _("Window: %(length)s days is too long; at most %(max)s days, or the call loses its moment.")
               % {"length": end - start, "max": MAX_WINDOW_DAYS})
    if template.anchor == "sale" and template.recurrence == Recurrence.ONCE and template.phase == Phase.CYCLE:
        if offset + end >= CYCLE_DAYS and "offset_months" not in errors and "offset_days" not in errors:
            refuse("window_end_days", _("Window: it ends %(days)s days after the sale, after the 3-year cycle (%(cycle)s days).")
                   % {"days": offset + end, "cycle": CYCLE_DAYS})
    return errors


def _condition_errors(template: TouchpointTemplate) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    kinds = template.sale_kinds
    if not isinstance(kinds, list) or any(kind not in SALE_KINDS for kind in kinds):
        errors["sale_kinds"] = [str(_("Sale kinds: choose among new, used and trade-in."))]
    low, high = template.min_vehicle_age_months, template.max_vehicle_age_months
    if low is not None and high is not None and low > high:
        errors["max_vehicle_age_months"] = [
            _("Vehicle age: the maximum (%(high)s months) is below the minimum (%(low)s months).") % {"low": low, "high": high}
        ]
    return errors


def _script_field_errors(template: TouchpointTemplate) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    labels = {"script_en": _("Script (English)"), "script_ru": _("Script (Russian)")}
    for field, label in labels.items():
        text = getattr(template, field) or ""
        if not text.strip():
            errors[field] = [
                _("%(field)s is empty: a call needs a script in each language.") % {"field": label}
                if template.channel == Channel.CALL
                else _("%(field)s is empty: a message needs a text in each language.") % {"field": label}
            ]
            continue
        problems = script_errors(text)
        if problems:
            errors[field] = [f"{label}: {problem}" for problem in problems]
    return errors


def template_errors(template: TouchpointTemplate) -> dict[str, list[str]]:
    """Every single-row reason a template would break the plan, by field, in the user's language."""
    errors = _timing_errors(template)
    for more in (_condition_errors(template), _script_field_errors(template)):
        for field, messages in more.items():
            errors.setdefault(field, []).extend(messages)
    return errors


class TouchpointTemplate(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=150)
    name_ru = models.CharField(_("name (Russian)"), max_length=150)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="templates")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    anchor = models.CharField(_("anchor"), max_length=20, choices=Anchor.choices)
    offset_days = models.IntegerField(_("offset, days"), default=0)
    offset_months = models.IntegerField(_("offset, months"), default=0)
    recurrence = models.CharField(_("recurrence"), max_length=20, choices=Recurrence.choices, default=Recurrence.ONCE)
    # Empty: the channel's default window (calls: the date to 14 days after; messages: to 3 days after).
    window_start_days = models.IntegerField(_("window starts, days from the date"), null=True, blank=True)
    window_end_days = models.IntegerField(_("window ends, days from the date"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=5)
    # Conditions.
    sale_kinds = models.JSONField(_("sale kinds (empty = any)"), default=list, blank=True)
    requires_birthday = models.BooleanField(_("needs a known birthday"), default=False)
    skip_when_maintenance_booked_or_done = models.BooleanField(
        _("skip when maintenance is booked or done"), default=False
    )
    min_vehicle_age_months = models.PositiveSmallIntegerField(_("min vehicle age, months"), null=True, blank=True)
    max_vehicle_age_months = models.PositiveSmallIntegerField(_("max vehicle age, months"), null=True, blank=True)
    phase = models.CharField(_("phase"), max_length=12, choices=Phase.choices, default=Phase.CYCLE)
    is_active = models.BooleanField(_("active"), default=True)
    script_en = models.TextField(_("script (English)"), blank=True)
    script_ru = models.TextField(_("script (Russian)"), blank=True)
    # Bumped on every edit; an issued call keeps the script it was rendered with (CallTask.script).
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "code"]
        verbose_name = _("touchpoint template")
        verbose_name_plural = _("touchpoint templates")
        constraints = [
            models.CheckConstraint(
                condition=Q(window_start_days__lte=models.F("window_end_days")), name="template_window_order",
                violation_error_message=WINDOW_ORDER_MESSAGE,
            ),
            models.CheckConstraint(condition=Q(channel__in=["call", "sms", "email"]), name="template_channel_valid"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def name(self) -> str:
        return self.name_ru if (get_language() or "en").startswith("ru") else self.name_en

    def script_for(self, language: str) -> str:
        return self.script_ru if language.startswith("ru") and self.script_ru else self.script_en

    def clean(self) -> None:
        errors = template_errors(self)
        if errors:
            raise ValidationError(errors)


class TemplateVersion(models.Model):
    """A touchpoint template's texts and timing. A draft until published (a new template is a draft with
    no template row yet); a published version is kept with its texts, so a dealer can compare versions
    (CallTask.agenda records each call's ``template_version``) and restore an old one."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    template = models.ForeignKey(
        TouchpointTemplate, on_delete=models.CASCADE, null=True, blank=True, related_name="versions"
    )
    code = models.SlugField(_("code"), max_length=40)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    number = models.PositiveIntegerField(_("version"), null=True, blank=True)
    # Every editable field but the scripts (contacts.configuration.versions.TemplateFields).
    template_fields: Any = models.JSONField(default=dict)
    script_en = models.TextField(_("script (English)"), blank=True)
    script_ru = models.TextField(_("script (Russian)"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["code", "-number", "-created_at"]
        verbose_name = _("template version")
        verbose_name_plural = _("template versions")
        constraints = [
            models.UniqueConstraint(
                fields=["template", "number"], condition=Q(status="published"), name="template_version_number_once"
            ),
            # One draft per template code: an edit continues the open draft instead of forking it.
            models.UniqueConstraint(fields=["code"], condition=Q(status="draft"), name="template_version_one_draft"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(number__isnull=False, template__isnull=False, published_at__isnull=False),
                name="template_version_published_complete",
            ),
            models.CheckConstraint(condition=Q(status__in=["draft", "published"]), name="template_version_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.number}" if self.number else f"{self.code} (draft)"


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
    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="touchpoints", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="touchpoints")
    template = models.ForeignKey(TouchpointTemplate, on_delete=models.PROTECT, related_name="touchpoints")
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


# The hold-out share of a dealership with no rules row yet (README "Hold-out group"); the facts app
# names it, since it draws imported customers into the hold-out.
HOLDOUT_SHARE_DEFAULT = DEFAULT_HOLDOUT_SHARE_PERCENT


class ContactRules(models.Model):
    """Contact-pressure rules per dealership (PROGRAM.md defaults)."""

    dealership = models.OneToOneField(Dealership, on_delete=models.CASCADE, related_name="contact_rules")
    min_days_between_calls = models.PositiveSmallIntegerField(_("days between two calls, at least"), default=7)
    min_days_between_messages = models.PositiveSmallIntegerField(_("days between two messages, at least"), default=3)
    max_calls_per_30_days = models.PositiveSmallIntegerField(_("calls in any 30 days, at most"), default=2)
    max_calls_per_365_days = models.PositiveSmallIntegerField(_("calls in any 365 days, at most"), default=12)
    merge_window_days = models.PositiveSmallIntegerField(_("merge touchpoints within, days"), default=10)
    # {"service": 1, "sales": 2, ...}; a department missing here uses Department.priority.
    department_priorities = models.JSONField(_("department priorities"), default=dict, blank=True)
    working_weekdays = models.CharField(
        _("working weekdays (1 = Monday)"), max_length=7, default="12345",
    )
    keep_alive_months = models.PositiveSmallIntegerField(_("at least one reached contact every, months"), default=11)
    unreachable_after_failures = models.PositiveSmallIntegerField(
        _("failed calls in a row that mark a phone unreachable"), default=3
    )
    calls_per_agent = models.PositiveSmallIntegerField(_("calls per agent a day"), default=40)
    default_agents_on_shift = models.PositiveSmallIntegerField(_("agents on shift by default"), default=4)
    claim_timeout_minutes = models.PositiveSmallIntegerField(_("an idle claim expires after, minutes"), default=20)
    queue_build_hour = models.PositiveSmallIntegerField(_("queue is built at (local hour)"), default=7)
    # SMS and e-mail go out only between these local times, on the message's own local day
    # (PROGRAM.md version 2; read by contacts.sending.send_due_messages).
    message_hours_start = models.TimeField(_("messages from (local time)"), default=dt.time(10, 0))
    message_hours_end = models.TimeField(_("messages until (local time)"), default=dt.time(20, 0))
    holdout_share_percent = models.PositiveSmallIntegerField(
        # xgettext:no-python-format
        _("hold-out group, % of new customers"), default=HOLDOUT_SHARE_DEFAULT
    )
    # The first-year profit estimate Π = X · (a · b · Y + a · c · Z) (contacts.core.figures.profit_estimate).
    profit_live_share = models.DecimalField(_("a: share of customers reached live"), max_digits=4, decimal_places=3,
                                            default=Decimal("0.700"))
    profit_service_conversion = models.DecimalField(_("b: service visits per live contact"), max_digits=4,
                                                    decimal_places=3, default=Decimal("0.070"))
    profit_repeat_conversion = models.DecimalField(_("c: car sales per live contact"), max_digits=4, decimal_places=3,
                                                   default=Decimal("0.020"))

    class Meta:
        verbose_name = _("contact rules")
        verbose_name_plural = _("contact rules")
        constraints = [
            models.CheckConstraint(condition=Q(min_days_between_calls__gte=1), name="rules_call_gap_positive"),
            models.CheckConstraint(condition=Q(queue_build_hour__lte=23), name="rules_build_hour_valid"),
            models.CheckConstraint(condition=Q(holdout_share_percent__lte=50), name="rules_holdout_share_valid"),
            models.CheckConstraint(
                condition=Q(message_hours_start__lt=models.F("message_hours_end")), name="rules_message_hours_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dealership}"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        days = self.working_weekdays or ""
        if not days or any(c not in "1234567" for c in days) or len(set(days)) != len(days):
            errors["working_weekdays"] = _("Working days: choose at least one day, each once (1 = Monday … 7 = Sunday).")
        if self.max_calls_per_30_days is not None and self.max_calls_per_30_days < 1:
            errors["max_calls_per_30_days"] = _("Calls in any 30 days: at least 1, or nobody is ever called.")
        elif (self.max_calls_per_365_days is not None and self.max_calls_per_30_days is not None
              and self.max_calls_per_365_days < self.max_calls_per_30_days):
            errors["max_calls_per_365_days"] = _("Calls in any 365 days: at least as many as in any 30 days (%(n)s).") % {
                "n": self.max_calls_per_30_days
            }
        priorities = self.department_priorities
        known = set(Department.objects.values_list("code", flat=True))
        if not isinstance(priorities, dict) or any(
            code not in known or not isinstance(rank, int) or isinstance(rank, bool) or rank < 1
            for code, rank in priorities.items()
        ):
            errors["department_priorities"] = _("Department priorities: each known department once, ranked 1, 2, 3 …")
        for letter, name in (("a", "profit_live_share"), ("b", "profit_service_conversion"), ("c", "profit_repeat_conversion")):
            value = getattr(self, name)
            if value is not None and not Decimal(0) <= value <= Decimal(1):
                errors[name] = _("Coefficient %(letter)s: a share between 0 and 1, for example 0.07 for 7 %%.") % {
                    "letter": letter
                }
        if self.message_hours_start is not None and self.message_hours_end is not None and (
            self.message_hours_start >= self.message_hours_end
        ):
            errors["message_hours_end"] = _("Message hours must end after they start.")
        if errors:
            raise ValidationError(errors)

    def profit_coefficients(self) -> dict[str, float]:
        """The keyword arguments of contacts.core.figures.profit_estimate for a, b and c."""
        return {"live": float(self.profit_live_share), "service_conversion": float(self.profit_service_conversion),
                "repeat_conversion": float(self.profit_repeat_conversion)}

    @classmethod
    def holdout_share_for(cls, dealership: Dealership) -> int:
        """The dealership's hold-out share, without creating its rules row."""
        stored = cls.objects.filter(dealership=dealership).values_list("holdout_share_percent", flat=True).first()
        return HOLDOUT_SHARE_DEFAULT if stored is None else stored

    @classmethod
    def for_dealership(cls, dealership: Dealership) -> ContactRules:
        rules, _created = cls.objects.get_or_create(dealership=dealership)
        return rules


class ConfigurationChange(models.Model):
    """Who changed a dealership's contact rules or profit coefficients, when, and each changed value
    before and after; written in the same transaction as the change (contacts.configuration.changes)."""

    class Subject(models.TextChoices):
        RULES = "rules", _("Contact rules")
        PROFIT = "profit", _("Profit coefficients")

    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, related_name="configuration_changes")
    subject = models.CharField(max_length=10, choices=Subject.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    changed_at = models.DateTimeField()
    # {"field": [before, after], ...}, values as text.
    changes: Any = models.JSONField(default=dict)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("rules change")
        verbose_name_plural = _("rules changes")
        indexes = [models.Index(fields=["dealership", "-changed_at"], name="configuration_change_recent")]

    def __str__(self) -> str:
        return f"{self.dealership_id} {self.subject} {self.changed_at:%Y-%m-%d %H:%M}"


class DailyCapacity(models.Model):
    """Agents on shift for one dealership and day, set by the supervisor."""

    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, related_name="capacities")
    day = models.DateField()
    agents_on_shift = models.PositiveSmallIntegerField(_("agents on shift"))
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        verbose_name = _("agents on shift for a day")
        verbose_name_plural = _("agents on shift by day")
        constraints = [models.UniqueConstraint(fields=["dealership", "day"], name="capacity_one_per_day")]

    def __str__(self) -> str:
        return f"{self.dealership_id} {self.day}: {self.agents_on_shift}"


class AgendaItem(TypedDict, total=False):
    """One topic of a call (``CallTask.agenda``), as the queue build writes it (contacts.queues.rendering)."""

    touchpoint_id: int
    code: str
    title: str  # in the customer's language at the build; pages show the template's name in the reader's
    department: str
    vehicle: str
    why: str
    reason: str  # the plan engine's reason code, said in words by contacts.wording
    detail: dict[str, str]
    template_version: int


class ExplanationItem(TypedDict):
    """A touchpoint the resolver merged into the call, deferred or suppressed, and why."""

    code: str
    reason: str
    detail: str
    on: str  # ISO date of the day it was placed on, or ""


#: ``CallTask.explanation``: "merged", "deferred", "suppressed" → its touchpoints.
Explanation = dict[str, list[ExplanationItem]]


class CallTaskQuerySet(models.QuerySet["CallTask"]):
    def open(self) -> CallTaskQuerySet:
        return self.filter(status=CallTask.Status.OPEN)

    def stale_claims(self, now: dt.datetime, minutes: int) -> CallTaskQuerySet:
        """Claims with no sign of life for ``minutes``: the call screen's heartbeat (claim_seen_at), else the claim."""
        return self.filter(status=CallTask.Status.CLAIMED).alias(
            last_seen=Coalesce("claim_seen_at", "claimed_at")
        ).filter(last_seen__lt=now - dt.timedelta(minutes=minutes))


class CallTask(models.Model):
    """A call to make: one or more merged touchpoints (its agenda), a date, a window and a script."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLAIMED = "claimed", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Kind(models.TextChoices):
        PLANNED = "planned", _("Planned")
        RETRY = "retry", _("Retry")
        CALLBACK = "callback", _("Callback")

    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, related_name="call_tasks")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="call_tasks")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PLANNED)
    # Requested by the customer (a callback): not budgeted against the gap and caps.
    is_requested = models.BooleanField(default=False)
    scheduled_on = models.DateField(_("call on"))
    window_start = models.DateField(_("window from"))
    window_end = models.DateField(_("deadline"))
    # scheduled_on + the dealership's call gap: the PostgreSQL exclusion constraint forbids two
    # unrequested, uncancelled calls of one customer whose [scheduled_on, blocks_until) ranges overlap.
    blocks_until = models.DateField()
    callback_at = models.DateTimeField(_("call back at"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=50)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    agenda = models.JSONField(default=list)  # list[AgendaItem]
    script = models.TextField(_("script"), blank=True)
    explanation = models.JSONField(default=dict, blank=True)  # Explanation, for this customer
    attempts = models.PositiveSmallIntegerField(default=0)
    previous = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retries")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_calls"
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="claimed_calls"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The claim's last sign of life: the open call screen's heartbeat (contacts.calls.keep_claim), so a
    # long call is not taken for an abandoned one (CallTaskQuerySet.stale_claims).
    claim_seen_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CallTaskQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_on", "priority", "window_end", "id"]
        verbose_name = _("call task")
        verbose_name_plural = _("call tasks")
        constraints = [
            models.CheckConstraint(
                condition=Q(window_start__lte=models.F("scheduled_on")) & Q(scheduled_on__lte=models.F("window_end")),
                name="call_task_inside_window",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "claimed", "done", "cancelled"]), name="call_task_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="claimed", claimed_by__isnull=False) | ~Q(status="claimed"),
                name="call_task_claim_has_agent",
            ),
        ]
        indexes = [
            # Read by the agent queue and "next call" (contacts.views): open work of a dealership by day.
            models.Index(
                fields=["dealership", "scheduled_on", "priority"],
                name="call_task_open_queue",
                condition=Q(status__in=["open", "claimed"]),
            ),
            models.Index(fields=["customer", "scheduled_on"], name="call_task_customer_day"),
            # Read by contacts.calls.claim_next_call and the queue page: open calls in working order.
            models.Index(
                fields=["dealership", "priority", "window_end", "id"],
                name="call_task_claim_order",
                condition=Q(status="open"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scheduled_on} {self.customer_id} ({self.status})"

    def is_overdue(self, today: dt.date) -> bool:
        return self.status in (self.Status.OPEN, self.Status.CLAIMED) and self.window_end < today


class CallTaskItem(models.Model):
    """A touchpoint on a call's agenda. At most one call task per touchpoint, enforced here."""

    call_task = models.ForeignKey(CallTask, on_delete=models.CASCADE, related_name="items")
    touchpoint = models.OneToOneField(Touchpoint, on_delete=models.CASCADE, related_name="call_item")
    position = models.PositiveSmallIntegerField(default=0)
    result = models.CharField(_("result"), max_length=200, blank=True)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.call_task_id}: {self.touchpoint_id}"


class CallAttempt(models.Model):
    """One call an agent made and its outcome: the contact history."""

    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached")
        NO_ANSWER = "no_answer", _("No answer / busy")
        WRONG_NUMBER = "wrong_number", _("Wrong number")
        CALL_BACK = "call_back", _("Call back later")
        DO_NOT_CALL = "do_not_call", _("Do not call")
        BOOKED = "booked", _("Maintenance booked")
        SERVICED_ELSEWHERE = "serviced_elsewhere", _("Serviced elsewhere")
        SOLD_CAR = "sold_car", _("Sold the car")
        HOT_LEAD = "hot_lead", _("Hot lead")

    call_task = models.ForeignKey(CallTask, on_delete=models.CASCADE, related_name="attempts_made")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="call_attempts")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="calls")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField()
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    note = models.TextField(_("note"), blank=True)
    odometer_km = models.PositiveIntegerField(_("mileage now, km"), null=True, blank=True)
    vehicle = models.ForeignKey(Vehicle, on_delete=models.SET_NULL, null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-ended_at"]
        indexes = [models.Index(fields=["customer", "ended_at"], name="attempt_customer_time")]

    def __str__(self) -> str:
        return f"{self.ended_at:%Y-%m-%d %H:%M} {self.outcome}"


# Outcomes in which the customer was spoken to (for reach rate, keep-alive and "lapsed").
REACHED_OUTCOMES = frozenset({"reached", "call_back", "do_not_call", "booked", "serviced_elsewhere", "sold_car", "hot_lead"})


class Handoff(models.Model):
    """A hot lead or a booking handed to sales, service or trade-in staff."""

    class Kind(models.TextChoices):
        HOT_LEAD = "hot_lead", _("Hot lead")
        BOOKING = "booking", _("Maintenance booking")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        ACCEPTED = "accepted", _("Accepted")
        CLOSED = "closed", _("Closed")

    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, related_name="handoffs")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="handoffs")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.SET_NULL, null=True, blank=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="handoffs")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    notes = models.TextField(blank=True)
    deadline = models.DateField(_("deadline"))
    booked_on = models.DateField(_("booked for"), null=True, blank=True)
    # The visit's moment when the agent agreed a time with the customer (booked_on is its local day).
    booked_at = models.DateTimeField(_("booked at"), null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    result = models.CharField(_("result"), max_length=200, blank=True)
    created_from = models.ForeignKey(CallAttempt, on_delete=models.SET_NULL, null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["deadline", "id"]

    def __str__(self) -> str:
        return f"{self.kind} → {self.department_id} by {self.deadline}"

    def is_overdue(self, today: dt.date) -> bool:
        return self.status != self.Status.CLOSED and self.deadline < today


class OutboxMessage(models.Model):
    """An SMS or e-mail to send, under the same contact rules as calls.

    Its life (contacts.sending, contacts.channels.delivery): pending (queued) → reserved (a worker is
    sending it; ``reserved_at``) → sent (the provider took it; ``provider_message_id``) → delivered,
    or failed / bounced. A transient failure puts it back to pending with ``next_attempt_at``; a
    reservation older than MESSAGE_RESERVATION_TIMEOUT_SECONDS belongs to a worker that died and is
    looked up at the provider by its idempotency key before anything is sent again.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Queued")
        RESERVED = "reserved", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        BOUNCED = "bounced", _("Bounced")
        CANCELLED = "cancelled", _("Cancelled")

    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, related_name="outbox")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="messages")
    touchpoint = models.OneToOneField(Touchpoint, on_delete=models.CASCADE, related_name="message")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.CharField(max_length=254)
    body = models.TextField()
    send_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # Which adapter took it (``Sender.name``) and the id the provider gave it, for its callbacks.
    provider = models.CharField(max_length=20, blank=True)
    provider_message_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    reserved_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["send_on", "id"]
        indexes = [
            # Read by contacts.sending.send_due_messages: pending messages by day.
            models.Index(fields=["send_on"], name="outbox_pending_by_day", condition=Q(status="pending")),
            # Read by contacts.sending.recover_reservations: the few rows a worker may have left mid-send.
            models.Index(fields=["reserved_at"], name="outbox_reserved", condition=Q(status="reserved")),
            # Read by contacts.channels.delivery: a provider's callback names its own id.
            models.Index(
                fields=["provider", "provider_message_id"], name="outbox_provider_id", condition=~Q(provider_message_id="")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "reserved", "sent", "delivered", "failed", "bounced", "cancelled"]),
                name="outbox_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.send_on} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        """Stable for the message's whole life, whichever worker sends it: the provider's own message id
        where it takes one (SMSC's ``id``), the e-mail's Message-ID."""
        return f"{settings.MESSAGE_ID_PREFIX}-{self.pk}"


class QueueBuild(models.Model):
    """Once per dealership and day: the daily queue build's marker and counts."""

    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, related_name="queue_builds")
    day = models.DateField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    # When the build sweep last queued this build, and how often: a build queued longer ago than a task
    # may run and still unfinished was lost (worker killed, broker restarted) and is queued again.
    queued_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["dealership", "day"], name="queue_build_once_per_day")]

    def __str__(self) -> str:
        return f"{self.dealership_id} {self.day}"


class SweepChunk(models.Model):
    """One id range of a night's re-plan sweep: queued, then finished by the worker that re-planned it.
    A chunk queued longer ago than a task may run and still unfinished was lost and is queued again."""

    night = models.DateField()
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    queued_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    # A chunk of a morning queue build instead (first_id..last_id: its households' lowest customer ids):
    # its households while queued, their call candidates and counts once resolved (contacts.queues.build).
    build = models.ForeignKey("QueueBuild", null=True, blank=True, on_delete=models.CASCADE, related_name="chunks")
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["night", "first_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["night", "first_id"], condition=Q(build__isnull=True), name="sweep_chunk_once_per_night"
            ),
            models.UniqueConstraint(fields=["build", "first_id"], name="build_chunk_once"),
        ]
        indexes = [
            # Read every minute by contacts.tasks.requeue_lost_work: the unfinished chunks.
            models.Index(fields=["queued_at"], name="sweep_chunk_unfinished", condition=Q(finished_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.night} {self.first_id}-{self.last_id}"


class Problem(models.Model):
    """One customer, household or vehicle the nightly re-plan or the morning build could not process:
    recorded and skipped, so that the rest of the dealership goes on (shown on /health/ and to the
    supervisor). The same subject failing again on the same day and stage is one row, counted."""

    class Stage(models.TextChoices):
        REPLAN = "replan", _("Nightly re-plan")
        BUILD = "build", _("Morning queue build")
        MESSAGES = "messages", _("Messages")

    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices)
    day = models.DateField(_("day"))
    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    # "vehicle:12", "customer:7", "household:7,9": what failed, readable without a join.
    subject = models.CharField(_("what"), max_length=200)
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    error = models.TextField(_("error"))
    occurred_at = models.DateTimeField(_("when"))
    count = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = _("processing problem")
        verbose_name_plural = _("processing problems")
        constraints = [
            models.UniqueConstraint(fields=["stage", "day", "subject"], name="problem_once_per_subject_and_day")
        ]

    def __str__(self) -> str:
        return f"{self.stage} {self.day} {self.subject}"


class PlanFingerprint(models.Model):
    """What a vehicle's stored forecast and plan were computed from, as a 64-bit digest of its facts,
    the local day, its mileage prior, the templates and the schedules (contacts.planning.fingerprint).
    The nightly re-plan skips a vehicle whose digest is unchanged; ``replan --force`` ignores it."""

    vehicle = models.OneToOneField(Vehicle, on_delete=models.CASCADE, primary_key=True, related_name="plan_fingerprint")
    digest = models.BigIntegerField()
    planned_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.vehicle_id}: {self.digest:016x}"


class BeatTick(models.Model):
    """The last time a worker executed the beat's heartbeat task (shown on the health page)."""

    name = models.CharField(max_length=50, unique=True)
    ticked_at = models.DateTimeField()
    count = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} {self.ticked_at}"


class MetricSnapshot(models.Model):
    """A dashboard figure computed by the nightly metrics job (dealership null = the whole group)."""

    key = models.CharField(max_length=60)
    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, null=True, blank=True)
    period_start = models.DateField()
    period_end = models.DateField()
    computed_at = models.DateTimeField()
    value: Any = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key", "dealership", "period_start", "period_end"], name="metric_snapshot_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.period_start}..{self.period_end}"
