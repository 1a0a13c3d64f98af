"""Forms of the dealer's admin pages: plain fields for what the models store as numbers, JSON or codes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from contacts.models import Department, TouchpointTemplate, offset_in_days
from customers.models import Sale

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

    class Meta:
        model = TouchpointTemplate
        fields = [
            "code", "name_en", "name_ru", "department", "channel", "anchor", "recurrence", "offset_months",
            "offset_days", "window_start_days", "window_end_days", "priority", "sale_kinds", "requires_birthday",
            "skip_when_maintenance_booked_or_done", "min_vehicle_age_months", "max_vehicle_age_months", "phase",
            "is_active", "script_en", "script_ru",
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

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        sign = -1 if data.get("direction") == BEFORE else 1
        for name in ("offset_months", "offset_days"):
            if data.get(name) is not None:
                data[name] = sign * data[name]
        if data.get("window_start_days") is not None:
            data["window_start_days"] = -data["window_start_days"]
        data["sale_kinds"] = list(data.get("sale_kinds") or [])
        return data
