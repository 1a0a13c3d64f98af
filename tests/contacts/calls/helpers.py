"""What the tests of contacts.calls share: the clock, and claiming or recording in one line."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache

from contacts import calls
from contacts.models import CallTask, TouchpointTemplate
from tests.contacts.factories import make_call_task

# Monday 2026-11-23, 11:00 in Moscow (UTC+3): inside call hours.
NOW = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
MSK = dt.timezone(dt.timedelta(hours=3))


@pytest.fixture(autouse=True)
def fresh_cache():
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


def template(code):
    return TouchpointTemplate.objects.get(code=code)
