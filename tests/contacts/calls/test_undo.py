"""Undoing the agent's last outcome (contacts.calls.undo)."""

from __future__ import annotations

import datetime as dt

import pytest

from contacts import calls
from contacts.models import CallAttempt, CallTask, Handoff, Touchpoint
from customers.models import Customer, OdometerReading
from tests import factories
from tests.contacts.calls.helpers import MSK, NOW, claim, claimed, record
from tests.contacts.factories import DAY, make_call_task

pytestmark = pytest.mark.django_db


def test_undo_of_a_booking_puts_the_call_back_as_it_was(moscow, agent, django_capture_on_commit_callbacks):
    # given: a booking with a mileage, then Alice was given the next call
    task = claimed(moscow, agent)
    following = make_call_task(moscow)
    readings = OdometerReading.objects.count()
    attempt = record(task, agent, "booked", booked_on=dt.date(2026, 11, 27), odometer_km=9000)
    assert claim(agent) == following
    # when
    with django_capture_on_commit_callbacks(execute=False):
        again = calls.undo_outcome(attempt_id=attempt.pk, agent=agent, now=NOW + dt.timedelta(minutes=2))
    # then
    task.refresh_from_db()
    assert again == task
    assert (task.status, task.claimed_by, task.attempts, task.outcome, task.completed_at) == ("claimed", agent, 0, "", None)
    assert Touchpoint.objects.get(call_item__call_task=task).status == "issued"
    assert not CallAttempt.objects.exists() and not Handoff.objects.exists()
    assert OdometerReading.objects.count() == readings
    assert CallTask.objects.get(pk=following.pk).status == "open"
    assert claim(agent) == task


def test_undo_of_a_wrong_number_restores_the_phone_and_the_calls_it_cancelled(moscow, agent):
    # given: two failures already; the wrong number makes the third and cancels the customer's other call
    task = claimed(moscow, agent)
    Customer.objects.filter(pk=task.customer_id).update(phone_failures=2)
    other = make_call_task(moscow, customer=task.customer, scheduled_on=DAY + dt.timedelta(days=9))
    attempt = record(task, agent, "wrong_number")
    assert CallTask.objects.get(pk=other.pk).status == "cancelled"
    # when
    calls.undo_outcome(attempt_id=attempt.pk, agent=agent, now=NOW + dt.timedelta(minutes=1))
    # then
    customer = Customer.objects.get(pk=task.customer_id)
    assert (customer.phone_failures, customer.phone_unreachable_since) == (2, None)
    assert CallTask.objects.get(pk=other.pk).status == "open"
    assert Touchpoint.objects.get(call_item__call_task=other).status == "issued"


def test_undo_of_a_call_back_removes_the_callback_and_brings_the_agenda_home(moscow, agent):
    task = claimed(moscow, agent)
    attempt = record(task, agent, "call_back", callback_at=dt.datetime(2026, 11, 24, 15, 0, tzinfo=MSK))
    calls.undo_outcome(attempt_id=attempt.pk, agent=agent, now=NOW + dt.timedelta(minutes=1))
    assert list(CallTask.objects.values_list("pk", flat=True)) == [task.pk]
    assert task.items.count() == 1


def test_undo_is_refused_after_five_minutes_for_another_agent_and_for_a_refusal(moscow, agent):
    # given
    import time_machine

    task = claimed(moscow, agent)
    carol = factories.make_user("carol", "agent", dealerships=(moscow,))
    attempt = record(task, agent, "reached")
    refusal_task = claimed(moscow, agent)
    refusal = record(refusal_task, agent, "do_not_call")
    # when / then
    with pytest.raises(calls.OutcomeError, match="can no longer be undone"):
        calls.undo_outcome(attempt_id=attempt.pk, agent=carol, now=NOW)
    with pytest.raises(calls.OutcomeError, match="can no longer be undone"):
        calls.undo_outcome(attempt_id=refusal.pk, agent=agent, now=NOW)
    with time_machine.travel(dt.datetime.now(tz=dt.UTC) + dt.timedelta(minutes=6)):
        # the note expires with the cache's clock
        with pytest.raises(calls.OutcomeError, match="can no longer be undone"):
            calls.undo_outcome(attempt_id=attempt.pk, agent=agent, now=NOW + dt.timedelta(minutes=6))
    assert CallAttempt.objects.count() == 2
