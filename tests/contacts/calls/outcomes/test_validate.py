"""What an outcome is refused for, before anything is written (contacts.calls.outcomes.validate)."""

from __future__ import annotations

import datetime as dt

import pytest

from contacts import calls
from contacts.models import CallAttempt, CallTask, Handoff
from customers.models import OdometerReading, Vehicle, VehicleForecast
from tests import factories
from tests.contacts.calls.helpers import MSK, claim, claimed, record
from tests.contacts.factories import DAY, CallTaskFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("km", "message"),
    [
        (100, "100 km is lower than the 8000 km recorded on 01.05.2026"),
        (0, "A mileage of 0 km is not possible"),
        (800000, "800000 km is 792000 km more than the 8000 km recorded on 01.05.2026"),
    ],
    ids=["rollback", "zero", "extra_digit"],
)
def test_an_implausible_mileage_is_refused_and_nothing_is_written(moscow, agent, km, message):
    # given
    task = claimed(moscow, agent)
    # when
    with pytest.raises(calls.OutcomeError, match=message):
        record(task, agent, "reached", odometer_km=km)
    # then
    assert not CallAttempt.objects.exists()
    assert not OdometerReading.objects.filter(source="call").exists()
    assert CallTask.objects.get(pk=task.pk).status == "claimed"


def test_a_reading_the_estimator_set_aside_does_not_block_an_honest_mileage(moscow, agent):
    # given: the DMS once sent 80,000 km (an extra digit); the forecast flagged it
    task = claimed(moscow, agent)
    vehicle = Vehicle.objects.get(owner=task.customer)
    typo = OdometerReading.objects.create(vehicle=vehicle, read_on=dt.date(2026, 9, 1), odometer_km=80000)
    VehicleForecast.objects.create(
        vehicle=vehicle, computed_on=DAY, km_per_month=1000, km_per_month_low=800, km_per_month_high=1200,
        source="readings", odometer_km=14000, odometer_on=DAY, next_due_on=DAY, due_earliest_on=DAY, due_latest_on=DAY,
        due_driver="km", due_odometer_km=15000, interval_number=1,
        flagged_readings=[{"read_on": "2026-09-01", "odometer_km": 80000, "reason": "implausible_jump", "reading_id": typo.pk}],
    )
    # when
    record(task, agent, "reached", odometer_km=14000)
    # then
    assert OdometerReading.objects.filter(source="call", odometer_km=14000).exists()


def test_a_rounded_mileage_a_little_below_the_last_reading_is_accepted(moscow, agent):
    task = claimed(moscow, agent)
    record(task, agent, "reached", odometer_km=7500)
    assert OdometerReading.objects.filter(source="call", odometer_km=7500).exists()


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (None, "Give the day and time"),
        (dt.datetime(2026, 11, 23, 10, 0, tzinfo=MSK), "has passed already"),
        (dt.datetime(2026, 11, 24, 21, 30, tzinfo=MSK), "21:30 is outside call hours"),
        (dt.datetime(2027, 3, 1, 12, 0, tzinfo=MSK), "within 60 days"),
        (dt.datetime(2026, 11, 28, 12, 0, tzinfo=MSK), "is not a working day of the call centre"),
    ],
    ids=["missing", "past", "night", "too_far", "saturday"],
)
def test_a_call_back_needs_a_future_time_inside_call_hours(moscow, agent, at, message):
    task = claimed(moscow, agent)
    with pytest.raises(calls.OutcomeError, match=message):
        record(task, agent, "call_back", callback_at=at)
    assert not CallTask.objects.filter(kind="callback").exists()


def test_a_booking_needs_a_date_not_in_the_past(moscow, agent):
    task = claimed(moscow, agent)
    with pytest.raises(calls.OutcomeError, match="Give the date the customer booked"):
        record(task, agent, "booked", booked_on=dt.date(2026, 11, 20))
    assert not Handoff.objects.exists()


def test_a_call_without_a_car_or_touchpoints_can_still_be_worked(moscow, agent):
    # given
    task = CallTaskFactory(customer=factories.CustomerFactory(dealership=moscow))
    # when
    assert claim(agent) == task
    with pytest.raises(calls.OutcomeError, match="Choose which car"):
        record(task, agent, "reached", odometer_km=1000)
    record(task, agent, "reached")
    # then
    assert CallTask.objects.get(pk=task.pk).status == "done"


def test_a_booking_today_at_a_time_already_past_is_refused(moscow, agent):
    # given: it is 11:00 in Moscow
    task = claimed(moscow, agent)
    # when / then
    with pytest.raises(calls.OutcomeError, match="booked time has passed"):
        record(task, agent, "booked", booked_on=dt.date(2026, 11, 23), booked_time=dt.time(10, 0))
    assert not Handoff.objects.exists() and not CallAttempt.objects.exists()
