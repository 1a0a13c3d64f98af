"""Long calls (issue 12, item 6): the open call screen keeps its claim alive, and the agent who made the
call can record it even after the claim was released and another agent took the call (contacts.views.agent,
contacts.calls.claims.keep_claim, contacts.calls.outcomes.recording._take_for_outcome), under a moving clock."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from contacts import tasks as celery_tasks
from contacts.models import CallAttempt, CallTask, Handoff
from contacts.views.agent import HEARTBEAT_SECONDS
from tests import factories
from tests.contacts.calls.helpers import (
    NOW,
    claim,
    fresh_cache,  # noqa: F401 - autouse: the idle-claim sweep starts unthrottled
)
from tests.contacts.factories import make_call_task

pytestmark = pytest.mark.django_db
CLAIM = re.compile(r'name="claim" value="([^"]+)"')


def _open_next_call(client: Client) -> tuple[int, str]:
    """Press Next call and open the call screen, as the browser does; returns the task and its claim proof."""
    response = client.post(reverse("contacts:next"), HTTP_HX_REQUEST="true")
    path = json.loads(response["HX-Location"])["path"]
    page = client.get(path).content.decode()
    return int(path.rstrip("/").rsplit("/", 1)[1]), CLAIM.search(page).group(1)


def _heartbeat(client: Client, pk: int) -> str:
    return client.post(reverse("contacts:heartbeat", args=[pk]), HTTP_HX_REQUEST="true").content.decode()


def _book(client: Client, pk: int, token: str) -> object:
    return client.post(reverse("contacts:outcome", args=[pk]), {
        "outcome": "booked", "booked_on": "2026-11-26", "note": "Tuesday morning", "claim": token, "then": "pause",
    }, HTTP_HX_REQUEST="true")


def test_forty_five_minutes_on_the_call_screen_keep_the_claim(client, moscow, agent):
    # given: one call in the queue, and Carol pressing Next call every five minutes
    task = make_call_task(moscow)
    carol = factories.make_user("carol", "agent", dealerships=(moscow,))
    client.force_login(agent)
    with time_machine.travel(NOW, tick=False) as clock:
        pk, _token = _open_next_call(client)
        # when: the screen stays open 45 minutes, its heartbeat beating; beat sweeps stale claims
        for beat in range(1, 45 * 60 // HEARTBEAT_SECONDS + 1):
            clock.move_to(NOW + dt.timedelta(seconds=beat * HEARTBEAT_SECONDS))
            assert _heartbeat(client, pk).strip() == ""
            if beat % (300 // HEARTBEAT_SECONDS) == 0:
                celery_tasks.release_stale_claims.delay().get()
                assert claim(carol, now=NOW + dt.timedelta(seconds=beat * HEARTBEAT_SECONDS)) is None
        # then: still the agent's, and the booking after 45 minutes is accepted
        assert CallTask.objects.get(pk=task.pk).claimed_by == agent
        response = _book(client, pk, "")
    assert response.status_code == 200 and "HX-Location" in response
    attempt = CallAttempt.objects.get()
    assert (attempt.agent, attempt.outcome, attempt.started_at, attempt.ended_at) == (
        agent, "booked", NOW, NOW + dt.timedelta(minutes=45))


def test_a_screen_without_heartbeat_loses_the_claim_after_the_timeout(client, moscow, agent):
    # given
    task = make_call_task(moscow)
    client.force_login(agent)
    with time_machine.travel(NOW, tick=False) as clock:
        _open_next_call(client)
        # when: 21 minutes pass with no heartbeat (the tab was closed)
        clock.move_to(NOW + dt.timedelta(minutes=21))
        released = celery_tasks.release_stale_claims.delay().get()
    # then
    assert released == 1
    assert CallTask.objects.get(pk=task.pk).status == "open"


def test_the_agent_who_made_the_call_books_it_after_it_went_to_another_agent(client, moscow, agent):
    # given: Alice's screen lost its heartbeat (a frozen laptop) while she talked; after 25 minutes the
    # claim was released and Carol took the call
    task = make_call_task(moscow)
    following = make_call_task(moscow, priority=9)
    carol = factories.make_user("carol", "agent", dealerships=(moscow,))
    carol.first_name = "Carol"
    carol.save()
    carols = Client()
    carols.force_login(carol)
    client.force_login(agent)
    with time_machine.travel(NOW, tick=False) as clock:
        pk, alices_proof = _open_next_call(client)
        clock.move_to(NOW + dt.timedelta(minutes=25))
        celery_tasks.release_stale_claims.delay().get()
        carols_pk, _carols_proof = _open_next_call(carols)
        assert carols_pk == task.pk == pk
        # when: Alice's screen comes back; then she saves the booking she made
        alice_told = _heartbeat(client, pk)
        clock.move_to(NOW + dt.timedelta(minutes=26))
        response = _book(client, pk, alices_proof)
        # then: Carol's screen says who recorded the call; her own outcome on it is refused in those words
        clock.move_to(NOW + dt.timedelta(minutes=27))
        carol_told = _heartbeat(carols, pk)
        refused = carols.post(reverse("contacts:outcome", args=[pk]), {"outcome": "no_answer"}, HTTP_HX_REQUEST="true")
        carols_next, _proof = _open_next_call(carols)
    assert "Carol has this call now." in alice_told and "still accepted" in alice_told
    assert response.status_code == 200 and "HX-Location" in response
    attempt = CallAttempt.objects.get()
    assert (attempt.agent, attempt.outcome, attempt.started_at) == (agent, "booked", NOW)
    assert Handoff.objects.get().booked_on == dt.date(2026, 11, 26)
    assert CallTask.objects.get(pk=task.pk).status == "done"
    # Alice is agent "alice": 11:26 Moscow time
    assert "recorded this call&#x27;s outcome (Maintenance booked) at 11:26" in carol_told
    assert "recorded this call&#x27;s outcome (Maintenance booked) at 11:26" in refused.content.decode()
    assert CallAttempt.objects.count() == 1
    assert carols_next == following.pk


def test_a_forged_or_foreign_claim_proof_is_not_accepted(client, moscow, agent):
    # given: Carol holds the call; Alice never did
    make_call_task(moscow)
    carol = factories.make_user("carol", "agent", dealerships=(moscow,))
    carols = Client()
    carols.force_login(carol)
    client.force_login(agent)
    with time_machine.travel(NOW, tick=False):
        pk, carols_proof = _open_next_call(carols)
        # when
        with_carols = _book(client, pk, carols_proof)
        forged = _book(client, pk, carols_proof[:-2] + "xx")
    # then
    assert "no longer yours" in with_carols.content.decode() and "no longer yours" in forged.content.decode()
    assert not CallAttempt.objects.exists()
    assert CallTask.objects.get(pk=pk).claimed_by == carol


def test_the_agent_is_told_when_a_supervisor_gives_their_call_to_someone_else(client, moscow, agent, supervisor):
    # given
    make_call_task(moscow)
    carol = factories.make_user("carol", "agent", dealerships=(moscow,))
    carol.first_name, carol.last_name = "Carol", "King"
    carol.save()
    bosses = Client()
    bosses.force_login(supervisor)
    client.force_login(agent)
    with time_machine.travel(NOW, tick=False):
        pk, _proof = _open_next_call(client)
        # when
        bosses.post(reverse("contacts:reassign", args=[pk]), {"agent": carol.pk})
        told = _heartbeat(client, pk)
    # then
    assert "A supervisor gave this call to Carol King." in told
    assert CallTask.objects.get(pk=pk).assigned_to == carol
