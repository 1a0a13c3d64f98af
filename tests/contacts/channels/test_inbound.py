"""Customers' SMS replies through the signed inbound webhook: refusals and mileage readings."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
import time_machine
from django.urls import reverse

from contacts.core.replies import Reply, ReplyKind, read_reply
from contacts.models import CallTask, OutboxMessage, Touchpoint
from customers.models import Consent, OdometerReading
from tests import factories
from tests.contacts.factories import DAY, make_outbox_message

SECRET = "inbound-test-secret"
NOON = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.INBOUND_SMS_SECRET = SECRET


def post_reply(client, phone: str, text: str, *, secret: str = SECRET):
    body = json.dumps({"from": phone, "text": text}, ensure_ascii=False).encode("utf-8")
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    with time_machine.travel(NOON, tick=False):
        return client.post(reverse("channels:inbound_sms"), body, content_type="application/json",
                           headers={"X-CLM-Signature": signature})


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["STOP", "Стоп", "Пожалуйста, не присылайте мне больше ничего"])
def test_a_stop_reply_refuses_sms_and_cancels_pending_messages(moscow, client, text):
    # given
    waiting = make_outbox_message(moscow, send_on=DAY + dt.timedelta(days=2))
    customer = waiting.customer
    # when
    response = post_reply(client, customer.phone, text)
    # then
    assert response.json() == {"outcome": "refused", "customers": [customer.pk], "detail": ""}
    consent = Consent.objects.get(customer=customer)
    assert (consent.channel, consent.is_allowed) == ("sms", False)
    assert OutboxMessage.objects.get(pk=waiting.pk).status == "cancelled"
    assert Touchpoint.objects.get(pk=waiting.touchpoint_id).resolution == "do_not_contact:sms"


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["45 000 km", "пробег 45000", "45000 км", "45 000"])
def test_a_mileage_reply_becomes_an_sms_reading_of_the_customers_car(moscow, client, text, django_capture_on_commit_callbacks):
    sale = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2023, 11, 1))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_reply(client, sale.customer.phone, text)
    assert response.json()["outcome"] == "reading_recorded"
    reading = OdometerReading.objects.get(vehicle=sale.vehicle)
    assert (reading.odometer_km, reading.source, reading.read_on) == (45000, "sms", DAY)
    assert len(callbacks) == 1  # the re-plan of the car, queued on commit


@pytest.mark.django_db
def test_a_mileage_from_a_customer_with_two_cars_asks_which_car(moscow, client):
    customer = factories.CustomerFactory(dealership=moscow)
    factories.SaleFactory(vehicle__owner=customer)
    factories.SaleFactory(vehicle__owner=customer)
    response = post_reply(client, customer.phone, "45000 км")
    assert response.json()["outcome"] == "which_car"
    assert not OdometerReading.objects.exists()
    # an agent calls to ask which car
    task = CallTask.objects.get(customer=customer)
    assert task.agenda[0]["why"] == "23.11.2026: «45000 км»"


@pytest.mark.django_db
def test_any_other_reply_becomes_a_call_for_an_agent_with_the_text(moscow, client):
    # given: Saturday 21 November; the call goes on Monday, first in the queue
    customer = factories.CustomerFactory(dealership=moscow)
    body = json.dumps({"from": customer.phone, "text": "Можно перенести ТО на пятницу?"}, ensure_ascii=False).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    with time_machine.travel(dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC), tick=False):
        response = client.post(reverse("channels:inbound_sms"), body, content_type="application/json",
                               headers={"X-CLM-Signature": signature})
    # when: a second reply comes on Monday morning
    post_reply(client, customer.phone, "И ещё: стучит подвеска")
    # then
    assert response.json()["outcome"] == "other"
    task = CallTask.objects.get(customer=customer)
    assert (task.kind, task.is_requested, task.scheduled_on, task.priority) == ("callback", True, DAY, 0)
    assert task.agenda[0]["title"] == "Ответ по SMS"
    assert task.script == ("## Ответ по SMS\n21.11.2026: «Можно перенести ТО на пятницу?»"
                           "\n23.11.2026: «И ещё: стучит подвеска»")


@pytest.mark.django_db
def test_a_customer_who_refused_calls_gets_no_call_about_a_reply(moscow, client):
    customer = factories.CustomerFactory(dealership=moscow)
    Consent.objects.create(customer=customer, channel="call", is_allowed=False, changed_at=NOON, reason="no calls")
    assert post_reply(client, customer.phone, "Спасибо").json()["outcome"] == "other"
    assert not CallTask.objects.exists()


@pytest.mark.django_db
def test_an_unsigned_or_wrongly_signed_reply_changes_nothing(moscow, client):
    customer = factories.CustomerFactory(dealership=moscow)
    assert post_reply(client, customer.phone, "STOP", secret="guess").status_code == 403
    assert client.post(reverse("channels:inbound_sms"), {"from": customer.phone, "text": "STOP"}).status_code == 403
    assert not Consent.objects.exists()


@pytest.mark.django_db
def test_a_reply_from_an_unknown_number_is_said_so(client):
    assert post_reply(client, "+79160000099", "STOP").json()["outcome"] == "unknown_sender"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP", Reply(ReplyKind.STOP)),
        ("стоп 45000", Reply(ReplyKind.STOP)),
        ("Не пишите мне", Reply(ReplyKind.STOP)),
        ("45 000 km", Reply(ReplyKind.MILEAGE, 45000)),
        ("пробег 45.000 км", Reply(ReplyKind.MILEAGE, 45000)),
        ("45 тыс км", Reply(ReplyKind.MILEAGE, 45000)),
        ("120000", Reply(ReplyKind.MILEAGE, 120000)),
        ("Спасибо, приеду в среду", Reply(ReplyKind.OTHER)),
        ("у меня 2 машины, 45000 и 80000 км", Reply(ReplyKind.OTHER)),
        ("перезвоните после 18", Reply(ReplyKind.OTHER)),
    ],
)
def test_read_reply(text, expected):
    assert read_reply(text) == expected


def post_email(client, raw: bytes):
    signature = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    with time_machine.travel(NOON, tick=False):
        return client.post(reverse("channels:inbound_email"), raw, content_type="message/rfc822",
                           headers={"X-CLM-Signature": signature})


REPLY = """From: =?utf-8?b?0JjQstCw0L0=?= <Ivan@Example.ru>
To: service@kia-yug.ru
Subject: Re: =?utf-8?b?0JzQvtGB0LrQstCwLdCu0LM=?=
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

{answer}

23.11.2026, 12:00, Москва-Юг написал:
> Иван, напоминаем о ТО. Ответьте пробегом.
""".replace("\n", "\r\n")


@pytest.mark.django_db
@pytest.mark.parametrize(("answer", "outcome"), [("Отпишите меня, пожалуйста", "refused"), ("Пробег 45 000 км", "reading_recorded")])
def test_an_email_reply_is_read_like_an_sms_reply_without_its_quoted_history(moscow, client, answer, outcome):
    sale = factories.SaleFactory(vehicle__owner__dealership=moscow, vehicle__owner__email="ivan@example.ru",
                                 sold_on=dt.date(2023, 11, 1))
    response = post_email(client, REPLY.format(answer=answer).encode("utf-8"))
    assert response.json()["outcome"] == outcome
    if outcome == "refused":
        assert Consent.objects.get(customer=sale.customer).channel == "email"
    else:
        assert OdometerReading.objects.get(vehicle=sale.vehicle).odometer_km == 45000


@pytest.mark.django_db
def test_an_unsigned_email_reply_changes_nothing(moscow, client):
    factories.CustomerFactory(dealership=moscow, email="ivan@example.ru")
    response = client.post(reverse("channels:inbound_email"), REPLY.format(answer="STOP").encode(), content_type="message/rfc822")
    assert response.status_code == 403
    assert not Consent.objects.exists()
