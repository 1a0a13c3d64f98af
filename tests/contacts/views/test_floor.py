"""The supervisor's floor: capacity, release, reassign, idle claims (contacts.views.floor)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from contacts.models import CallTask, DailyCapacity
from tests import factories
from tests.contacts.calls.helpers import (
    NOW,
    claim,
    claimed,
    fresh_cache,  # noqa: F401 - autouse: the idle-claim sweep starts unthrottled
    )
from tests.contacts.factories import DAY, make_call_task

pytestmark = pytest.mark.django_db


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
    assert [row.claim.task for row in floor.context["floor"].agents if row.user == agent] == [task]
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
    assert response.context["floor"].stale_count == 1
    assert "idle too long" in response.content.decode()


def test_reassigning_to_an_agent_of_another_dealership_is_refused(client, moscow, supervisor, other_agent):
    task = make_call_task(moscow)
    client.force_login(supervisor)
    client.post(reverse("contacts:reassign", args=[task.pk]), {"agent": other_agent.pk})
    assert CallTask.objects.get(pk=task.pk).assigned_to is None


def test_the_floor_says_when_nobody_else_can_take_a_call(client, moscow, supervisor, agent, at_now):
    claimed(moscow, agent)
    client.force_login(supervisor)
    page = client.get(reverse("contacts:floor")).content.decode()
    assert "nobody else to give it to" in page
