"""The SMSC.ru adapter against a local HTTP server that speaks its documented API."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from contacts import sending
from contacts.channels.smsc import SmscSender
from contacts.models import OutboxMessage
from tests import factories
from tests.contacts.channels.conftest import NOON, UNDELIVERABLE, send_at
from tests.contacts.factories import DAY, make_outbox_message

pytestmark = pytest.mark.django_db


def test_an_sms_goes_to_smsc_with_its_idempotency_key_as_the_message_id(moscow, smsc_server):
    # given
    message = make_outbox_message(moscow, send_on=DAY, body="Иван, пора на ТО-2. Ответьте пробегом.")
    # when
    assert send_at(NOON) == 1
    # then
    [(path, fields, _headers)] = smsc_server.requests
    assert path == "/sys/send.php"
    assert fields == {
        "login": "dealer", "psw": "secret", "phones": message.recipient.lstrip("+"),
        "mes": "Иван, пора на ТО-2. Ответьте пробегом.", "id": f"clm-{message.pk}", "fmt": "3",
        "charset": "utf-8", "sender": "KiaYug",
    }
    message.refresh_from_db()
    assert (message.status, message.provider, message.provider_message_id, message.sent_at) == (
        "sent", "smsc", f"clm-{message.pk}", NOON,
    )


def test_a_number_smsc_cannot_deliver_to_fails_at_once_and_marks_the_phone_bad(moscow, smsc_server):
    customer = factories.CustomerFactory(dealership=moscow, phone="+" + UNDELIVERABLE)
    message = make_outbox_message(moscow, send_on=DAY, customer=customer)
    send_at(NOON)
    message.refresh_from_db()
    customer.refresh_from_db()
    assert (message.status, message.attempts, message.error) == (
        "failed", 1, "SMSC: a message to this number cannot be delivered",
    )
    assert customer.phone_unreachable_since == DAY


def test_wrong_credentials_are_retried_with_backoff_then_given_up_in_plain_words(moscow, smsc_server, settings):
    # given
    settings.SMSC_PASSWORD = "wrong"
    settings.MESSAGE_MAX_ATTEMPTS = 3
    message = make_outbox_message(moscow, send_on=DAY)
    # when: every ten minutes for an hour
    for step in range(6):
        send_at(NOON + dt.timedelta(minutes=10 * step))
    # then: tried at 12:00, 12:10 (after 1 min), 12:20 (after 2 min), then given up
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 3)
    assert message.error == "gave up after 3 attempts: SMSC: wrong login or password (check SMSC_LOGIN and SMSC_PASSWORD)"
    assert len(smsc_server.requests) == 3
    assert message.customer.phone_unreachable_since is None


def test_a_provider_that_is_down_keeps_the_message_queued_until_it_is_back(moscow, smsc_server):
    smsc_server.is_down = True
    message = make_outbox_message(moscow, send_on=DAY)
    send_at(NOON)
    message.refresh_from_db()
    assert (message.status, message.error) == ("pending", "the SMS provider answered HTTP 503")
    smsc_server.is_down = False
    send_at(NOON + dt.timedelta(minutes=10))
    message.refresh_from_db()
    assert message.status == "sent"


def test_a_worker_killed_after_smsc_took_the_message_does_not_send_it_twice(moscow, smsc_server, settings):
    # given: a worker reserved the message and handed it to SMSC, then died before recording it
    message = make_outbox_message(moscow, send_on=DAY)
    OutboxMessage.objects.filter(pk=message.pk).update(status="reserved", reserved_at=NOON, attempts=1, provider="smsc")
    SmscSender().send(message)
    # when: the sender runs again after the reservation timeout (5 minutes)
    send_at(NOON + dt.timedelta(minutes=10))
    # then: SMSC said it has the message; it is recorded sent and not sent again
    message.refresh_from_db()
    assert (message.status, message.provider_message_id, message.sent_at) == ("sent", f"clm-{message.pk}", NOON)
    assert [path for path, _f, _h in smsc_server.requests] == ["/sys/send.php", "/sys/status.php"]
    assert len(smsc_server.state["delivered_texts"]) == 1


def test_a_worker_killed_before_smsc_got_the_message_sends_it_once(moscow, smsc_server):
    message = make_outbox_message(moscow, send_on=DAY)
    OutboxMessage.objects.filter(pk=message.pk).update(status="reserved", reserved_at=NOON, attempts=1, provider="smsc")
    # when: the reservation is settled (SMSC never heard of it), then the message goes out
    with time_machine.travel(NOON + dt.timedelta(minutes=10), tick=False):
        counts = sending.send_due_messages()
    # then
    assert (counts.recovered, counts.sent) == (1, 1)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
    assert len(smsc_server.state["delivered_texts"]) == 1


def test_an_identical_request_repeated_within_a_minute_counts_as_sent(moscow, smsc_server):
    message = make_outbox_message(moscow, send_on=DAY)
    first, second = SmscSender().send(message), SmscSender().send(message)
    assert first == second
    assert len(smsc_server.state["delivered_texts"]) == 1


def test_health_says_in_plain_words_why_messages_wait(moscow, smsc_server, settings, client):
    settings.SMSC_PASSWORD = "wrong"
    make_outbox_message(moscow, send_on=DAY)
    send_at(NOON)
    with time_machine.travel(NOON, tick=False):
        body = client.get("/health/").json()
    assert body["messages"] == {
        "waiting_for_retry": 1,
        "last_failure": "SMSC: wrong login or password (check SMSC_LOGIN and SMSC_PASSWORD)",
        "failed_last_day": {},
        "stuck_mid_send": 0,
    }


def test_a_provider_that_is_down_is_tried_three_times_a_run_not_for_every_message(moscow, smsc_server):
    smsc_server.is_down = True
    messages = [make_outbox_message(moscow, send_on=DAY) for _ in range(10)]
    send_at(NOON)
    assert len(smsc_server.requests) == 3
    attempts = sorted(OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).values_list("attempts", flat=True))
    assert attempts == [0] * 7 + [1] * 3
