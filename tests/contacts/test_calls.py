from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.urls import reverse

from contacts import calls
from contacts.models import CallAttempt, CallTask, ContactRules, Department, Handoff, Touchpoint
from customers.models import Consent, OdometerReading, Vehicle
from tests import factories

pytestmark = pytest.mark.django_db
# Monday 2026-11-23, 11:00 in Moscow: inside call hours.
NOW = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 11, 23)


def make_task(dealership, *, customer=None, scheduled_on=DAY, priority=5, with_touchpoint=True):
    customer = customer or factories.CustomerFactory(dealership=dealership)
    sale = factories.SaleFactory(vehicle__owner=customer, sold_on=dt.date(2025, 11, 1))
    factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=dt.date(2026, 5, 1), odometer_km=8000)
    task = CallTask.objects.create(
        dealership=dealership, customer=customer, scheduled_on=scheduled_on, window_start=scheduled_on,
        window_end=scheduled_on + dt.timedelta(days=10), blocks_until=scheduled_on + dt.timedelta(days=7),
        priority=priority, agenda=[{"touchpoint_id": 0, "code": "service_invite", "title": "Invite", "why": "due"}],
        script="## Invite\nHello [[agent]]",
    )
    if with_touchpoint:
        from contacts.models import CallTaskItem, TouchpointTemplate

        tp = Touchpoint.objects.create(
            vehicle=sale.vehicle, customer=customer, template=TouchpointTemplate.objects.get(code="service_invite"),
            cycle_start=dt.date(2025, 11, 1), occurrence=1, due_on=DAY, window_start=DAY,
            window_end=DAY + dt.timedelta(days=10), reason="x", status=Touchpoint.Status.ISSUED,
        )
        CallTaskItem.objects.create(call_task=task, touchpoint=tp, position=0)
    return task


def claim(agent, dealership):
    return calls.claim_next_call(agent=agent, dealerships=[dealership], now=NOW).task


def test_next_call_takes_the_highest_priority_task_and_gives_it_back_until_done(moscow, agent):
    # given
    low = make_task(moscow, priority=7)
    high = make_task(moscow, priority=1)
    # when
    first = claim(agent, moscow)
    again = claim(agent, moscow)
    # then
    assert first == high and again == high
    assert CallTask.objects.get(pk=high.pk).status == "claimed"
    assert CallTask.objects.get(pk=low.pk).status == "open"


def test_two_agents_never_get_the_same_task(moscow, agent):
    # given
    make_task(moscow)
    make_task(moscow)
    other = factories.make_user("carol", "agent", dealerships=(moscow,))
    # when
    first, second = claim(agent, moscow), claim(other, moscow)
    # then
    assert first is not None and second is not None and first != second


def test_no_calls_outside_call_hours(moscow, agent):
    make_task(moscow)
    night = dt.datetime(2026, 11, 23, 19, 30, tzinfo=dt.UTC)  # 22:30 in Moscow
    result = calls.claim_next_call(agent=agent, dealerships=[moscow], now=night)
    assert result.task is None
    assert "outside call hours" in result.message


def test_a_stale_claim_returns_to_the_pool(moscow, agent):
    # given
    task = make_task(moscow)
    claim(agent, moscow)
    # when: 25 minutes later (limit 20)
    released = calls.release_stale_claims(now=NOW + dt.timedelta(minutes=25))
    # then
    assert released == 1
    assert CallTask.objects.get(pk=task.pk).status == "open"


def test_reached_with_mileage_records_a_reading_and_closes_the_agenda(moscow, agent, django_capture_on_commit_callbacks):
    # given
    task = claim(agent, make_task(moscow).dealership)
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        calls.record_outcome(task=task, agent=agent, outcome="reached", now=NOW, odometer_km=14500, note="ok")
    # then
    task.refresh_from_db()
    assert task.status == "done" and task.attempts == 1
    assert OdometerReading.objects.filter(source="call", odometer_km=14500, read_on=DAY).count() == 1
    assert list(Touchpoint.objects.filter(call_item__call_task=task).values_list("status", flat=True)) == ["done"]
    assert CallAttempt.objects.get().outcome == "reached"
    assert len(callbacks) == 1  # the re-plan of the car, queued on commit


def test_implausible_mileage_is_refused_and_nothing_is_written(moscow, agent):
    task = claim(agent, make_task(moscow).dealership)
    with pytest.raises(calls.OutcomeError, match="lower than the 8000 km"):
        calls.record_outcome(task=task, agent=agent, outcome="reached", now=NOW, odometer_km=100)
    assert not CallAttempt.objects.exists()
    assert CallTask.objects.get(pk=task.pk).status == "claimed"


def test_no_answer_is_retried_later_today_then_next_working_day_then_in_three_days(moscow, agent):
    # given
    ContactRules.for_dealership(moscow)
    task = claim(agent, make_task(moscow).dealership)
    days = []
    # when: four unanswered attempts
    for attempt_time in [NOW, NOW + dt.timedelta(hours=2, minutes=5), NOW + dt.timedelta(days=1, hours=1),
                         NOW + dt.timedelta(days=4, hours=1)]:
        CallTask.objects.filter(pk=task.pk).update(status="claimed", claimed_by=agent, claimed_at=attempt_time)
        calls.record_outcome(task=task, agent=agent, outcome="no_answer", now=attempt_time)
        task.refresh_from_db()
        days.append((task.status, task.scheduled_on))
    # then
    assert days == [
        ("open", DAY),  # later today
        ("open", dt.date(2026, 11, 24)),  # the next working day
        ("open", dt.date(2026, 11, 27)),  # in three days
        ("done", dt.date(2026, 11, 27)),  # closed after the fourth attempt
    ]
    assert task.customer.__class__.objects.get(pk=task.customer_id).phone_failures == 1


def test_three_failed_calls_mark_the_phone_unreachable(moscow, agent):
    customer = factories.CustomerFactory(dealership=moscow, phone_failures=2)
    task = claim(agent, make_task(moscow, customer=customer).dealership)
    other = make_task(moscow, customer=customer, scheduled_on=DAY + dt.timedelta(days=8))
    calls.record_outcome(task=task, agent=agent, outcome="wrong_number", now=NOW)
    customer.refresh_from_db()
    assert customer.phone_unreachable_since == DAY
    assert CallTask.objects.get(pk=other.pk).status == "cancelled"


def test_do_not_call_cancels_the_customers_future_calls_at_once(moscow, agent):
    # given
    customer = factories.CustomerFactory(dealership=moscow)
    task = claim(agent, make_task(moscow, customer=customer).dealership)
    future = make_task(moscow, customer=customer, scheduled_on=DAY + dt.timedelta(days=9))
    # when
    calls.record_outcome(task=task, agent=agent, outcome="do_not_call", now=NOW, note="asked")
    # then
    assert Consent.objects.get(customer=customer, channel="call").is_allowed is False
    assert CallTask.objects.get(pk=future.pk).status == "cancelled"
    assert Touchpoint.objects.get(call_item__call_task=future).status == "suppressed"


def test_call_back_creates_a_requested_task_at_the_named_time(moscow, agent):
    task = claim(agent, make_task(moscow).dealership)
    at = dt.datetime(2026, 11, 25, 14, 0, tzinfo=dt.UTC)
    calls.record_outcome(task=task, agent=agent, outcome="call_back", now=NOW, callback_at=at)
    callback = CallTask.objects.get(kind="callback")
    assert (callback.scheduled_on, callback.callback_at, callback.is_requested) == (dt.date(2026, 11, 25), at, True)


def test_booking_and_hot_lead_create_hand_offs(moscow, agent):
    task = claim(agent, make_task(moscow).dealership)
    calls.record_outcome(task=task, agent=agent, outcome="booked", now=NOW, booked_on=dt.date(2026, 11, 27))
    task2 = claim(agent, make_task(moscow).dealership)
    calls.record_outcome(task=task2, agent=agent, outcome="hot_lead", now=NOW, note="wants a Sportage",
                         department=Department.objects.get(code="sales"))
    assert list(Handoff.objects.order_by("id").values_list("kind", "department__code", "booked_on", "deadline")) == [
        ("booking", "service", dt.date(2026, 11, 27), dt.date(2026, 11, 27)),
        ("hot_lead", "sales", None, dt.date(2026, 11, 24)),
    ]


def test_serviced_elsewhere_needs_a_reason_from_the_catalogue(moscow, agent):
    task = claim(agent, make_task(moscow).dealership)
    with pytest.raises(calls.OutcomeError):
        calls.record_outcome(task=task, agent=agent, outcome="serviced_elsewhere", now=NOW, reason="because")
    calls.record_outcome(task=task, agent=agent, outcome="serviced_elsewhere", now=NOW, reason="price")
    assert CallAttempt.objects.get().detail["reason"] == "price"


def test_sold_the_car_deactivates_it(moscow, agent):
    task = claim(agent, make_task(moscow).dealership)
    calls.record_outcome(task=task, agent=agent, outcome="sold_car", now=NOW)
    assert not Vehicle.objects.get(owner=task.customer).is_active


def test_agent_gets_404_on_another_dealerships_task(client, moscow, other_agent):
    task = make_task(moscow)
    client.force_login(other_agent)
    assert client.get(reverse("contacts:call", args=[task.pk])).status_code == 404
    assert client.post(reverse("contacts:outcome", args=[task.pk]), {"outcome": "reached"}).status_code == 404


def test_agent_gets_403_on_the_floor(client, agent):
    client.force_login(agent)
    assert client.get(reverse("contacts:floor")).status_code == 403


def test_outcome_error_keeps_what_the_agent_typed(client, moscow, agent):
    # given
    task = claim(agent, make_task(moscow).dealership)
    client.force_login(agent)
    # when
    response = client.post(reverse("contacts:outcome", args=[task.pk]), {"outcome": "reached", "odometer_km": "100", "note": "my words"})
    # then
    body = response.content.decode()
    assert "lower than the 8000 km" in body
    assert "my words" in body and 'value="100"' in body


def test_supervisor_sets_capacity_and_releases_a_claim(client, moscow, supervisor, agent):
    task = claim(agent, make_task(moscow).dealership)
    client.force_login(supervisor)
    client.post(reverse("contacts:capacity", args=[moscow.pk]), {"agents_on_shift": "6"})
    client.post(reverse("contacts:release", args=[task.pk]), {"back": "floor"})
    assert moscow.capacities.get().agents_on_shift == 6
    assert CallTask.objects.get(pk=task.pk).status == "open"


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_on_postgresql_never_double_claim(moscow):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL")
    tasks = [make_task(moscow) for _ in range(6)]
    agents = [factories.make_user(f"agent{i}", "agent", dealerships=(moscow,)) for i in range(6)]
    claimed: list[int] = []

    def run(user):
        try:
            result = calls.claim_next_call(agent=user, dealerships=[moscow], now=NOW)
            if result.task:
                claimed.append(result.task.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(user,)) for user in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(t.pk for t in tasks)
