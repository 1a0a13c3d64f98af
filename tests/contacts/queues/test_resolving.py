"""Step one of the build (contacts.queues.resolving): do-not-contact and holdout verdicts, the
customer's row lock against a refusal, and a household that fails on its own."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from contacts.audit import audit_stored_contacts
from contacts.models import CallTask, OutboxMessage, QueueBuild, Touchpoint
from contacts.queues import build_queue
from customers.models import Consent
from tests.contacts.queues.helpers import (
    DAY,
    NOW,
    _build_in_a_thread,
    _customer_due_for_service,
    _wait_until_a_backend_waits_for_a_lock,
)

pytestmark = pytest.mark.django_db


def test_do_not_call_customer_gets_no_call(moscow):
    # given
    customer = _customer_due_for_service(moscow)
    Consent.objects.create(customer=customer, channel="call", is_allowed=False, changed_at=NOW, reason="asked")
    # when
    build_queue(dealership=moscow, day=DAY, now=NOW)
    # then
    assert not CallTask.objects.filter(customer=customer).exists()
    assert Touchpoint.objects.filter(customer=customer, resolution="do_not_contact:call").exists()


def test_holdout_customer_gets_no_planned_contact(moscow):
    customer = _customer_due_for_service(moscow, is_holdout=True)
    build_queue(dealership=moscow, day=DAY, now=NOW)
    assert not CallTask.objects.filter(customer=customer).exists()
    assert not OutboxMessage.objects.filter(customer=customer).exists()
    assert Touchpoint.objects.filter(customer=customer, status="suppressed", resolution="holdout").exists()


@pytest.mark.django_db(transaction=True)
def test_a_do_not_call_recorded_while_the_build_runs_leaves_no_call(moscow):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL")
    from contacts.calls import set_do_not_contact
    from customers.models import Customer

    # given: two customers due for a call; an agent is recording a do-not-call for the first one
    refusing, other = _customer_due_for_service(moscow), _customer_due_for_service(moscow)
    errors: list[BaseException] = []
    thread = _build_in_a_thread(moscow, errors)

    with transaction.atomic():
        Customer.objects.select_for_update().get(pk=refusing.pk)
        # when: the build reaches the customer while the refusal is being written
        thread.start()
        assert _wait_until_a_backend_waits_for_a_lock(), f"the build never waited for the customer's row {errors}"
        set_do_not_contact(customer=refusing, channels=["call"], now=NOW, reason="asked during a build")
    thread.join(timeout=60)
    # then: no call for the customer who refused, the other one is called
    assert errors == []
    assert not CallTask.objects.filter(customer=refusing).exclude(status="cancelled").exists()
    assert CallTask.objects.filter(customer=other, scheduled_on=DAY).exists()
    assert audit_stored_contacts()["violations"]["do_not_contact"] == 0


def test_a_household_that_cannot_be_resolved_is_recorded_and_the_rest_is_built(moscow, monkeypatch):
    # given: three customers due, and the resolver failing on the second one's household
    from contacts.models import Problem
    from contacts.queues import resolving

    customers = [_customer_due_for_service(moscow) for _ in range(3)]
    broken = customers[1].id
    real = resolving.resolve_household

    def failing(**kwargs):
        if broken in kwargs["members"]:
            raise ValueError("window arithmetic overflowed")
        return real(**kwargs)

    monkeypatch.setattr(resolving, "resolve_household", failing)
    # when
    build_queue(dealership=moscow, day=DAY, now=NOW)
    # then: the day is built for the others, and the failure is on record for a supervisor
    assert QueueBuild.objects.get(dealership=moscow, day=DAY).finished_at is not None
    assert set(CallTask.objects.values_list("customer_id", flat=True)) == {customers[0].id, customers[2].id}
    problem = Problem.objects.get()
    assert (problem.stage, problem.day, problem.subject, problem.customer_id) == ("build", DAY, f"household:{broken}", broken)
    assert "window arithmetic overflowed" in problem.error
