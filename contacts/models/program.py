"""The contact program: departments, touchpoint templates (with their single-row checks: timing,
conditions, scripts) and their published and draft versions."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from contacts.core.plan_engine import ANCHOR_RECURRENCES, DEFAULT_WINDOW_END_DAYS, SALE_KINDS
from contacts.core.purposes import purpose_of
from contacts.core.variants import VARIANT_KEYS, choose_variant
from contacts.scripts import script_errors
from customers.models import Channel


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
    if template.may_go_on_days_off and template.channel == Channel.CALL:
        errors["may_go_on_days_off"] = [
            str(_("Weekends and holidays: a call never goes on them; only a message may."))
        ]
    return errors


def _script_text_errors(text: str, *, label: str, channel: str) -> list[str]:
    """Why one script text cannot be used (empty, a broken or unknown placeholder), each with its label."""
    if not text.strip():
        return [
            _("%(field)s is empty: a call needs a script in each language.") % {"field": label}
            if channel == Channel.CALL
            else _("%(field)s is empty: a message needs a text in each language.") % {"field": label}
        ]
    return [f"{label}: {problem}" for problem in script_errors(text)]


def _script_field_errors(template: TouchpointTemplate) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    labels = {"script_en": _("Script (English)"), "script_ru": _("Script (Russian)")}
    for field, label in labels.items():
        problems = _script_text_errors(getattr(template, field) or "", label=str(label), channel=template.channel)
        if problems:
            errors[field] = problems
    return errors


MAX_SCRIPT_VARIANTS = len(VARIANT_KEYS)


def _variant_errors(template: TouchpointTemplate) -> dict[str, list[str]]:
    """Script A/B: the other variants' texts are checked as the template's own script is, and the
    shares of all variants (A's included) must be whole percentages from 1 to 99 that sum to 100."""
    variants = template.script_variants or []
    if not variants:
        return {}
    problems: list[str] = []
    if not isinstance(variants, list) or not all(isinstance(v, dict) for v in variants):
        return {"script_variants": [str(_("Script variants: the stored variants cannot be read."))]}
    if template.channel != Channel.CALL:
        problems.append(str(_("Script variants: only a call's script can be tested in variants.")))
    if len(variants) + 1 > MAX_SCRIPT_VARIANTS:
        problems.append(_("Script variants: at most %(n)s variants (A to %(last)s).")
                        % {"n": MAX_SCRIPT_VARIANTS, "last": VARIANT_KEYS[-1]})
    shares = [("A", template.script_share)] + [(str(v.get("key", "?")), v.get("percent")) for v in variants]
    for key, percent in shares:
        if not isinstance(percent, int) or not 1 <= percent <= 99:
            problems.append(_("Variant %(key)s: its share must be a whole percentage from 1 to 99.") % {"key": key})
    if all(isinstance(percent, int) for _key, percent in shares):
        total = sum(int(percent) for _key, percent in shares)
        if total != 100:
            problems.append(_("Variant shares add up to %(total)s %%; they must add up to 100 %%.") % {"total": total})
    for variant in variants:
        key = str(variant.get("key", "?"))
        for field, label in (("script_en", _("Variant %(key)s, English")), ("script_ru", _("Variant %(key)s, Russian"))):
            problems.extend(_script_text_errors(str(variant.get(field) or ""), label=label % {"key": key},
                                                channel=template.channel))
    return {"script_variants": problems} if problems else {}


def template_errors(template: TouchpointTemplate) -> dict[str, list[str]]:
    """Every single-row reason a template would break the plan, by field, in the user's language."""
    errors = _timing_errors(template)
    for more in (_condition_errors(template), _script_field_errors(template), _variant_errors(template)):
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
    # Messages only (docs/program.md version 2): weekends and holidays block calls, not this message.
    may_go_on_days_off = models.BooleanField(
        _("may go on weekends and holidays"), default=False,
        help_text=_(
            "Messages only. Ticked, the message goes on its day even when that is a weekend or a public "
            "holiday (inside message hours), as a birthday greeting does; not ticked, it waits for a working day."
        ),
    )
    skip_when_maintenance_booked_or_done = models.BooleanField(
        _("skip when maintenance is booked or done"), default=False
    )
    min_vehicle_age_months = models.PositiveSmallIntegerField(_("min vehicle age, months"), null=True, blank=True)
    max_vehicle_age_months = models.PositiveSmallIntegerField(_("max vehicle age, months"), null=True, blank=True)
    phase = models.CharField(_("phase"), max_length=12, choices=Phase.choices, default=Phase.CYCLE)
    is_active = models.BooleanField(_("active"), default=True)
    script_en = models.TextField(_("script (English)"), blank=True)
    script_ru = models.TextField(_("script (Russian)"), blank=True)
    # Script A/B: the template's own script is variant A and takes ``script_share`` % of the calls; the
    # other variants (B, C, ...) are [{"key", "percent", "script_en", "script_ru"}]. None: one script.
    script_share = models.PositiveSmallIntegerField(_("share of script A, %"), default=100)
    script_variants: Any = models.JSONField(_("other script variants"), default=list, blank=True)
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
    def purpose(self) -> str:
        """What the touchpoint is for: service, survey or marketing (contacts.core.purposes)."""
        return purpose_of(code=self.code, department=self.department.code)

    @property
    def name(self) -> str:
        return self.name_ru if (get_language() or "en").startswith("ru") else self.name_en

    def script_for(self, language: str, variant: str = "") -> str:
        """The script in ``language`` (English when there is no Russian), of ``variant`` ("" or "A": the own)."""
        for other in self.script_variants or []:
            if variant and other.get("key") == variant:
                russian = other.get("script_ru") or ""
                return russian if language.startswith("ru") and russian else other.get("script_en") or ""
        return self.script_ru if language.startswith("ru") and self.script_ru else self.script_en

    def script_split(self) -> list[tuple[str, int]]:
        """(variant, percent) of an A/B test, A first; empty when the template has one script."""
        if not self.script_variants:
            return []
        return [("A", self.script_share), *((str(v["key"]), int(v["percent"])) for v in self.script_variants)]

    def variant_for(self, customer_id: int) -> str:
        """The variant this customer's calls about this template use ("" when there is no A/B test)."""
        return choose_variant(code=self.code, subject=customer_id, split=self.script_split())

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
    script_share = models.PositiveSmallIntegerField(_("share of script A, %"), default=100)
    script_variants: Any = models.JSONField(_("other script variants"), default=list, blank=True)
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
