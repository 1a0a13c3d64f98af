"""A merge of two customers on the contact side: one open call, one budget, history moved, the call gap
kept (contacts.merging, through customers.duplicates.merge_customers)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from contacts.models import CallAttempt, CallTask, Department, Handoff, OutboxMessage, Touchpoint
from contacts.planning.chunk import replan
from contacts.queues import build_queue
from customers.duplicates import MergeRefused, merge_customers
from customers.models import Customer
from customers.refusals import record_refusal
from tests import factories

pytestmark = pytest.mark.django_db
# Monday 2026-11-23, 07:30 in Moscow.
NOW = dt.datetime(2026, 11, 23, 4, 30, tzinfo=dt.UTC)
DAY = dt.date(2026, 11, 23)
OPEN = [CallTask.Status.OPEN, CallTask.Status.CLAIMED]


def _due_for_service(moscow, vin_n: int, **customer):
    """Maintenance falls due early in December 2026: the build on DAY issues a call."""
    owner = factories.CustomerFactory(dealership=moscow, **customer)
    sale = factories.SaleFactory(vehicle__owner=owner, vehicle__vin=factories.vin_for(vin_n), customer=owner,
                                 dealership=moscow, sold_on=dt.date(2025, 12, 20))
    factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=dt.date(2025, 12, 20), odometer_km=0, source="sale")
    factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=dt.date(2026, 10, 1), odometer_km=12300)
    replan(vehicle_ids=[sale.vehicle.id], now=NOW)
    return owner


@pytest.fixture
def two_with_open_calls(moscow):
    """One person imported twice (two phones, one e-mail): two customers, each with an open call today."""
    survivor = _due_for_service(moscow, 1, phone="+79161110000", email="p@example.ru")
    merged = _due_for_service(moscow, 2, phone="+79162220000", email="P@example.ru")
    build_queue(dealership=moscow, day=DAY, now=NOW)
    assert CallTask.objects.filter(status__in=OPEN).count() == 2
    return survivor, merged


def test_the_merge_of_two_customers_with_open_calls_leaves_one_open_call_and_moves_everything(two_with_open_calls, moscow):
    # given
    survivor, merged = two_with_open_calls
    merged_call = CallTask.objects.get(customer=merged)
    kept_call = CallTask.objects.get(customer=survivor)
    # when
    merge_customers(survivor=survivor, merged=merged, now=NOW)
    # then: the survivor's call stays, the merged customer's is withdrawn and its topics go back to the plan
    assert list(CallTask.objects.filter(status__in=OPEN)) == [kept_call]
    merged_call.refresh_from_db()
    assert (merged_call.status, merged_call.outcome, merged_call.customer_id) == ("cancelled", "customers_merged", survivor.pk)
    assert not merged_call.items.exists()
    assert not Touchpoint.objects.filter(customer=merged).exists()
    assert not CallTask.objects.filter(customer=merged).exists()
    # when: the queue of the next days is built, the survivor still has one call at a time
    for days in range(1, 8):
        build_queue(dealership=moscow, day=DAY + dt.timedelta(days=days), now=NOW + dt.timedelta(days=days))
        assert CallTask.objects.filter(customer=survivor, status__in=OPEN).count() <= 1
    assert not CallTask.objects.filter(customer=merged).exists()


def test_a_callback_the_customer_asked_for_is_the_call_that_stays(two_with_open_calls):
    # given
    survivor, merged = two_with_open_calls
    CallTask.objects.filter(customer=merged).update(kind=CallTask.Kind.CALLBACK, is_requested=True)
    callback = CallTask.objects.get(customer=merged)
    # when
    merge_customers(survivor=survivor, merged=merged, now=NOW)
    # then
    assert list(CallTask.objects.filter(status__in=OPEN)) == [callback]
    assert CallTask.objects.get(pk=callback.pk).customer_id == survivor.pk


def test_no_merge_while_an_agent_is_on_a_call_with_either_customer(two_with_open_calls, agent):
    survivor, merged = two_with_open_calls
    CallTask.objects.filter(customer=merged).update(status=CallTask.Status.CLAIMED, claimed_by=agent, claimed_at=NOW)
    with pytest.raises(MergeRefused, match="after the call"):
        merge_customers(survivor=survivor, merged=merged, now=NOW)
    assert Customer.objects.get(pk=merged.pk).merged_into_id is None
    assert CallTask.objects.filter(customer=merged).count() == 1


def test_history_moves_and_the_call_gap_holds_for_calls_made_to_both(moscow, agent):
    # given: each was called two days ago (done), within each other's gap; the survivor has a call today
    survivor = factories.CustomerFactory(dealership=moscow)
    merged = factories.CustomerFactory(dealership=moscow)
    span = {"dealership": moscow, "window_start": DAY - dt.timedelta(days=5), "window_end": DAY + dt.timedelta(days=9)}
    done = [
        CallTask.objects.create(customer=c, scheduled_on=DAY - dt.timedelta(days=2), blocks_until=DAY + dt.timedelta(days=5),
                                status=CallTask.Status.DONE, **span)
        for c in (survivor, merged)
    ]
    attempt = CallAttempt.objects.create(call_task=done[1], customer=merged, agent=agent, outcome="reached",
                                         started_at=NOW - dt.timedelta(days=2), ended_at=NOW - dt.timedelta(days=2))
    today = CallTask.objects.create(customer=survivor, scheduled_on=DAY + dt.timedelta(days=6),
                                    blocks_until=DAY + dt.timedelta(days=13), **span)
    # when
    merge_customers(survivor=survivor, merged=merged, now=NOW)
    # then: both done calls are the survivor's history; the moved one no longer blocks (both happened)
    moved = CallTask.objects.get(pk=done[1].pk)
    assert (moved.customer_id, moved.status, moved.blocks_until) == (survivor.pk, "done", moved.scheduled_on)
    assert CallAttempt.objects.get(pk=attempt.pk).customer_id == survivor.pk
    assert CallTask.objects.get(pk=today.pk).status == CallTask.Status.OPEN
    _assert_no_two_budgeted_calls_overlap(survivor)


def test_an_open_call_inside_the_gap_of_the_other_customers_last_call_is_withdrawn(moscow):
    # given: the merged customer was called yesterday; the survivor's call is tomorrow, inside that gap
    survivor = factories.CustomerFactory(dealership=moscow)
    merged = factories.CustomerFactory(dealership=moscow)
    span = {"dealership": moscow, "window_start": DAY - dt.timedelta(days=5), "window_end": DAY + dt.timedelta(days=9)}
    CallTask.objects.create(customer=merged, scheduled_on=DAY - dt.timedelta(days=1), blocks_until=DAY + dt.timedelta(days=6),
                            status=CallTask.Status.DONE, **span)
    tomorrow = CallTask.objects.create(customer=survivor, scheduled_on=DAY + dt.timedelta(days=1),
                                       blocks_until=DAY + dt.timedelta(days=8), **span)
    # when
    merge_customers(survivor=survivor, merged=merged, now=NOW)
    # then: one person, one budget: no call two days after the last one
    assert CallTask.objects.get(pk=tomorrow.pk).status == CallTask.Status.CANCELLED
    _assert_no_two_budgeted_calls_overlap(survivor)


def _assert_no_two_budgeted_calls_overlap(customer):
    calls = list(
        CallTask.objects.filter(customer=customer, is_requested=False).exclude(status=CallTask.Status.CANCELLED)
        .values_list("scheduled_on", "blocks_until")
    )
    for i, (start, end) in enumerate(calls):
        for other_start, other_end in calls[i + 1:]:
            assert not (start < other_end and other_start < end), calls


def test_the_merge_with_open_calls_keeps_the_exclusion_constraint_on_postgresql(two_with_open_calls, moscow):
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint call_task_customer_gap exists on PostgreSQL")
    survivor, merged = two_with_open_calls
    span = {"dealership": moscow, "window_start": DAY - dt.timedelta(days=5), "window_end": DAY}
    for customer in (survivor, merged):  # each was called three days ago: ranges that overlap
        CallTask.objects.create(customer=customer, scheduled_on=DAY - dt.timedelta(days=3), blocks_until=DAY - dt.timedelta(days=1),
                                status=CallTask.Status.DONE, **span)
    # when: the constraint is checked on every moved row (a violation would raise IntegrityError)
    merge_customers(survivor=survivor, merged=merged, now=NOW)
    # then
    assert CallTask.objects.filter(customer=survivor, status__in=OPEN).count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = 'call_task_customer_gap'")
        assert cursor.fetchone() == (1,)
    build_queue(dealership=moscow, day=DAY + dt.timedelta(days=1), now=NOW + dt.timedelta(days=1))
    assert CallTask.objects.filter(customer=survivor, status__in=OPEN).count() <= 1


def test_a_refusal_of_the_merged_customer_stops_the_survivors_calls_and_pending_messages_go_back_to_the_plan(
    two_with_open_calls, moscow
):
    # given
    survivor, merged = two_with_open_calls
    record_refusal(customer=merged, channels=["call"], now=NOW, reason="не звоните", source="call")
    touchpoint = Touchpoint.objects.filter(customer=merged, status=Touchpoint.Status.PLANNED).first()
    Touchpoint.objects.filter(pk=touchpoint.pk).update(status=Touchpoint.Status.ISSUED)
    message = OutboxMessage.objects.create(dealership=moscow, customer=merged, touchpoint=touchpoint, channel="sms",
                                           recipient=merged.phone, body="С днём рождения", send_on=DAY)
    handoff = Handoff.objects.create(dealership=moscow, customer=merged, department=Department.objects.get(code="service"),
                                     kind=Handoff.Kind.BOOKING, notes="ТО", deadline=DAY)
    # when
    merge_customers(survivor=survivor, merged=merged, now=NOW)
    # then
    assert not CallTask.objects.filter(customer=survivor, status__in=OPEN).exists()
    assert Handoff.objects.get(pk=handoff.pk).customer_id == survivor.pk
    assert not OutboxMessage.objects.filter(pk=message.pk).exists()
    reopened = Touchpoint.objects.get(pk=touchpoint.pk)
    assert (reopened.customer_id, reopened.status, reopened.resolution) == (survivor.pk, "planned", "reopened:customers_merged")
