"""What each outcome writes: readings, retries, callbacks, do-not-call, bookings, hand-offs (contacts.calls.outcomes.writers)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from contacts import calls
from contacts.models import CallAttempt, CallTask, Department, Handoff, OutboxMessage, Touchpoint
from customers.models import Consent, Customer, OdometerReading, Vehicle
from tests import factories
from tests.contacts.calls.helpers import MSK, NOW, claimed, record, template
from tests.contacts.factories import DAY, make_call_task

pytestmark = pytest.mark.django_db


def test_reached_with_mileage_records_a_reading_closes_the_agenda_and_replans(moscow, agent, django_capture_on_commit_callbacks):
    # given
    task = claimed(moscow, agent)
    Customer.objects.filter(pk=task.customer_id).update(phone_failures=2)
    vehicle = Vehicle.objects.get(owner=task.customer)
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        attempt = record(task, agent, "reached", odometer_km=14500, note="fine", results={"0": "comes on 27.11"})
    # then
    task.refresh_from_db()
    assert (task.status, task.outcome, task.attempts, task.completed_at) == ("done", "reached", 1, NOW)
    assert (attempt.started_at, attempt.ended_at, attempt.odometer_km, attempt.vehicle) == (
        NOW - dt.timedelta(minutes=3), NOW, 14500, vehicle)
    reading = OdometerReading.objects.get(source="call")
    assert (reading.vehicle, reading.read_on, reading.odometer_km) == (vehicle, DAY, 14500)
    assert list(Touchpoint.objects.filter(call_item__call_task=task).values_list("status", flat=True)) == ["done"]
    assert task.items.get().result == "comes on 27.11"
    assert Customer.objects.get(pk=task.customer_id).phone_failures == 0
    assert len(callbacks) == 1  # the re-plan of the car, queued on commit


def test_each_agenda_item_gets_its_own_result(moscow, agent):
    task = claimed(moscow, agent, topics=("service_invite", "insurance_renewal"))
    record(task, agent, "reached", results={"0": "booked", "1": "has insurance already"})
    assert list(task.items.order_by("position").values_list("result", flat=True)) == ["booked", "has insurance already"]


def test_no_answer_is_retried_later_today_then_next_working_day_then_in_three_days(moscow, agent):
    # given
    task = claimed(moscow, agent)
    seen = []
    # when: the first call and three retries, none answered
    for when in [NOW, NOW + dt.timedelta(hours=2, minutes=5), NOW + dt.timedelta(days=1, hours=1),
                 NOW + dt.timedelta(days=4, hours=1)]:
        CallTask.objects.filter(pk=task.pk).update(status="claimed", claimed_by=agent, claimed_at=when)
        record(task, agent, "no_answer", now=when)
        task.refresh_from_db()
        seen.append((task.status, task.kind, task.scheduled_on, task.callback_at, task.blocks_until))
    # then
    assert seen == [
        ("open", "retry", DAY, NOW + dt.timedelta(hours=2), DAY + dt.timedelta(days=7)),  # later today
        ("open", "retry", dt.date(2026, 11, 24), None, dt.date(2026, 12, 1)),  # the next working day
        ("open", "retry", dt.date(2026, 11, 27), None, dt.date(2026, 12, 4)),  # in three days
        ("done", "retry", dt.date(2026, 11, 27), None, dt.date(2026, 12, 4)),  # given up after the third retry
    ]
    assert CallAttempt.objects.filter(call_task=task, outcome="no_answer").count() == 4
    assert Customer.objects.get(pk=task.customer_id).phone_failures == 1
    assert Touchpoint.objects.get(call_item__call_task=task).status == "suppressed"


def test_no_answer_late_on_friday_is_retried_on_monday(moscow, agent):
    # given: Friday 27.11, 19:00 in Moscow; +2 h is past the 20:00 end of call hours
    friday_evening = dt.datetime(2026, 11, 27, 16, 0, tzinfo=dt.UTC)
    task = claimed(moscow, agent, scheduled_on=dt.date(2026, 11, 27))
    # when
    record(task, agent, "no_answer", now=friday_evening)
    # then
    task.refresh_from_db()
    assert (task.status, task.scheduled_on, task.callback_at) == ("open", dt.date(2026, 11, 30), None)


def test_three_failed_calls_in_a_row_mark_the_phone_unreachable_and_stop_its_calls(moscow, agent):
    # given: two earlier calls failed
    customer = factories.CustomerFactory(dealership=moscow, phone_failures=2)
    task = claimed(moscow, agent, customer=customer)
    later = make_call_task(moscow, customer=customer, scheduled_on=DAY + dt.timedelta(days=8))
    # when
    record(task, agent, "wrong_number")
    # then
    customer.refresh_from_db()
    assert (customer.phone_failures, customer.phone_unreachable_since) == (3, DAY)
    later.refresh_from_db()
    assert (later.status, later.outcome) == ("cancelled", "unreachable")
    assert Touchpoint.objects.get(call_item__call_task=later).status == "suppressed"


def test_a_wrong_number_counts_a_failure_at_once_and_closes_the_call(moscow, agent):
    task = claimed(moscow, agent)
    record(task, agent, "wrong_number")
    task.refresh_from_db()
    assert (task.status, task.outcome) == ("done", "wrong_number")
    customer = Customer.objects.get(pk=task.customer_id)
    assert (customer.phone_failures, customer.phone_unreachable_since) == (1, None)


def test_call_back_creates_a_requested_call_at_the_named_time_that_carries_the_agenda(moscow, agent):
    # given
    task = claimed(moscow, agent)
    at = dt.datetime(2026, 11, 25, 14, 0, tzinfo=MSK)
    # when
    record(task, agent, "call_back", callback_at=at)
    # then
    callback = CallTask.objects.get(kind="callback")
    assert (callback.scheduled_on, callback.callback_at, callback.is_requested, callback.status) == (
        dt.date(2026, 11, 25), at, True, "open")
    assert (callback.previous, callback.assigned_to, callback.agenda) == (task, agent, task.agenda)
    assert callback.blocks_until == dt.date(2026, 12, 2)
    assert CallTask.objects.get(pk=task.pk).status == "done"
    assert Touchpoint.objects.get(call_item__call_task=callback).status == "issued"


def test_do_not_call_records_the_refusal_and_cancels_the_channel_at_once(moscow, agent):
    # given
    customer = factories.CustomerFactory(dealership=moscow)
    task = claimed(moscow, agent, customer=customer)
    future = make_call_task(moscow, customer=customer, scheduled_on=DAY + dt.timedelta(days=9))
    vehicle = Vehicle.objects.get(owner=customer)
    planned_call = Touchpoint.objects.create(
        vehicle=vehicle, customer=customer, template=template("keep_alive"),
        cycle_start=dt.date(2025, 11, 1), occurrence=1, due_on=dt.date(2027, 1, 10), window_start=dt.date(2027, 1, 10),
        window_end=dt.date(2027, 1, 20), reason="due",
    )
    # when
    record(task, agent, "do_not_call", note="asked firmly")
    # then
    consent = Consent.objects.get(customer=customer, channel="call")
    assert (consent.is_allowed, consent.changed_at, consent.reason) == (False, NOW, "asked firmly")
    future.refresh_from_db()
    assert (future.status, future.outcome) == ("cancelled", "do_not_call")
    assert Touchpoint.objects.get(call_item__call_task=future).status == "suppressed"
    planned_call.refresh_from_db()
    assert (planned_call.status, planned_call.resolution) == ("suppressed", "do_not_contact:call")
    assert CallAttempt.objects.get().detail["channels"] == ["call"]


def test_do_not_call_may_also_refuse_sms(moscow, agent):
    # given
    task = claimed(moscow, agent)
    vehicle = Vehicle.objects.get(owner=task.customer)
    sms_touchpoint = Touchpoint.objects.create(
        vehicle=vehicle, customer=task.customer, template=template("birthday"), cycle_start=dt.date(2025, 11, 1),
        occurrence=1, due_on=DAY, window_start=DAY, window_end=DAY, reason="birthday", status="issued",
    )
    message = OutboxMessage.objects.create(dealership=moscow, customer=task.customer, touchpoint=sms_touchpoint,
                                           channel=sms_touchpoint.template.channel, recipient="+79160000000", body="hi",
                                           send_on=DAY + dt.timedelta(days=1))
    # when
    record(task, agent, "do_not_call", channels=[sms_touchpoint.template.channel])
    # then
    assert set(Consent.objects.filter(is_allowed=False).values_list("channel", flat=True)) == {"call", sms_touchpoint.template.channel}
    assert OutboxMessage.objects.get(pk=message.pk).status == "cancelled"


def test_maintenance_booked_hands_a_booking_to_service(moscow, agent):
    # given
    task = claimed(moscow, agent)
    # when
    attempt = record(task, agent, "booked", booked_on=dt.date(2026, 11, 27), note="morning")
    # then
    handoff = Handoff.objects.get()
    # a booked customer is hot: service confirms within the hot SLA (2 working hours from 11:00 Moscow)
    assert (handoff.kind, handoff.department.code, handoff.booked_on, handoff.deadline, handoff.notes, handoff.created_from) == (
        "booking", "service", dt.date(2026, 11, 27), dt.date(2026, 11, 23), "morning", attempt)
    assert (handoff.temperature, handoff.topic, handoff.due_at) == ("hot", "service", dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC))
    assert Touchpoint.objects.get(call_item__call_task=task).status == "done"


def test_serviced_elsewhere_records_the_reason_from_the_catalogue(moscow, agent):
    # given
    task = claimed(moscow, agent)
    # when / then
    with pytest.raises(calls.OutcomeError, match="Choose why"):
        record(task, agent, "serviced_elsewhere", reason="because")
    record(task, agent, "serviced_elsewhere", reason="price")
    assert CallAttempt.objects.get().detail == {"reason": "price"}


def test_sold_the_car_deactivates_it_and_replans(moscow, agent, django_capture_on_commit_callbacks):
    task = claimed(moscow, agent)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record(task, agent, "sold_car")
    assert not Vehicle.objects.get(owner=task.customer).is_active
    assert len(callbacks) == 1


def test_a_hot_lead_is_handed_to_the_department_within_the_hot_sla(moscow, agent):
    # given
    task = claimed(moscow, agent)
    sales = Department.objects.get(code="sales")
    # when / then
    with pytest.raises(calls.OutcomeError, match="Write in the note"):
        record(task, agent, "hot_lead", department=sales)
    record(task, agent, "hot_lead", department=sales, note="wants a Sportage")
    handoff = Handoff.objects.get()
    assert (handoff.kind, handoff.department, handoff.deadline, handoff.notes) == (
        "hot_lead", sales, dt.date(2026, 11, 23), "wants a Sportage")
    assert (handoff.temperature, handoff.topic, handoff.due_at) == ("hot", "purchase", dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC))


def test_a_retry_that_would_break_the_call_gap_closes_on_postgresql(moscow, agent):
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint exists on PostgreSQL only")
    # given: the same customer has another call 2 days later (inside the 7-day gap of a moved retry)
    customer = factories.CustomerFactory(dealership=moscow)
    task = claimed(moscow, agent, customer=customer)
    CallTask.objects.filter(pk=task.pk).update(blocks_until=DAY + dt.timedelta(days=1))
    make_call_task(moscow, customer=customer, scheduled_on=DAY + dt.timedelta(days=2))
    CallTask.objects.filter(pk=task.pk).update(attempts=1)  # the next retry is the next working day
    # when
    record(task, agent, "no_answer")
    # then
    task.refresh_from_db()
    assert (task.status, task.scheduled_on) == ("done", DAY)


def test_a_booking_with_a_time_stores_the_visits_moment_on_the_dealerships_clock(moscow, agent):
    # given
    task = claimed(moscow, agent)
    # when
    attempt = record(task, agent, "booked", booked_on=dt.date(2026, 11, 27), booked_time=dt.time(10, 30))
    # then: 10:30 in Moscow is 07:30 UTC
    handoff = Handoff.objects.get()
    assert handoff.booked_at == dt.datetime(2026, 11, 27, 7, 30, tzinfo=dt.UTC)
    assert attempt.detail["booked_at"] == "2026-11-27T10:30:00+03:00"
