"""Checking an outcome before anything is written: the car, the mileage, the topics' results, then the
outcome's own details (a call-back time, a booking, a churn reason, a hand-off). Bad input raises
``OutcomeError`` in plain words."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.calls.errors import OutcomeError
from contacts.calls.handoffs import ROUTES, route, topic_of_agenda
from contacts.calls.schedule import is_within_call_hours, is_working_day, local_now
from contacts.models import CallAttempt, CallTask, ContactRules, Department, Handoff
from customers.core.calendar import MONTH_DAYS
from customers.core.readings import MAX_PLAUSIBLE_KM_PER_MONTH, PLAUSIBLE_SLACK_KM
from customers.models import Channel, Customer, Dealership, OdometerReading, Purpose, Vehicle, VehicleForecast

Outcome = CallAttempt.Outcome

# Why a customer services elsewhere: the churn catalogue (stored in CallAttempt.detail["reason"]).
CHURN_REASONS = {
    "price": gettext_lazy("Price"),
    "distance": gettext_lazy("Too far"),
    "quality": gettext_lazy("Quality of work"),
    "warranty_ended": gettext_lazy("Warranty ended"),
    "independent_garage": gettext_lazy("Independent garage"),
    "other": gettext_lazy("Other"),
}

# Customers round their mileage ("about fifteen thousand"): a reading this much below the last one is
# accepted (the estimator flags it if it matters); further below is a typo, and the agent is asked.
READING_TYPO_MARGIN_KM = 1000

MAX_ODOMETER_KM = 2_000_000

CALLBACK_HORIZON_DAYS = 60


@dataclass
class GivenOutcome:
    """An outcome as the agent gave it, checked and completed by ``validate`` before anything is written."""

    task: CallTask
    agent: User
    outcome: str
    now: dt.datetime
    today: dt.date
    rules: ContactRules
    vehicles: list[Vehicle]  # the customer's active cars
    vehicle: Vehicle | None
    note: str
    odometer_km: int | None
    callback_at: dt.datetime | None
    booked_on: dt.date | None
    booked_time: dt.time | None  # the dealership's wall clock
    department: Department | None
    reason: str | None
    channels: Sequence[str]
    deadline: dt.date | None
    # The purposes a do-not-call refuses (none: every purpose), e.g. only sales and marketing offers.
    purposes: Sequence[str] = ()
    topic: str = ""
    temperature: str = ""
    agenda_results: dict[str, str] = field(default_factory=dict)
    booked_at: dt.datetime | None = None
    reading_id: int | None = None  # the mileage reading this outcome wrote
    detail: dict[str, Any] = field(default_factory=dict)  # stored in CallAttempt.detail


def validate_reading(*, vehicle: Vehicle, odometer_km: int, day: dt.date) -> None:
    """A mileage the customer told us: a positive number, not a rollback, not an impossible jump."""
    if odometer_km <= 0 or odometer_km > MAX_ODOMETER_KM:
        raise OutcomeError(_("A mileage of %(km)s km is not possible: check the number.") % {"km": odometer_km})
    # Readings the mileage estimator set aside (a typo in the DMS, a rollback) are not "the last known".
    forecast = VehicleForecast.objects.filter(vehicle=vehicle).only("flagged_readings").first()
    flagged = {item.get("reading_id") for item in (forecast.flagged_readings if forecast else [])} - {None}
    last = (
        OdometerReading.objects.filter(vehicle=vehicle, read_on__lte=day)
        .exclude(pk__in=flagged)
        .order_by("-read_on", "-odometer_km", "-id")
        .first()
    )
    if last is None:
        return
    if odometer_km < last.odometer_km - READING_TYPO_MARGIN_KM:
        raise OutcomeError(
            _("%(km)s km is lower than the %(last)s km recorded on %(day)s: please check the number with the customer.")
            % {"km": odometer_km, "last": last.odometer_km, "day": last.read_on.strftime("%d.%m.%Y")}
        )
    days = max(1, (day - last.read_on).days)
    ceiling = last.odometer_km + MAX_PLAUSIBLE_KM_PER_MONTH * days / MONTH_DAYS + PLAUSIBLE_SLACK_KM
    if odometer_km > ceiling:
        raise OutcomeError(
            _("%(km)s km is %(more)s km more than the %(last)s km recorded on %(day)s: too much for the time; please check the number.")
            % {"km": odometer_km, "more": odometer_km - last.odometer_km, "last": last.odometer_km,
               "day": last.read_on.strftime("%d.%m.%Y")}
        )


def validate(given: GivenOutcome, results: dict[str, str]) -> None:
    """The checks every outcome shares (the car, the mileage, the topics' results), then the outcome's own."""
    if given.vehicle is not None and given.vehicle.pk not in {v.pk for v in given.vehicles}:
        raise OutcomeError(_("That car is not an active car of this customer."))
    if given.vehicle is None and len(given.vehicles) == 1:
        given.vehicle = given.vehicles[0]
    if given.odometer_km is not None:
        if given.vehicle is None:
            raise OutcomeError(_("Choose which car the mileage is for."))
        validate_reading(vehicle=given.vehicle, odometer_km=given.odometer_km, day=given.today)
    given.agenda_results = _agenda_results(given.task, results)
    if given.agenda_results:
        given.detail["results"] = given.agenda_results
    check = CHECKS.get(given.outcome)
    if check is not None:
        check(given)


def _check_call_back(given: GivenOutcome) -> None:
    _validate_callback(dealership=given.task.dealership, rules=given.rules, callback_at=given.callback_at, now=given.now)
    assert given.callback_at is not None
    given.detail["callback_at"] = given.callback_at.isoformat()


def _check_booked(given: GivenOutcome) -> None:
    if given.booked_on is None or given.booked_on < given.today:
        raise OutcomeError(_("Give the date the customer booked (today or later)."))
    if given.booked_on > given.today + dt.timedelta(days=365):
        raise OutcomeError(_("A booking more than a year ahead is not possible: check the date."))
    if given.vehicle is None and given.vehicles:
        raise OutcomeError(_("Choose which car is booked."))
    given.department = Department.objects.filter(code="service", is_active=True).first()
    if given.department is None:
        raise OutcomeError(_("No service department receives bookings yet: ask your administrator."))
    given.detail["booked_on"] = given.booked_on.isoformat()
    if given.booked_time is not None:
        given.booked_at = dt.datetime.combine(given.booked_on, given.booked_time, tzinfo=given.task.dealership.zone)
        if given.booked_at <= given.now:
            raise OutcomeError(_("The booked time has passed already: give a later time."))
        given.detail["booked_at"] = given.booked_at.isoformat()


def _check_serviced_elsewhere(given: GivenOutcome) -> None:
    if given.reason not in CHURN_REASONS:
        raise OutcomeError(_("Choose why the customer services elsewhere."))
    given.detail["reason"] = given.reason


def _check_hot_lead(given: GivenOutcome) -> None:
    # Routed by its topic (a trade-in wish to trade-in, an insurance question to insurance); a department
    # the agent names (the API, an override) wins.
    if given.topic and given.topic not in Handoff.Topic.values:
        raise OutcomeError(_("Choose what the customer wants."))
    given.topic = given.topic or (
        next((t for t, codes in ROUTES.items() if given.department.code in codes), "") if given.department else ""
    ) or topic_of_agenda(given.task.agenda)
    given.department = given.department or route(given.topic)
    if given.department is None or not given.department.takes_handoffs:
        raise OutcomeError(_("Choose the department to hand the customer to."))
    if not given.note:
        raise OutcomeError(_("Write in the note what the customer wants, so the specialist need not ask again."))
    given.temperature = given.temperature or Customer.Temperature.HOT
    if given.temperature not in (Customer.Temperature.WARM, Customer.Temperature.HOT):
        raise OutcomeError(_("A hand-off is of a warm or a hot customer."))
    if given.deadline is not None and given.deadline < given.today:
        raise OutcomeError(_("The hand-off deadline cannot be in the past."))
    given.detail["department"] = given.department.code
    given.detail["topic"] = given.topic
    given.detail["temperature"] = given.temperature


def _check_sold_car(given: GivenOutcome) -> None:
    if given.vehicle is None:
        raise OutcomeError(_("Choose which car the customer sold."))


def _check_do_not_call(given: GivenOutcome) -> None:
    given.channels = sorted({Channel.CALL, *given.channels})
    if not set(given.channels) <= set(Channel.values):
        raise OutcomeError(_("Unknown channel."))
    given.detail["channels"] = given.channels
    purposes = sorted(set(given.purposes) - {Purpose.ALL})
    if not set(purposes) <= set(Purpose.values):
        raise OutcomeError(_("Unknown purpose."))
    given.purposes = purposes
    if purposes:
        given.detail["purposes"] = purposes

CHECKS: dict[str, Callable[[GivenOutcome], None]] = {
    Outcome.CALL_BACK: _check_call_back,
    Outcome.BOOKED: _check_booked,
    Outcome.SERVICED_ELSEWHERE: _check_serviced_elsewhere,
    Outcome.HOT_LEAD: _check_hot_lead,
    Outcome.SOLD_CAR: _check_sold_car,
    Outcome.DO_NOT_CALL: _check_do_not_call,
}


def _agenda_results(task: CallTask, results: dict[str, str]) -> dict[str, str]:
    """Short results per agenda item, keyed by the item's position ("0", "1", ...)."""
    cleaned = {}
    for position, text in results.items():
        text = (text or "").strip()
        if not text:
            continue
        if not str(position).isdigit() or int(position) >= max(1, len(task.agenda)):
            raise OutcomeError(_("A result was given for a topic that is not on this call."))
        cleaned[str(int(position))] = text[:200]
    return cleaned


def _validate_callback(
    *, dealership: Dealership, rules: ContactRules, callback_at: dt.datetime | None, now: dt.datetime
) -> None:
    if callback_at is None:
        raise OutcomeError(_("Give the day and time the customer asked to be called back."))
    if callback_at <= now:
        raise OutcomeError(_("The call-back time has passed already: give a time in the future."))
    if callback_at > now + dt.timedelta(days=CALLBACK_HORIZON_DAYS):
        raise OutcomeError(_("A call back must be within %(days)s days.") % {"days": CALLBACK_HORIZON_DAYS})
    day = dealership.local_date(callback_at)
    if not is_working_day(day, dealership=dealership, rules=rules):
        # Weekends and public holidays block calls, a requested one too: nobody works the queue then.
        raise OutcomeError(
            _("%(day)s is not a working day of the call centre: agree a call back on a working day.")
            % {"day": formats.date_format(day, "DATE_FORMAT")}
        )
    if not is_within_call_hours(dealership, callback_at):
        raise OutcomeError(
            _("%(time)s is outside call hours (%(start)s to %(end)s): agree a time inside them.")
            % {"time": local_now(dealership, callback_at).strftime("%H:%M"),
               "start": dealership.call_hours_start.strftime("%H:%M"), "end": dealership.call_hours_end.strftime("%H:%M")}
        )
