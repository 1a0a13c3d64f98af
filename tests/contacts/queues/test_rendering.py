"""What agents read and customers receive (contacts.queues.rendering): the why of a call in the
agent's language and the day's rendered message."""

from __future__ import annotations

import datetime as dt

import pytest

from contacts.models import OutboxMessage, Touchpoint
from contacts.queues import build_queue
from tests import factories
from tests.contacts.queues.helpers import (
    DAY,
    NOW,
)

pytestmark = pytest.mark.django_db


def test_why_this_call_is_said_in_the_agents_language():
    from django.utils import translation

    from contacts.queues import why

    detail = {"due_on": "2026-12-03", "km_per_month": "1420.4", "maintenance_number": "2"}
    with translation.override("en"):
        assert why("x", detail) == "maintenance due 2026-12-03 (TO-2), predicted from 1420 km a month"
    with translation.override("ru"):
        assert why("x", detail) == "ТО-2 ожидается 2026-12-03, прогноз по пробегу 1420 км в месяц"


def test_the_build_writes_the_days_message_with_its_rendered_text(moscow):
    # given: a customer whose birthday greeting falls on the build day, nothing else open
    from contacts.models import TouchpointTemplate

    owner = factories.CustomerFactory(dealership=moscow, first_name="Анна", birthday=dt.date(1985, 11, 23), language="ru")
    vehicle = factories.SaleFactory(vehicle__owner=owner, sold_on=dt.date(2024, 6, 1)).vehicle
    greeting = Touchpoint.objects.create(
        vehicle=vehicle, customer=owner, template=TouchpointTemplate.objects.get(code="birthday"),
        cycle_start=dt.date(2024, 6, 1), occurrence=1, due_on=DAY, window_start=DAY, window_end=DAY, reason="birthday",
    )
    # when
    counts = build_queue(dealership=moscow, day=DAY, now=NOW)
    # then: one message in the outbox, for today, to the customer's phone, rendered in Russian
    message = OutboxMessage.objects.get(touchpoint=greeting)
    assert counts.messages == 1
    assert (message.send_on, message.channel, message.recipient, message.status) == (DAY, "sms", owner.phone, "pending")
    assert "Анна" in message.body and "{{" not in message.body
    greeting.refresh_from_db()
    assert greeting.status == Touchpoint.Status.ISSUED
