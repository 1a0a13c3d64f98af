"""Forms of the call-centre pages: a call's outcome, a hand-off's result, today's capacity, reassigning."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.call_screen import call_topics, call_vehicle_ids
from contacts.calls import CHURN_REASONS, MAX_ODOMETER_KM
from contacts.calls.handoffs import topic_of_agenda
from contacts.models import CallAttempt, CallTask, Department, Handoff
from customers import access
from customers.models import Channel, Customer, Purpose, Vehicle


class VehicleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return " ".join(part for part in (obj.make, obj.model, obj.plate or obj.vin[-6:]) if part)


class OutcomeForm(forms.Form):
    """Everything an outcome may carry; which fields an outcome needs is checked by calls.record_outcome."""

    outcome = forms.ChoiceField(label=_("Outcome"), choices=CallAttempt.Outcome.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 1}))
    odometer_km = forms.IntegerField(
        label=_("Mileage now, km"), required=False, min_value=1, max_value=MAX_ODOMETER_KM,
        error_messages={"invalid": _("Mileage must be a whole number of kilometres, e.g. 45200.")},
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    vehicle = VehicleChoiceField(label=_("Car"), queryset=Vehicle.objects.none(), required=False, empty_label="—")
    callback_at = forms.DateTimeField(
        label=_("Call back at"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"],
        error_messages={"invalid": _("Give the call-back day and time, e.g. 25.11.2026 14:00.")},
    )
    booked_on = forms.DateField(
        label=_("Booked for"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Give the booked date, e.g. 27.11.2026.")},
    )
    booked_time = forms.TimeField(
        label=_("Time"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        input_formats=["%H:%M"], error_messages={"invalid": _("Give the booked time, e.g. 10:30.")},
    )
    reason = forms.ChoiceField(label=_("Why elsewhere"), required=False, choices=list(CHURN_REASONS.items()),
                               widget=forms.RadioSelect)
    department = forms.ModelChoiceField(
        label=_("Hand to"), required=False, queryset=Department.objects.filter(takes_handoffs=True, is_active=True),
        empty_label=None,
    )
    deadline = forms.DateField(
        label=_("Hand-off deadline"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Give the deadline as a date, e.g. 24.11.2026.")},
    )
    topic = forms.ChoiceField(label=_("The customer wants"), required=False, choices=Handoff.Topic.choices)
    temperature = forms.ChoiceField(
        label=_("Temperature"), required=False, initial=Customer.Temperature.HOT,
        choices=[(Customer.Temperature.HOT, _("Hot: ready now")), (Customer.Temperature.WARM, _("Warm: interested, not yet"))],
    )
    channels = forms.MultipleChoiceField(
        label=_("Also refuses"), required=False, choices=[(Channel.SMS, Channel.SMS.label), (Channel.EMAIL, Channel.EMAIL.label)],
        widget=forms.CheckboxSelectMultiple,
    )
    purposes = forms.MultipleChoiceField(
        label=_("Only for"), required=False,
        choices=[(p.value, p.label) for p in Purpose if p != Purpose.ALL],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty when the customer refuses everything; tick sales and marketing offers for "
                    "“no sales calls”: service reminders keep coming."),
    )
    then = forms.CharField(required=False)

    def __init__(self, *args: Any, task: CallTask, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.task = task
        # The cars the call is about come first, and the first of them is chosen: the agent changes it
        # only when the customer talks about another car.
        self.call_vehicle_ids = call_vehicle_ids(call_topics(task, today=task.dealership.local_date(timezone.now())))
        rank = {vehicle_id: position for position, vehicle_id in enumerate(self.call_vehicle_ids)}
        vehicles = sorted(
            Vehicle.objects.filter(owner_id=task.customer_id, is_active=True).order_by("id"),
            key=lambda vehicle: rank.get(vehicle.pk, len(rank)),
        )
        field: Any = self.fields["vehicle"]
        field.queryset = Vehicle.objects.filter(pk__in=[v.pk for v in vehicles])
        field.choices = [(v.pk, field.label_from_instance(v)) for v in vehicles]
        if len(vehicles) == 1:
            field.initial = vehicles[0].pk
        elif vehicles and vehicles[0].pk in rank:
            field.initial = vehicles[0].pk
        self.vehicles = vehicles
        # A hot lead goes by default to the department of the call's first topic that takes hand-offs
        # (a trade-in topic to trade-in, not to service); the agent can still choose another.
        departments: Any = self.fields["department"]
        takers = {d.code: d.pk for d in departments.queryset}
        topic_departments = [item.get("department") for item in task.agenda if isinstance(item, dict)]
        departments.initial = next((takers[code] for code in topic_departments if code in takers), None)
        # The hand-off's topic (which routes it, contacts.calls.handoffs.ROUTES) defaults to the call's.
        self.fields["topic"].initial = topic_of_agenda(task.agenda)

    def clean_callback_at(self) -> dt.datetime | None:
        value: dt.datetime | None = self.cleaned_data.get("callback_at")
        if value is None:
            return None
        # The agent types the customer's time on the dealership's wall clock; Django read it in the
        # current time zone (UTC), so take the typed wall clock back and put it in the dealership's zone.
        wall_clock = timezone.make_naive(value) if timezone.is_aware(value) else value
        return wall_clock.replace(tzinfo=self.task.dealership.zone)

    def results(self) -> dict[str, str]:
        """Short results per agenda item, typed beside each script section (result_0, result_1, ...)."""
        return {
            key.removeprefix("result_"): value
            for key, value in self.data.items()
            if key.startswith("result_") and value.strip()
        }


class HandoffCloseForm(forms.Form):
    result = forms.CharField(label=_("Result"), max_length=200)


class HandoffOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(choices=Handoff.Outcome.choices)
    note = forms.CharField(required=False, max_length=200)
    sale = forms.IntegerField(required=False)
    service_visit = forms.IntegerField(required=False)


class HandoffForwardForm(forms.Form):
    department = forms.ModelChoiceField(queryset=Department.objects.filter(takes_handoffs=True, is_active=True))
    note = forms.CharField(max_length=2000)


class CapacityForm(forms.Form):
    agents_on_shift = forms.IntegerField(label=_("Agents on shift today"), min_value=0, max_value=500)


class ReassignForm(forms.Form):
    agent = forms.ModelChoiceField(label=_("Give to"), queryset=User.objects.none())

    def __init__(self, *args: Any, task: CallTask, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["agent"]
        field.queryset = User.objects.filter(
            dealerships=task.dealership_id, groups__name__in=sorted(access.CAN_WORK_QUEUE), is_active=True
        ).distinct()
