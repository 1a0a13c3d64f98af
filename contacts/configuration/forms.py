"""Forms of the dealer's admin pages: plain fields for what the models store as numbers, JSON or codes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from contacts.core.variants import VARIANT_KEYS
from contacts.models import ContactRules, Department, TouchpointTemplate, offset_in_days
from customers import access
from customers.models import Dealership, Sale

BEFORE, AFTER = "before", "after"


class TemplateForm(forms.ModelForm):
    """A touchpoint template with human timing: "N months and M days before/after the anchor", a window
    as "days before / days after" that day (empty = the channel's default), sale kinds as checkboxes.
    The signs are applied in ``clean``; the model's ``clean`` then refuses anything that breaks the plan."""

    direction = forms.ChoiceField(label=_("Before or after"), choices=[(AFTER, _("after")), (BEFORE, _("before"))])
    offset_months = forms.IntegerField(label=_("Months"), min_value=0, initial=0)
    offset_days = forms.IntegerField(label=_("Days"), min_value=0, initial=0)
    window_start_days = forms.IntegerField(
        label=_("May be placed up to this many days before"), min_value=0, required=False,
        help_text=_("Empty: on the day itself."),
    )
    window_end_days = forms.IntegerField(
        label=_("…and up to this many days after"), min_value=0, required=False,
        help_text=_("Empty: the channel's default (calls 14 days, messages 3)."),
    )
    sale_kinds = forms.MultipleChoiceField(
        label=_("Only after these kinds of sale (none ticked = any)"), required=False,
        choices=Sale.Kind.choices, widget=forms.CheckboxSelectMultiple,
    )
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.filter(is_active=True),
                                        empty_label=None)
    script_share = forms.IntegerField(label=_("Share of calls for script A, %"), min_value=0, max_value=100,
                                      required=False, initial=100)
    # Script A/B: the other variants, posted as parallel lists variant_percent / variant_en / variant_ru
    # (one block per variant on the page) and gathered in clean_script_variants.
    script_variants = forms.JSONField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = TouchpointTemplate
        fields = [
            "code", "name_en", "name_ru", "department", "channel", "anchor", "recurrence", "offset_months",
            "offset_days", "window_start_days", "window_end_days", "priority", "sale_kinds", "requires_birthday",
            "may_go_on_days_off", "skip_when_maintenance_booked_or_done", "min_vehicle_age_months", "max_vehicle_age_months",
            "phase", "is_active", "script_en", "script_ru", "script_share", "script_variants",
        ]
        widgets = {"script_en": forms.Textarea(attrs={"rows": 9}), "script_ru": forms.Textarea(attrs={"rows": 9})}

    def __init__(self, *args: Any, is_new: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not is_new:
            del self.fields["code"]
        template = self.instance
        months, days = template.offset_months or 0, template.offset_days or 0
        if months * days < 0:
            months, days = 0, offset_in_days(months, days)
        self.initial.update(
            direction=BEFORE if months < 0 or days < 0 else AFTER,
            offset_months=abs(months),
            offset_days=abs(days),
            window_start_days=None if template.window_start_days is None else -template.window_start_days,
            sale_kinds=list(template.sale_kinds or []),
        )

    def _posted_variants(self) -> list[dict[str, Any]]:
        """The other variants as posted, in order, B first; a block left wholly empty is no variant."""
        data: Any = self.data  # a QueryDict when posted by the page

        def sent(name: str) -> list[str]:
            return list(data.getlist(name)) if hasattr(data, "getlist") else list(data.get(name) or [])

        percents, english, russian = (sent(name) for name in ("variant_percent", "variant_en", "variant_ru"))
        posted = []
        for percent, text_en, text_ru in zip(percents, english, russian, strict=False):
            if not (percent.strip() or text_en.strip() or text_ru.strip()):
                continue
            number: int | str = int(percent) if percent.strip().isdigit() else percent.strip()
            posted.append({"percent": number, "script_en": text_en, "script_ru": text_ru})
        return [{"key": VARIANT_KEYS[1 + index] if index + 1 < len(VARIANT_KEYS) else f"{index + 2}", **variant}
                for index, variant in enumerate(posted)]

    @property
    def variant_rows(self) -> list[dict[str, Any]]:
        """The other variants to show: as posted (with their errors), else as the template has them."""
        return self._posted_variants() if self.is_bound else list(self.instance.script_variants or [])

    def clean_script_variants(self) -> list[dict[str, Any]]:
        return self._posted_variants()

    def clean_script_share(self) -> int | None:
        share: int | None = self.cleaned_data.get("script_share")
        return 100 if share is None else share

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        sign = -1 if data.get("direction") == BEFORE else 1
        for name in ("offset_months", "offset_days"):
            if data.get(name) is not None:
                data[name] = sign * data[name]
        if data.get("window_start_days") is not None:
            data["window_start_days"] = -data["window_start_days"]
        data["sale_kinds"] = list(data.get("sale_kinds") or [])
        if not data.get("script_variants"):
            data["script_share"] = 100  # one script: it is read on every call
        return data


WEEKDAYS = [
    ("1", _("Monday")), ("2", _("Tuesday")), ("3", _("Wednesday")), ("4", _("Thursday")), ("5", _("Friday")),
    ("6", _("Saturday")), ("7", _("Sunday")),
]

# What each rule does, said once: shown beside the field on the rules page.
RULE_HELP = {
    "min_days_between_calls": _("Nobody is called again sooner than this, whatever the department."),
    "min_days_between_messages": _("Nobody gets two SMS or e-mails closer than this."),
    "max_calls_per_30_days": _("The most calls one customer gets in any 30 days; the rest wait or are dropped, essentials first."),
    "max_calls_per_365_days": _("The most calls one customer gets in any year."),
    "merge_window_days": _("Touchpoints of one customer this close together become one call with one agenda."),
    "keep_alive_months": _("A customer not spoken to for this long gets a keep-alive call."),
    "unreachable_after_failures": _("After this many failed calls in a row the phone is marked unreachable and calls stop."),
    "calls_per_agent": _("How many calls one agent makes in a day: with the agents on shift, the day's capacity."),
    "default_agents_on_shift": _("Agents on shift when the supervisor has not set today's number."),
    "claim_timeout_minutes": _("A call an agent opened and left goes back to the queue after this."),
    "queue_build_hour": _("The day's queue is built at this hour, in the dealership's time zone."),
    "holdout_share_percent": _("This share of new customers is not contacted, to measure what the calls achieve."),
    "working_weekdays": _("Calls are placed only on these days (public holidays are skipped too)."),
    "department_priorities": _("When touchpoints merge into one call, or the budget forces a choice, the department higher up goes first."),
    "call_hours_start": _("No call before this time, in the dealership's time zone."),
    "call_hours_end": _("No call after this time."),
    "message_hours_start": _("No SMS or e-mail goes out before this time, in the dealership's time zone."),
    "message_hours_end": _("No SMS or e-mail goes out after this time; a message not sent by then is not sent on another day."),
    "handoff_hours_hot": _("A hot hand-off nobody answered within these working hours goes to the department's head."),
    "handoff_hours_warm": _("The same for a warm hand-off."),
    "handoff_hours_cold": _("The same for a cold hand-off."),
    "handoff_match_days": _("A sale or visit imported this many days after a \"sold\" or \"visit confirmed\" is counted for the hand-off."),
}

# The hand-off SLA in working hours: at least one hour, at most this (about two working weeks).
HANDOFF_HOURS_MAX = 120
HANDOFF_MATCH_DAYS_MAX = 365


class RulesForm(forms.ModelForm):
    """A dealership's contact rules with plain controls: weekdays as checkboxes, department priorities as
    an ordered list (the browser posts the codes in order), call hours from the dealership."""

    working_weekdays = forms.MultipleChoiceField(
        label=_("Working days"), choices=WEEKDAYS, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Working days: choose at least one day, or no call is ever placed.")},
    )
    department_order = forms.CharField(required=False, widget=forms.HiddenInput)
    call_hours_start = forms.TimeField(label=_("Calls from"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    call_hours_end = forms.TimeField(label=_("Calls until"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))

    class Meta:
        model = ContactRules
        fields = [
            "min_days_between_calls", "min_days_between_messages", "max_calls_per_30_days", "max_calls_per_365_days",
            "merge_window_days", "working_weekdays", "department_priorities", "keep_alive_months",
            "unreachable_after_failures", "calls_per_agent", "default_agents_on_shift", "claim_timeout_minutes",
            "queue_build_hour", "holdout_share_percent", "message_hours_start", "message_hours_end",
            "handoff_hours_hot", "handoff_hours_warm", "handoff_hours_cold", "handoff_match_days",
        ]
        widgets = {
            "department_priorities": forms.HiddenInput,
            "message_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "message_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        labels = {"message_hours_start": _("Messages from"), "message_hours_end": _("Messages until")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rules: ContactRules = self.instance
        self.fields["department_priorities"].required = False
        self.initial["working_weekdays"] = list(rules.working_weekdays or "")
        self.initial["call_hours_start"] = rules.dealership.call_hours_start
        self.initial["call_hours_end"] = rules.dealership.call_hours_end
        for name, text in RULE_HELP.items():
            if name in self.fields:
                self.fields[name].help_text = text
        self.departments = ordered_departments(rules)

    # The page's sections (rules.html), each a list of fields.
    SECTIONS = {
        "often": ["min_days_between_calls", "max_calls_per_30_days", "max_calls_per_365_days",
                  "min_days_between_messages", "merge_window_days", "keep_alive_months"],
        "when": ["call_hours_start", "call_hours_end", "queue_build_hour"],
        "messages": ["message_hours_start", "message_hours_end"],
        "handoffs": ["handoff_hours_hot", "handoff_hours_warm", "handoff_hours_cold", "handoff_match_days"],
        "centre": ["calls_per_agent", "default_agents_on_shift", "unreachable_after_failures", "claim_timeout_minutes",
                   "holdout_share_percent"],
    }

    @property
    def sections(self) -> dict[str, list[forms.BoundField]]:
        return {name: [self[field] for field in fields] for name, fields in self.SECTIONS.items()}

    def clean_working_weekdays(self) -> str:
        return "".join(sorted(set(self.cleaned_data["working_weekdays"])))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        order = [code for code in (data.get("department_order") or "").split(",") if code]
        if order:
            data["department_priorities"] = {code: rank for rank, code in enumerate(order, start=1)}
        else:
            data["department_priorities"] = self.instance.department_priorities
        start, end = data.get("call_hours_start"), data.get("call_hours_end")
        if start and end and start >= end:
            self.add_error("call_hours_end", _("Calls until: it must be later than the start of call hours."))
        self._clean_handoff_hours(data)
        return data

    def _clean_handoff_hours(self, data: dict[str, Any]) -> None:
        """Each SLA from 1 to HANDOFF_HOURS_MAX working hours, a hotter hand-off never waiting longer."""
        labels = {"handoff_hours_hot": _("Hot hand-off"), "handoff_hours_warm": _("Warm hand-off"),
                  "handoff_hours_cold": _("Cold hand-off")}
        hours = {}
        for name, label in labels.items():
            value = data.get(name)
            if value is None:
                continue
            if not 1 <= value <= HANDOFF_HOURS_MAX:
                self.add_error(name, _("%(what)s: from 1 to %(most)s working hours.") % {
                    "what": label, "most": HANDOFF_HOURS_MAX})
            else:
                hours[name] = value
        hot, warm, cold = (hours.get(name) for name in labels)
        if hot is not None and warm is not None and hot > warm:
            self.add_error("handoff_hours_hot", _("Hot hand-off: it cannot wait longer than a warm one (%(n)s h).") % {
                "n": warm})
        if warm is not None and cold is not None and warm > cold:
            self.add_error("handoff_hours_warm", _("Warm hand-off: it cannot wait longer than a cold one (%(n)s h).") % {
                "n": cold})
        days = data.get("handoff_match_days")
        if days is not None and not 1 <= days <= HANDOFF_MATCH_DAYS_MAX:
            self.add_error("handoff_match_days", _("Sale or visit: link within 1 to %(most)s days.") % {
                "most": HANDOFF_MATCH_DAYS_MAX})

    def save(self, commit: bool = True) -> ContactRules:
        rules: ContactRules = super().save(commit=False)
        dealership = rules.dealership
        dealership.call_hours_start = self.cleaned_data["call_hours_start"]
        dealership.call_hours_end = self.cleaned_data["call_hours_end"]
        if commit:
            with transaction.atomic():
                dealership.full_clean()
                dealership.save(update_fields=["call_hours_start", "call_hours_end"])
                rules.save()
        return rules


def ordered_departments(rules: ContactRules) -> list[Department]:
    """The departments in the dealership's priority order (its own ranks first, then the defaults)."""
    ranks = rules.department_priorities or {}
    departments = list(Department.objects.filter(is_active=True))
    return sorted(departments, key=lambda d: (ranks.get(d.code, 100 + d.priority), d.priority, d.code))


class _RolesAndDealerships(forms.Form):
    """A person's roles and dealerships (among the admin's own), as the team forms ask for them."""

    roles = forms.MultipleChoiceField(label=_("Roles"), choices=list(access.ROLE_LABELS.items()),
                                      widget=forms.CheckboxSelectMultiple,
                                      error_messages={"required": _("Roles: choose at least one.")})
    dealerships = forms.ModelMultipleChoiceField(label=_("Dealerships"), queryset=Dealership.objects.none(),
                                                 widget=forms.CheckboxSelectMultiple,
                                                 error_messages={"required": _("Dealerships: choose at least one, or nobody can see this person.")})

    def __init__(self, *args: Any, scope: QuerySet[Dealership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["dealerships"]
        field.queryset = scope.order_by("name")


class TeamMemberForm(_RolesAndDealerships):
    """A person of the team: name, e-mail, roles and dealerships; no staff status, superuser or permissions."""

    username = forms.CharField(label=_("Login"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    password = forms.CharField(label=_("First password"), widget=forms.PasswordInput(render_value=False),
                               help_text=_("The person logs in with it: at least 8 characters, not like their login or name."))
    is_active = forms.BooleanField(label=_("Can log in"), required=False, initial=True)

    field_order = ["username", "first_name", "last_name", "email", "password", "roles", "dealerships", "is_active"]

    def __init__(self, *args: Any, scope: QuerySet[Dealership], member: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, scope=scope, **kwargs)
        if member is None:
            del self.fields["is_active"]
        else:
            del self.fields["username"], self.fields["password"]
            self.initial.update(
                first_name=member.first_name, last_name=member.last_name, email=member.email,
                roles=[g.name for g in member.groups.all()],
                dealerships=[d.pk for d in member.dealerships.all() if d in set(scope)], is_active=member.is_active,
            )

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"].strip()
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("Login: “%(name)s” is taken.") % {"name": username})
        return username


class InviteForm(_RolesAndDealerships):
    """Invite a person by e-mail: they set their own password from the link and log in with the e-mail."""

    email = forms.EmailField(label=_("E-mail"))
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    language = forms.ChoiceField(label=_("Language of the e-mail"), choices=settings.LANGUAGES)

    prefix = "invite"

    def __init__(self, *args: Any, scope: QuerySet[Dealership], language: str, **kwargs: Any) -> None:
        super().__init__(*args, scope=scope, **kwargs)
        self.fields["language"].initial = "ru" if language.startswith("ru") else "en"


class ProfitForm(forms.ModelForm):
    """The profit estimate's coefficients a, b and c of one dealership."""

    class Meta:
        model = ContactRules
        fields = ["profit_live_share", "profit_service_conversion", "profit_repeat_conversion"]
        widgets = {name: forms.NumberInput(attrs={"step": "0.001", "min": "0", "max": "1"}) for name in fields}
        # As written in the formula (a lower-case letter first), not capitalised as model labels are.
        labels = {name: ContactRules._meta.get_field(name).verbose_name for name in fields}  # type: ignore[union-attr]
