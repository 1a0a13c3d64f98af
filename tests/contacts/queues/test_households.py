"""Customers grouped by phone (contacts.queues.households): one budget per person across the group."""

from __future__ import annotations

import datetime as dt

import pytest

from contacts.models import CallTask, Touchpoint
from contacts.queues import build_queue
from tests import factories
from tests.contacts.queues.helpers import (
    DAY,
    NOW,
    _customer_due_for_service,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("across", [True, False])
def test_one_person_in_two_dealerships_gets_one_call_a_day(moscow, yekaterinburg, settings, across):
    # given: the same phone at both dealerships, both due for service
    settings.CLM_HOUSEHOLD_ACROSS_DEALERSHIPS = across
    in_moscow = _customer_due_for_service(moscow, phone="+79160000001")
    in_ekb = _customer_due_for_service(yekaterinburg, phone="+79160000001")
    # when: Yekaterinburg's morning comes first, then Moscow's
    build_queue(dealership=yekaterinburg, day=DAY, now=NOW - dt.timedelta(hours=2))
    build_queue(dealership=moscow, day=DAY, now=NOW)
    # then
    called = set(CallTask.objects.filter(scheduled_on=DAY).values_list("customer_id", flat=True))
    if across:
        assert called == {in_ekb.id}
        assert Touchpoint.objects.filter(customer=in_moscow, status="planned").exclude(resolution="").exists()
    else:
        assert called == {in_ekb.id, in_moscow.id}


def test_a_phone_mate_with_nothing_open_still_counts_against_the_households_budget(moscow):
    # given: two customers on one phone; the first was called yesterday and has nothing open now
    from tests.contacts.factories import make_call_task

    first = factories.CustomerFactory(dealership=moscow, phone="+79160000002")
    make_call_task(moscow, customer=first, scheduled_on=DAY - dt.timedelta(days=1), status=CallTask.Status.DONE)
    second = _customer_due_for_service(moscow, phone="+79160000002")
    # when
    build_queue(dealership=moscow, day=DAY, now=NOW)
    # then: the second is not called the day after the first (the gap is per household)
    assert not CallTask.objects.filter(customer=second, scheduled_on=DAY).exists()
