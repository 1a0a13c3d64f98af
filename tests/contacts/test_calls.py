"""The call-centre workplace: claiming calls, outcomes and their effects, access (contacts.calls, contacts.views)."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from contacts import calls
from contacts import tasks as celery_tasks
from contacts.models import (
    CallAttempt,
    CallTask,
    ContactRules,
    DailyCapacity,
    Department,
    Handoff,
    OutboxMessage,
    Touchpoint,
)
from customers.models import Consent, Customer, OdometerReading, Vehicle, VehicleForecast
from tests import factories
from tests.contacts.factories import DAY, CallTaskFactory, make_call_task

pytestmark = pytest.mark.django_db
# Monday 2026-11-23, 11:00 in Moscow (UTC+3): inside call hours.
NOW = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
MSK = dt.timezone(dt.timedelta(hours=3))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """"Next call" throttles its idle-claim sweep through the cache: each test starts unthrottled."""
    cache.clear()


def claim(agent, now=NOW):
    return calls.claim_next_call(agent=agent, now=now).task


def claimed(dealership, agent, **fields):
    """A task of the dealership that the agent has just taken."""
    task = make_call_task(dealership, **fields)
    CallTask.objects.filter(pk=task.pk).update(status="claimed", claimed_by=agent, claimed_at=NOW - dt.timedelta(minutes=3))
    task.refresh_from_db()
    return task


def record(task, agent, outcome, now=NOW, **kwargs):
    return calls.record_outcome(task=task, agent=agent, outcome=outcome, now=now, **kwargs)


# --- claiming -------------------------------------------------------------------------------------


def test_next_call_takes_the_most_urgent_task_and_gives_it_back_while_held(moscow, agent):
    # given
    low = make_call_task(moscow, priority=7)
    high = make_call_task(moscow, priority=1)
    # when
    first = claim(agent)
    again = claim(agent)
    # then
    assert first == high and again == high
    assert CallTask.objects.get(pk=high.pk).status == "claimed"
    assert CallTask.objects.get(pk=high.pk).claimed_at == NOW
    assert CallTask.objects.get(pk=low.pk).status == "open"


def test_due_callbacks_come_first_and_future_ones_wait(moscow, agent):
    # given
    planned = make_call_task(moscow, priority=1)
    later = make_call_task(moscow, kind="callback", is_requested=True, callback_at=NOW + dt.timedelta(hours=2), priority=9)
    due = make_call_task(moscow, kind="callback", is_requested=True, callback_at=NOW - dt.timedelta(minutes=5), priority=9)
    other = factories.make_user("carol", "agent", dealerships=(moscow,))
    third = factories.make_user("dan", "agent", dealerships=(moscow,))
    # when
    order = [claim(agent), claim(other), claim(third)]
    # then
    assert order == [due, planned, None]
    assert CallTask.objects.get(pk=later.pk).status == "open"


def test_a_call_given_to_an_agent_waits_for_that_agent(moscow, agent):
    # given
    carol = factories.make_user("carol", "agent", dealerships=(moscow,))
    for_carol = make_call_task(moscow, priority=1, assigned_to=carol)
    anyone = make_call_task(moscow, priority=5)
    # when
    alice_gets = claim(agent)
    carol_gets = claim(carol)
    # then
    assert alice_gets == anyone
    assert carol_gets == for_carol


def test_a_callback_goes_to_anyone_when_its_agent_lets_the_grace_pass(moscow, agent):
    carol = factories.make_user("carol", "agent", dealerships=(moscow,))
    task = make_call_task(moscow, kind="callback", is_requested=True, assigned_to=carol,
                          callback_at=NOW - dt.timedelta(minutes=20))
    assert claim(agent) == task


def test_two_agents_never_get_the_same_task(moscow, agent):
    # given
    make_call_task(moscow)
    make_call_task(moscow)
    other = factories.make_user("carol", "agent", dealerships=(moscow,))
    # when
    first, second = claim(agent), claim(other)
    # then
    assert first is not None and second is not None and first != second


def test_a_claim_lost_to_another_agent_between_read_and_update_moves_on(moscow, agent, monkeypatch):
    # given: the candidate read returns a task someone else claims just before our UPDATE
    contested = make_call_task(moscow, priority=1)
    spare = make_call_task(moscow, priority=2)
    carol = factories.make_user("carol", "agent", dealerships=(moscow,))
    real_next_candidate = calls._next_candidate
    raced = []

    def racing_next_candidate(**kwargs):
        task = real_next_candidate(**kwargs)
        if not raced:
            raced.append(task)
            CallTask.objects.filter(pk=task.pk).update(status="claimed", claimed_by=carol, claimed_at=NOW)
        return task

    monkeypatch.setattr(calls, "_next_candidate", racing_next_candidate)
    # when
    task = claim(agent)
    # then: the conditional UPDATE changed no row, so the agent got the next task instead
    assert raced == [contested]
    assert task == spare
    assert CallTask.objects.get(pk=contested.pk).claimed_by == carol


def test_no_call_is_handed_out_outside_call_hours(moscow, agent):
    # given
    make_call_task(moscow)
    night = dt.datetime(2026, 11, 23, 19, 30, tzinfo=dt.UTC)  # 22:30 in Moscow
    # when
    result = calls.claim_next_call(agent=agent, now=night)
    # then
    assert result.task is None and result.reason == "outside_call_hours"
    assert result.message == "Calls are made from 09:00 to 20:00, Москва-Юг time; it is 22:30 there now. No call was taken."
    assert not CallTask.objects.filter(status="claimed").exists()


def test_a_refused_customers_call_is_cancelled_instead_of_handed_out(moscow, agent):
    # given
    refused = make_call_task(moscow, priority=1)
    Consent.objects.create(customer=refused.customer, channel="call", is_allowed=False, changed_at=NOW, reason="asked")
    fine = make_call_task(moscow, priority=2)
    # when
    task = claim(agent)
    # then
    assert task == fine
    refused.refresh_from_db()
    assert (refused.status, refused.outcome) == ("cancelled", "do_not_contact:call")
    assert Touchpoint.objects.get(call_item__call_task=refused).status == "suppressed"


def test_the_queue_holds_the_agents_dealerships_only(moscow, yekaterinburg, other_agent):
    make_call_task(moscow)
    result = calls.claim_next_call(agent=other_agent, now=NOW)
    assert result.task is None and result.reason == "empty"


def test_stale_claims_return_to_the_pool_in_the_beat_task(moscow, agent):
    # given: claimed 25 minutes ago, the limit is 20
    task = claimed(moscow, agent)
    fresh = claimed(moscow, factories.make_user("carol", "agent", dealerships=(moscow,)))
    CallTask.objects.filter(pk=task.pk).update(claimed_at=NOW - dt.timedelta(minutes=25))
    # when
    with time_machine.travel(NOW, tick=False):
        released = celery_tasks.release_stale_claims.delay().get()
    # then
    assert released == 1
    assert CallTask.objects.get(pk=task.pk).status == "open"
    assert CallTask.objects.get(pk=fresh.pk).status == "claimed"


def test_next_call_expires_idle_claims_lazily_at_most_twice_a_minute(moscow, agent):
    # given: carol took the only call 30 minutes ago and left
    carol = factories.make_user("carol", "agent", dealerships=(moscow,))
    task = claimed(moscow, carol)
    CallTask.objects.filter(pk=task.pk).update(claimed_at=NOW - dt.timedelta(minutes=30))
    # when
    got = claim(agent)
    # then
    assert got == task
    assert CallTask.objects.get(pk=task.pk).claimed_by == agent
    # and: a claim going stale right after waits for the next sweep (30 s later, or beat)
    dan = factories.make_user("dan", "agent", dealerships=(moscow,))
    CallTask.objects.filter(pk=task.pk).update(claimed_at=NOW - dt.timedelta(minutes=30))
    assert claim(dan) is None


def test_a_slow_agent_can_still_record_when_nobody_took_the_expired_call(moscow, agent):
    # given
    task = claimed(moscow, agent)
    CallTask.objects.filter(pk=task.pk).update(claimed_at=NOW - dt.timedelta(minutes=30))
    calls.release_stale_claims(now=NOW)
    # when
    record(task, agent, "reached")
    # then
    assert CallTask.objects.get(pk=task.pk).status == "done"


def test_an_agent_cannot_record_a_call_another_agent_took(moscow, agent):
    # given
    task = claimed(moscow, agent)
    calls.release_call(task=task, by=agent)
    carol = factories.make_user("carol", "agent", dealerships=(moscow,))
    assert claim(carol) == task
    # when / then
    with pytest.raises(calls.OutcomeError, match="no longer yours"):
        record(task, agent, "reached")
    assert not CallAttempt.objects.exists()


def test_an_agent_cannot_release_someone_elses_call(moscow, agent):
    carol = factories.make_user("carol", "agent", dealerships=(moscow,))
    task = claimed(moscow, carol)
    assert calls.release_call(task=task, by=agent) is False
    assert CallTask.objects.get(pk=task.pk).status == "claimed"


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_on_postgresql_never_double_claim(moscow):
    if connection.vendor != "postgresql":
        pytest.skip("row locks (select_for_update skip_locked) are tested on PostgreSQL")
    # given: 8 calls and 12 agents pressing Next call at the same instant, each on its own connection
    tasks = [make_call_task(moscow) for _ in range(8)]
    agents = [factories.make_user(f"agent{i}", "agent", dealerships=(moscow,)) for i in range(12)]
    barrier = threading.Barrier(len(agents))
    results: dict[str, int | None] = {}
    errors: list[BaseException] = []

    def run(user):
        try:
            barrier.wait()
            result = calls.claim_next_call(agent=user, now=NOW)
            results[user.username] = result.task.pk if result.task else None
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(user,)) for user in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert errors == []
    got = [pk for pk in results.values() if pk is not None]
    assert len(got) == len(set(got)) == 8
    assert sorted(got) == sorted(t.pk for t in tasks)
    assert CallTask.objects.filter(status="claimed").count() == 8


# --- outcomes -------------------------------------------------------------------------------------


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
        source="readings", odometer_today_km=14000, next_due_on=DAY, due_earliest_on=DAY, due_latest_on=DAY,
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


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (None, "Give the day and time"),
        (dt.datetime(2026, 11, 23, 10, 0, tzinfo=MSK), "has passed already"),
        (dt.datetime(2026, 11, 24, 21, 30, tzinfo=MSK), "21:30 is outside call hours"),
        (dt.datetime(2027, 3, 1, 12, 0, tzinfo=MSK), "within 60 days"),
    ],
    ids=["missing", "past", "night", "too_far"],
)
def test_a_call_back_needs_a_future_time_inside_call_hours(moscow, agent, at, message):
    task = claimed(moscow, agent)
    with pytest.raises(calls.OutcomeError, match=message):
        record(task, agent, "call_back", callback_at=at)
    assert not CallTask.objects.filter(kind="callback").exists()


def test_do_not_call_records_the_refusal_and_cancels_the_channel_at_once(moscow, agent):
    # given
    customer = factories.CustomerFactory(dealership=moscow)
    task = claimed(moscow, agent, customer=customer)
    future = make_call_task(moscow, customer=customer, scheduled_on=DAY + dt.timedelta(days=9))
    vehicle = Vehicle.objects.get(owner=customer)
    planned_call = Touchpoint.objects.create(
        vehicle=vehicle, customer=customer, template=_template("keep_alive"),
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
        vehicle=vehicle, customer=task.customer, template=_template("birthday"), cycle_start=dt.date(2025, 11, 1),
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
    assert (handoff.kind, handoff.department.code, handoff.booked_on, handoff.deadline, handoff.notes, handoff.created_from) == (
        "booking", "service", dt.date(2026, 11, 27), dt.date(2026, 11, 24), "morning", attempt)
    assert Touchpoint.objects.get(call_item__call_task=task).status == "done"


def test_a_booking_needs_a_date_not_in_the_past(moscow, agent):
    task = claimed(moscow, agent)
    with pytest.raises(calls.OutcomeError, match="Give the date the customer booked"):
        record(task, agent, "booked", booked_on=dt.date(2026, 11, 20))
    assert not Handoff.objects.exists()


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


def test_a_hot_lead_is_handed_to_the_department_by_the_next_working_day(moscow, agent):
    # given
    task = claimed(moscow, agent)
    sales = Department.objects.get(code="sales")
    # when / then
    with pytest.raises(calls.OutcomeError, match="Write in the note"):
        record(task, agent, "hot_lead", department=sales)
    record(task, agent, "hot_lead", department=sales, note="wants a Sportage")
    handoff = Handoff.objects.get()
    assert (handoff.kind, handoff.department, handoff.deadline, handoff.notes) == (
        "hot_lead", sales, dt.date(2026, 11, 24), "wants a Sportage")


def test_an_outcome_is_recorded_once(moscow, agent):
    task = claimed(moscow, agent)
    record(task, agent, "reached")
    with pytest.raises(calls.OutcomeError, match="already closed"):
        record(task, agent, "reached")
    assert CallAttempt.objects.count() == 1


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


# --- pages and access -----------------------------------------------------------------------------


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_queue_page_lists_callbacks_first_and_flags_overdue_calls(client, moscow, agent, at_now):
    # given
    overdue = make_call_task(moscow, priority=3, scheduled_on=DAY - dt.timedelta(days=12))
    CallTask.objects.filter(pk=overdue.pk).update(window_end=DAY - dt.timedelta(days=1))
    callback = make_call_task(moscow, priority=9, kind="callback", is_requested=True, callback_at=NOW - dt.timedelta(minutes=1))
    client.force_login(agent)
    # when
    response = client.get(reverse("contacts:queue"))
    # then
    tasks = response.context["tasks"]
    assert tasks == [callback, overdue]
    assert response.context["left"] == 2
    body = response.content.decode()
    assert 'class="callback"' in body and 'class="overdue"' in body


def test_the_call_screen_shows_the_script_with_the_agents_name_and_why(client, moscow, agent, at_now):
    # given
    agent.first_name = "Alice"
    agent.save()
    task = claimed(moscow, agent, topics=("service_invite", "insurance_renewal"))
    CallTask.objects.filter(pk=task.pk).update(explanation={"deferred": [
        {"code": "tyre_season", "reason": "deferred:min_gap", "detail": "", "on": "2026-12-07"}]})
    client.force_login(agent)
    # when
    response = client.get(reverse("contacts:call", args=[task.pk]))
    # then
    body = response.content.decode()
    assert "Hello, this is Alice from the dealership." in body and "[[agent]]" not in body
    assert [s["position"] for s in response.context["sections"]] == [0, 1]
    assert f'href="tel:{task.customer.phone}"' in body
    assert "too soon after another call" in body
    assert 'data-key="1"' in body and 'data-key="9"' in body


def test_an_outcome_through_htmx_opens_the_next_call_without_a_reload(client, moscow, agent, at_now):
    # given
    task = claimed(moscow, agent)
    following = make_call_task(moscow)
    client.force_login(agent)
    # when
    response = client.post(reverse("contacts:outcome", args=[task.pk]), {"outcome": "reached", "odometer_km": "9000"},
                           HTTP_HX_REQUEST="true")
    # then
    assert response.status_code == 200
    assert json.loads(response["HX-Location"])["path"] == reverse("contacts:call", args=[following.pk])
    assert CallTask.objects.get(pk=following.pk).claimed_by == agent


def test_an_outcome_error_keeps_what_the_agent_typed(client, moscow, agent, at_now):
    # given
    task = claimed(moscow, agent)
    client.force_login(agent)
    typed = {"outcome": "reached", "odometer_km": "100", "note": "my words"}
    # when
    partial = client.post(reverse("contacts:outcome", args=[task.pk]), typed, HTTP_HX_REQUEST="true")
    page = client.post(reverse("contacts:outcome", args=[task.pk]), typed)
    # then
    for response, status in ((partial, 200), (page, 400)):
        body = response.content.decode()
        assert response.status_code == status
        assert "100 km is lower than the 8000 km recorded on 01.05.2026" in body
        assert "my words" in body and 'value="100"' in body
    assert "<html" not in partial.content.decode()
    assert not CallAttempt.objects.exists()


def test_a_call_back_error_reopens_its_panel_with_the_typed_time(client, moscow, agent, at_now):
    task = claimed(moscow, agent)
    client.force_login(agent)
    response = client.post(reverse("contacts:outcome", args=[task.pk]),
                           {"outcome": "call_back", "callback_at": "2026-11-24T22:00"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "22:00 is outside call hours" in body
    assert 'id="panel-call_back">' in body
    assert 'value="2026-11-24T22:00"' in body


def test_the_call_back_time_is_read_on_the_dealerships_clock(client, moscow, agent, at_now):
    task = claimed(moscow, agent)
    client.force_login(agent)
    client.post(reverse("contacts:outcome", args=[task.pk]), {"outcome": "call_back", "callback_at": "2026-11-24T15:30"})
    assert CallTask.objects.get(kind="callback").callback_at == dt.datetime(2026, 11, 24, 15, 30, tzinfo=MSK)


def test_an_agent_gets_404_on_another_dealerships_task(client, moscow, other_agent):
    task = make_call_task(moscow)
    client.force_login(other_agent)
    assert client.get(reverse("contacts:call", args=[task.pk])).status_code == 404
    assert client.post(reverse("contacts:outcome", args=[task.pk]), {"outcome": "reached"}).status_code == 404
    assert client.post(reverse("contacts:release", args=[task.pk])).status_code == 404
    assert CallTask.objects.get(pk=task.pk).status == "open"


@pytest.mark.parametrize(
    ("role", "name", "method", "args"),
    [
        ("agent", "contacts:floor", "get", []),
        ("agent", "contacts:capacity", "post", ["dealership"]),
        ("agent", "contacts:reassign", "post", ["task"]),
        ("agent", "contacts:inbox", "get", []),
        ("sales", "contacts:queue", "get", []),
        ("sales", "contacts:next", "post", []),
        ("manager", "contacts:queue", "get", []),
    ],
)
def test_a_page_of_another_role_is_403(client, moscow, role, name, method, args):
    user = factories.make_user("someone", role, dealerships=(moscow,))
    task = make_call_task(moscow)
    values = {"dealership": moscow.pk, "task": task.pk}
    client.force_login(user)
    response = getattr(client, method)(reverse(name, args=[values[a] for a in args]))
    assert response.status_code == 403


def test_an_agent_never_reaches_the_admin(client, agent):
    client.force_login(agent)
    assert client.get("/admin/").status_code != 200


def test_the_supervisor_sets_capacity_releases_and_reassigns(client, moscow, supervisor, agent, at_now):
    # given
    task = claimed(moscow, agent)
    carol = factories.make_user("carol", "agent", dealerships=(moscow,))
    client.force_login(supervisor)
    # when
    floor = client.get(reverse("contacts:floor"))
    client.post(reverse("contacts:capacity", args=[moscow.pk]), {"agents_on_shift": "6"})
    live = client.post(reverse("contacts:release", args=[task.pk]), {"back": "floor"}, HTTP_HX_REQUEST="true")
    client.post(reverse("contacts:reassign", args=[task.pk]), {"agent": carol.pk})
    # then
    assert floor.status_code == 200
    assert [row["claim"] for row in floor.context["rows"] if row["user"] == agent] == [task]
    assert DailyCapacity.objects.get(dealership=moscow, day=DAY).agents_on_shift == 6
    assert "went back to the queue" in live.content.decode() and "<html" not in live.content.decode()
    task.refresh_from_db()
    assert (task.status, task.assigned_to) == ("open", carol)
    assert claim(agent) is None
    assert claim(carol) == task


def test_the_floor_flags_claims_idle_too_long(client, moscow, supervisor, agent, at_now):
    task = claimed(moscow, agent)
    CallTask.objects.filter(pk=task.pk).update(claimed_at=NOW - dt.timedelta(minutes=45))
    client.force_login(supervisor)
    response = client.get(reverse("contacts:floor"))
    assert response.context["stale_count"] == 1
    assert "idle too long" in response.content.decode()


def test_reassigning_to_an_agent_of_another_dealership_is_refused(client, moscow, supervisor, other_agent):
    task = make_call_task(moscow)
    client.force_login(supervisor)
    client.post(reverse("contacts:reassign", args=[task.pk]), {"agent": other_agent.pk})
    assert CallTask.objects.get(pk=task.pk).assigned_to is None


def test_the_inbox_shows_each_department_its_hand_offs(client, moscow, agent, supervisor, at_now):
    # given
    task = claimed(moscow, agent)
    record(task, agent, "booked", booked_on=dt.date(2026, 11, 27))
    task2 = claimed(moscow, agent)
    record(task2, agent, "hot_lead", department=Department.objects.get(code="sales"), note="wants a Sportage")
    mechanic = factories.make_user("max", "service", dealerships=(moscow,))
    # when
    client.force_login(mechanic)
    service_view = client.get(reverse("contacts:inbox")).context["handoffs"]
    client.force_login(supervisor)
    supervisor_view = client.get(reverse("contacts:inbox")).context["handoffs"]
    # then
    assert [h.kind for h in service_view] == ["booking"]
    assert sorted(h.kind for h in supervisor_view) == ["booking", "hot_lead"]


def test_department_staff_accept_and_close_a_hand_off(client, moscow, agent, at_now):
    # given
    task = claimed(moscow, agent)
    record(task, agent, "hot_lead", department=Department.objects.get(code="sales"), note="wants a Sportage")
    handoff = Handoff.objects.get()
    seller = factories.make_user("sam", "sales", dealerships=(moscow,))
    client.force_login(seller)
    # when
    client.post(reverse("contacts:handoff", args=[handoff.pk, "accept"]), HTTP_HX_REQUEST="true")
    empty = client.post(reverse("contacts:handoff", args=[handoff.pk, "close"]), {"result": ""}, HTTP_HX_REQUEST="true")
    client.post(reverse("contacts:handoff", args=[handoff.pk, "close"]), {"result": "sold a Sportage"})
    # then
    assert "Write the result" in empty.content.decode()
    handoff.refresh_from_db()
    assert (handoff.status, handoff.accepted_by, handoff.result, handoff.closed_at) == ("closed", seller, "sold a Sportage", NOW)


def test_a_hand_off_of_another_department_is_404(client, moscow, agent):
    task = claimed(moscow, agent)
    record(task, agent, "booked", booked_on=dt.date(2026, 11, 27))
    seller = factories.make_user("sam", "sales", dealerships=(moscow,))
    client.force_login(seller)
    response = client.post(reverse("contacts:handoff", args=[Handoff.objects.get().pk, "accept"]))
    assert response.status_code == 404
    assert Handoff.objects.get().status == "new"


def _template(code):
    from contacts.models import TouchpointTemplate

    return TouchpointTemplate.objects.get(code=code)


def test_the_rules_default_to_three_failures_and_twenty_minutes(moscow):
    rules = ContactRules.for_dealership(moscow)
    assert (rules.unreachable_after_failures, rules.claim_timeout_minutes) == (3, 20)


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
