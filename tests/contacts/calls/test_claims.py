"""Claiming calls: order, exclusivity, call hours, refusals, stale claims, release (contacts.calls.claims)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection

from contacts import calls
from contacts import tasks as celery_tasks
from contacts.calls import claims
from contacts.models import (
    CallAttempt,
    CallTask,
    ContactRules,
    Touchpoint,
)
from customers.models import Consent
from tests import factories
from tests.contacts.calls.helpers import NOW, claim, claimed, record
from tests.contacts.factories import DAY, make_call_task

pytestmark = pytest.mark.django_db


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
    real_next_candidate = claims._next_candidate
    raced = []

    def racing_next_candidate(**kwargs):
        task = real_next_candidate(**kwargs)
        if not raced:
            raced.append(task)
            CallTask.objects.filter(pk=task.pk).update(status="claimed", claimed_by=carol, claimed_at=NOW)
        return task

    monkeypatch.setattr(claims, "_next_candidate", racing_next_candidate)
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


def test_the_rules_default_to_three_failures_and_twenty_minutes(moscow):
    rules = ContactRules.for_dealership(moscow)
    assert (rules.unreachable_after_failures, rules.claim_timeout_minutes) == (3, 20)


def test_an_inbound_call_takes_the_customers_waiting_call_or_opens_a_new_one(moscow, agent):
    # given: one customer with a call planned next week, one with none
    waiting = make_call_task(moscow, scheduled_on=DAY + dt.timedelta(days=7))
    other = factories.CustomerFactory(dealership=moscow)
    # when
    taken = calls.take_inbound_call(customer=waiting.customer, agent=agent, now=NOW)
    record(taken, agent, "reached")
    opened = calls.take_inbound_call(customer=other, agent=agent, now=NOW)
    # then
    assert taken == waiting
    assert CallTask.objects.get(pk=waiting.pk).status == "done"
    assert (opened.customer, opened.status, opened.claimed_by, opened.is_requested, opened.agenda) == (
        other, "claimed", agent, True, [])


def test_an_inbound_call_waits_for_the_agents_current_call_and_for_a_colleagues(moscow, agent):
    claimed(moscow, agent)
    carol = factories.make_user("carol", "agent", dealerships=(moscow,))
    carols = claimed(moscow, carol)
    with pytest.raises(calls.OutcomeError, match="current call"):
        calls.take_inbound_call(customer=factories.CustomerFactory(dealership=moscow), agent=agent, now=NOW)
    with pytest.raises(calls.OutcomeError, match="is on a call with this customer"):
        calls.take_inbound_call(customer=carols.customer, agent=factories.make_user("dan", "agent", dealerships=(moscow,)),
                                now=NOW)
