"""Step two of the build (contacts.queues.issuing): capacity picks the calls, and a call that
cannot be written fails on its own."""

from __future__ import annotations

import pytest

from contacts.models import CallTask, ContactRules, QueueBuild, Touchpoint
from contacts.queues import build_queue
from tests.contacts.queues.helpers import (
    DAY,
    NOW,
    _customer_due_for_service,
)

pytestmark = pytest.mark.django_db


def test_capacity_moves_the_overflow_to_later_days_with_a_reason(moscow):
    # given: capacity of one call (1 agent x 1 call)
    ContactRules.objects.update_or_create(dealership=moscow, defaults={"calls_per_agent": 1, "default_agents_on_shift": 1})
    customers = [_customer_due_for_service(moscow) for _ in range(3)]
    # when
    counts = build_queue(dealership=moscow, day=DAY, now=NOW)
    # then
    assert CallTask.objects.filter(scheduled_on=DAY).count() == 1
    assert counts.over_capacity == 2
    moved = Touchpoint.objects.filter(customer__in=customers, resolution="deferred:capacity")
    assert moved.count() >= 2
    assert all(tp.status == "planned" for tp in moved)


def test_a_call_that_cannot_be_written_is_recorded_and_the_other_calls_are_issued(moscow, monkeypatch):
    # given: the script of one customer's call fails to render
    from contacts.models import Problem
    from contacts.queues import rendering

    customers = [_customer_due_for_service(moscow) for _ in range(3)]
    broken = customers[0].id
    real = rendering.call_task_for

    def failing(**kwargs):
        if kwargs["customer"].id == broken:
            raise KeyError("forecast")
        return real(**kwargs)

    monkeypatch.setattr(rendering, "call_task_for", failing)
    # when
    build_queue(dealership=moscow, day=DAY, now=NOW)
    # then
    assert QueueBuild.objects.get(dealership=moscow, day=DAY).finished_at is not None
    assert set(CallTask.objects.values_list("customer_id", flat=True)) == {customers[1].id, customers[2].id}
    assert Problem.objects.get().subject == f"customer:{broken}"
    # and its touchpoints stay planned: tomorrow's build tries again
    assert not Touchpoint.objects.filter(customer_id=broken, status=Touchpoint.Status.ISSUED).exists()
