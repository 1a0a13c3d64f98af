"""Per dealership settings: the contact rules, who changed them, and the agents on shift by day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from contacts.models.program import Department
from customers.hooks import DEFAULT_HOLDOUT_SHARE_PERCENT
from customers.models import Dealership

# The hold-out share of a dealership with no rules row yet (README "Hold-out group"); the facts app
# names it, since it draws imported customers into the hold-out.
HOLDOUT_SHARE_DEFAULT = DEFAULT_HOLDOUT_SHARE_PERCENT


class ContactRules(models.Model):
    """Contact-pressure rules per dealership (docs/program.md defaults)."""

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
    # (docs/program.md version 2; read by contacts.sending.send_due_messages).
    message_hours_start = models.TimeField(_("messages from (local time)"), default=dt.time(10, 0))
    message_hours_end = models.TimeField(_("messages until (local time)"), default=dt.time(20, 0))
    # The hand-off SLA: working hours (the dealership's call hours, on working days) to answer a
    # hand-off of each temperature before it escalates to the department's head.
    handoff_hours_hot = models.PositiveSmallIntegerField(_("answer a hot hand-off within, working hours"), default=2)
    handoff_hours_warm = models.PositiveSmallIntegerField(_("answer a warm hand-off within, working hours"), default=8)
    handoff_hours_cold = models.PositiveSmallIntegerField(_("answer a cold hand-off within, working hours"), default=24)
    # A sale or a visit imported this many days after a "sold" / "visit confirmed" outcome is linked to it.
    handoff_match_days = models.PositiveSmallIntegerField(_("link a later sale or visit within, days"), default=14)
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
            errors["message_hours_end"] = _("Messages until: it must be later than the start of message hours.")
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
