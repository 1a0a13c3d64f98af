"""The supervisor's floor read model (contacts.floor): its figures, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest

from contacts import calls
from contacts.floor import floor_summary
from contacts.models import CallTask, ContactRules, DailyCapacity
from tests import factories
from tests.contacts.calls.helpers import NOW, claimed, record
from tests.contacts.factories import DAY, make_call_task

pytestmark = pytest.mark.django_db
# Rules, staff, agents, agents' counts, claims, agents' presence, waiting calls, capacities set today, calls
# done, calls left.
FLOOR_QUERIES = 10


def _summary(dealerships):
    start, end = calls.local_day_bounds(dealerships[0], DAY)
    return floor_summary(dealerships=dealerships, now=NOW, day_start=start, day_end=end)


def _busy_dealership(code, agents):
    dealership = factories.DealershipFactory(code=code)
    ContactRules.for_dealership(dealership)
    people = [factories.make_user(f"{code}-agent{n}", "agent", dealerships=(dealership,)) for n in range(agents)]
    for person in people:
        record(claimed(dealership, person), person, "reached")
        claimed(dealership, person)
        make_call_task(dealership)
    DailyCapacity.objects.create(dealership=dealership, day=DAY, agents_on_shift=agents)
    return dealership


def test_the_floor_counts_calls_claims_capacity_and_waiting_work(moscow, agent):
    # given: the agent made one call, reached, and is on a second one, held 25 minutes (the limit is 20)
    record(claimed(moscow, agent), agent, "reached")
    held = claimed(moscow, agent)
    CallTask.objects.filter(pk=held.pk).update(claimed_at=NOW - dt.timedelta(minutes=25))
    waiting = make_call_task(moscow)
    carol = factories.make_user("carol", "agent", dealerships=(moscow,))
    # when
    summary = _summary([moscow])
    # then
    assert [(row.user, row.calls, row.reached, row.reach_rate) for row in summary.agents] == [
        (agent, 1, 1, 100), (carol, 0, 0, None)]
    assert [(row.task, row.age_minutes, row.is_stale) for row in summary.claims] == [(held, 25, True)]
    assert summary.agents[0].claim == summary.claims[0] and summary.agents[1].claim is None
    assert summary.claims[0].assignable == [agent, carol]
    assert summary.stale_count == 1
    assert [(row.task, row.assignable) for row in summary.waiting] == [(waiting, [agent, carol])]
    rules = ContactRules.for_dealership(moscow)
    assert [(row.dealership, row.agents_on_shift, row.is_default, row.calls, row.done, row.left)
            for row in summary.capacities] == [
        (moscow, rules.default_agents_on_shift, True, rules.default_agents_on_shift * rules.calls_per_agent, 1, 1)]
    assert (summary.done, summary.reach_rate) == (1, 100)


@pytest.mark.parametrize("dealerships", [1, 4])
def test_the_floor_reads_the_same_number_of_queries_for_one_dealership_or_many(dealerships, django_assert_num_queries):
    # given: each dealership with three agents, each with a call done, one in progress and one waiting
    busy = [_busy_dealership(f"busy{n}", agents=3) for n in range(dealerships)]
    # when / then
    with django_assert_num_queries(FLOOR_QUERIES):
        summary = _summary(busy)
    assert len(summary.agents) == 3 * dealerships and len(summary.claims) == 3 * dealerships
    assert [row.done for row in summary.capacities] == [3] * dealerships
    assert [(row.agents_on_shift, row.is_default) for row in summary.capacities] == [(3, False)] * dealerships


def test_the_floor_tells_each_agents_state_pace_and_handling_time(moscow, agent):
    # given: Alice took a call at 10:00 (Moscow) and recorded it at 10:06; Carol is on a call for 3 minutes;
    # Dan worked at 9:00 and went away
    from contacts.floor import AgentState

    first = claimed(moscow, agent)
    CallTask.objects.filter(pk=first.pk).update(claimed_at=NOW - dt.timedelta(hours=1))
    first.refresh_from_db()
    record(first, agent, "reached", now=NOW - dt.timedelta(minutes=54))
    carol = factories.make_user("carol", "agent", dealerships=(moscow,))
    claimed(moscow, carol)
    dan = factories.make_user("dan", "agent", dealerships=(moscow,))
    early = claimed(moscow, dan)
    CallTask.objects.filter(pk=early.pk).update(claimed_at=NOW - dt.timedelta(hours=2))
    early.refresh_from_db()
    record(early, dan, "no_answer", now=NOW - dt.timedelta(hours=2) + dt.timedelta(minutes=2))
    erin = factories.make_user("erin", "agent", dealerships=(moscow,))
    # when
    rows = {row.user: row for row in _summary([moscow]).agents}
    # then
    assert (rows[agent].state, rows[agent].minutes_in_state, rows[agent].calls_per_hour, rows[agent].handling_minutes) == (
        AgentState.AWAY, 54, 1.0, 6.0)
    assert (rows[carol].state, rows[carol].minutes_in_state, rows[carol].calls_per_hour) == (AgentState.ON_A_CALL, 3, None)
    assert (rows[dan].state, rows[dan].calls_per_hour, rows[dan].handling_minutes) == (AgentState.AWAY, 0.5, 2.0)
    assert (rows[erin].state, rows[erin].minutes_in_state) == (AgentState.NOT_STARTED, None)


def test_the_floor_says_which_dealership_each_agent_works_for_grouped_by_dealership(moscow, yekaterinburg, client):
    # given: Zoe works in Moscow, Boris in Yekaterinburg, Alla in both; a supervisor of both
    def agent_of(username, first, *dealerships):
        person = factories.make_user(username, "agent", dealerships=dealerships)
        person.first_name = first
        person.save()
        return person

    zoe = agent_of("zoe", "Zoe", moscow)
    boris = agent_of("boris", "Boris", yekaterinburg)
    alla = agent_of("alla", "Alla", moscow, yekaterinburg)
    both = [moscow, yekaterinburg]
    client.force_login(factories.make_user("sue", "supervisor", dealerships=both))
    # when
    summary = _summary(both)
    page = client.get("/calls/floor/").content.decode()
    # then: by dealership (who works for both between the two), then by name; the page says it
    assert [(row.user, row.dealerships) for row in summary.agents] == [
        (zoe, (moscow,)), (alla, (moscow, yekaterinburg)), (boris, (yekaterinburg,))]
    assert f'class="agent-dealerships">{moscow.name}, {yekaterinburg.name}</td>' in page
    assert f'class="agent-dealerships">{yekaterinburg.name}</td>' in page
