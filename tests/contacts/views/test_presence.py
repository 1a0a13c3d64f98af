"""The floor's agent states over a working day and the next morning: ready, on a call, between calls,
paused, away, logged out, not started (contacts.presence, contacts.floor), under a moving clock."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from contacts.models import AgentPresence
from tests import factories
from tests.contacts.calls.helpers import NOW
from tests.contacts.factories import make_call_task

pytestmark = pytest.mark.django_db


def _state_on_the_floor(supervisor_client: Client, agent) -> tuple[str, int | None]:
    floor = supervisor_client.get(reverse("contacts:floor")).context["floor"]
    row = next(row for row in floor.agents if row.user == agent)
    return row.state, row.minutes_in_state


def test_the_floor_follows_what_the_agent_does_and_says_through_the_day(moscow, supervisor, agent):
    for _ in range(3):
        make_call_task(moscow)
    agent_client, supervisor_client = Client(), Client()
    supervisor_client.force_login(supervisor)
    seen = []

    def at(minutes: int, action=None):
        with time_machine.travel(NOW + dt.timedelta(minutes=minutes), tick=False):
            if action is not None:
                action()
            seen.append((minutes, *_state_on_the_floor(supervisor_client, agent)))

    def next_call():
        response = agent_client.post(reverse("contacts:next"))
        assert response.status_code == 302 and "/calls/task/" in response.url
        return int(response.url.rstrip("/").rsplit("/", 1)[1])

    def outcome(then=""):
        task_id = _claimed_id(agent)
        data = {"outcome": "no_answer", "claim": _claim_token(agent_client, task_id)}
        if then:
            data["then"] = then
        response = agent_client.post(reverse("contacts:outcome", args=[task_id]), data)
        assert response.status_code == 302, response.content.decode()[:500]

    at(-60)  # before the day starts: nothing said, nothing done
    at(0, lambda: _log_in(agent_client, agent.username))
    at(3, next_call)
    at(7)
    at(8, outcome)  # the next call opens by itself
    at(14, lambda: outcome(then="pause"))  # "pause after this call"
    at(29)
    at(30, next_call)  # the next call ends the pause
    at(31, outcome)  # the last call of the queue
    at(55)  # nothing said, no call for 24 minutes
    at(56, lambda: agent_client.post(reverse("contacts:pause")))  # the queue's Pause
    at(60, lambda: agent_client.post(reverse("logout")))
    at(24 * 60)  # the next morning: yesterday's word says nothing
    assert seen == [
        (-60, "not_started", None),
        (0, "ready", 0),
        (3, "on_a_call", 0),
        (7, "on_a_call", 4),
        (8, "on_a_call", 0),
        (14, "paused", 0),
        (29, "paused", 15),
        (30, "on_a_call", 0),
        (31, "between_calls", 0),
        (55, "away", 24),
        (56, "paused", 0),
        (60, "logged_out", 0),
        (24 * 60, "not_started", None),
    ]
    assert AgentPresence.objects.get(user=agent).state == "logged_out"


def _log_in(client: Client, username: str) -> None:
    """Through the login page, as a person does (the sign-in signal sets the presence)."""
    response = client.post(reverse("login"), {"username": username, "password": "pw-" + username})
    assert response.status_code == 302, response.content.decode()[:300]


def _claimed_id(agent) -> int:
    from contacts.models import CallTask

    return CallTask.objects.get(claimed_by=agent, status=CallTask.Status.CLAIMED).pk


def _claim_token(client: Client, task_id: int) -> str:
    page = client.get(reverse("contacts:call", args=[task_id])).content.decode()
    return page.split('name="claim" value="', 1)[1].split('"', 1)[0]


def test_someone_who_does_not_work_a_queue_has_no_presence(client, moscow):
    manager = factories.make_user("mona", "manager", dealerships=(moscow,))
    _log_in(client, "mona")
    assert not AgentPresence.objects.filter(user=manager).exists()
