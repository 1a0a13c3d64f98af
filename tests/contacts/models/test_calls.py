"""Call tasks in the database (contacts.models.calls): the gap between two calls, enforced by
PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from contacts.models import CallTask
from tests import factories
from tests.contacts.queues.helpers import (
    DAY,
)

pytestmark = pytest.mark.django_db


def test_two_tasks_closer_than_the_gap_are_impossible_on_postgresql(moscow):
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint exists on PostgreSQL")
    customer = factories.CustomerFactory(dealership=moscow)
    fields = {"dealership": moscow, "customer": customer, "window_start": DAY, "window_end": DAY + dt.timedelta(days=14)}
    CallTask.objects.create(scheduled_on=DAY, blocks_until=DAY + dt.timedelta(days=7), **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        CallTask.objects.create(
            scheduled_on=DAY + dt.timedelta(days=3), blocks_until=DAY + dt.timedelta(days=10), **fields
        )
    # a requested callback is allowed
    CallTask.objects.create(
        scheduled_on=DAY + dt.timedelta(days=3), blocks_until=DAY + dt.timedelta(days=10), is_requested=True, **fields
    )
    assert CallTask.objects.filter(customer=customer).count() == 2
