"""Forms of the call-centre pages: the call outcome, a hand-off's result, today's capacity."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from contacts.calls import CHURN_REASONS
from contacts.models import CallAttempt, Department
from customers.models import Vehicle


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(choices=CallAttempt.Outcome.choices)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    odometer_km = forms.IntegerField(label=_("Mileage now, km"), required=False, min_value=1, max_value=2_000_000)
    vehicle = forms.ModelChoiceField(label=_("Car"), queryset=Vehicle.objects.none(), required=False)
    callback_at = forms.DateTimeField(
        label=_("Call back at"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"],
    )
    booked_on = forms.DateField(label=_("Booked for"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.ChoiceField(label=_("Why elsewhere"), required=False, choices=[("", "—"), *CHURN_REASONS.items()])
    department = forms.ModelChoiceField(
        label=_("Hand to"), required=False, queryset=Department.objects.filter(takes_handoffs=True), empty_label="—"
    )

    def __init__(self, *args: Any, customer_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        vehicles = Vehicle.objects.filter(owner_id=customer_id, is_active=True)
        self.fields["vehicle"].queryset = vehicles  # type: ignore[attr-defined]
        if vehicles.count() == 1:
            self.fields["vehicle"].initial = vehicles.first()


class HandoffCloseForm(forms.Form):
    result = forms.CharField(label=_("Result"), max_length=200)


class CapacityForm(forms.Form):
    agents_on_shift = forms.IntegerField(label=_("Agents on shift today"), min_value=0, max_value=500)


def default_booking_day(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=3)
