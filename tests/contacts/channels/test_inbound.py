"""Customers' SMS and e-mail replies through the signed inbound webhooks: refusals (of the purpose of the
message answered, or of the whole channel) and mileage readings (of the car the reply names)."""

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
def test_a_stop_reply_with_no_message_answered_refuses_sms_and_cancels_pending_messages(moscow, client, text):
    # given: nothing was sent to the customer yet, so the STOP cannot answer a message's purpose
    waiting = make_outbox_message(moscow, send_on=DAY + dt.timedelta(days=2))
    customer = waiting.customer
    # when
    response = post_reply(client, customer.phone, text)
    # then: the whole channel is refused
    assert response.json() == {"outcome": "refused", "customers": [customer.pk], "detail": "all"}
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
        ("STOP ALL", Reply(ReplyKind.STOP, is_whole_channel=True)),
        ("СТОП ВСЁ", Reply(ReplyKind.STOP, is_whole_channel=True)),
        ("Стоп все", Reply(ReplyKind.STOP, is_whole_channel=True)),
        ("не присылайте мне больше ничего", Reply(ReplyKind.STOP, is_whole_channel=True)),
        ("Rio: 45 000", Reply(ReplyKind.OTHER)),
        (": 45 000", Reply(ReplyKind.MILEAGE, 45000)),
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


# --- STOP refuses the purpose of the message answered; STOP ALL the channel ---------------------------


def sent_message(moscow, customer, *, code: str, channel: str = "sms", at: dt.datetime = NOON - dt.timedelta(hours=2)):
    """A message of the template ``code`` that went out to the customer at ``at``."""
    message = make_outbox_message(moscow, send_on=DAY, code=code, customer=customer, channel=channel)
    OutboxMessage.objects.filter(pk=message.pk).update(status="sent", sent_at=at)
    return message


def refusals(customer, channel="sms"):
    return sorted(Consent.objects.filter(customer=customer, channel=channel).values_list("purpose", "is_allowed"))


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["STOP", "СТОП", "не присылайте"])
def test_a_stop_to_an_offer_refuses_offers_by_sms_and_keeps_the_service_reminders(moscow, client, text):
    # given: a service reminder last week, a sales offer this morning, and one of each still to go
    customer = factories.CustomerFactory(dealership=moscow, email="ivan@example.ru")
    sent_message(moscow, customer, code="service_reminder", at=NOON - dt.timedelta(days=7))
    sent_message(moscow, customer, code="accessories")
    next_offer = make_outbox_message(moscow, send_on=DAY + dt.timedelta(days=2), code="new_models", customer=customer,
                                     channel="sms")
    next_reminder = make_outbox_message(moscow, send_on=DAY + dt.timedelta(days=2), code="tyre_season", customer=customer,
                                        channel="sms")
    # when: the customer answers the offer
    response = post_reply(client, customer.phone, text)
    # then: offers by SMS are refused, service reminders by SMS and offers by e-mail are not
    assert response.json() == {"outcome": "refused", "customers": [customer.pk], "detail": "marketing"}
    assert refusals(customer) == [("marketing", False)]
    customer.refresh_from_db()
    assert not customer.allows("sms", "marketing")
    assert customer.allows("sms", "service") and customer.allows("email", "marketing")
    assert OutboxMessage.objects.get(pk=next_offer.pk).status == "cancelled"
    assert OutboxMessage.objects.get(pk=next_reminder.pk).status == "pending"


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["STOP ALL", "СТОП ВСЁ", "стоп все"])
def test_stop_all_refuses_every_sms_whatever_the_message_answered(moscow, client, text):
    # given
    customer = factories.CustomerFactory(dealership=moscow)
    sent_message(moscow, customer, code="accessories")
    next_reminder = make_outbox_message(moscow, send_on=DAY + dt.timedelta(days=2), code="tyre_season", customer=customer,
                                        channel="sms")
    # when
    response = post_reply(client, customer.phone, text)
    # then
    assert response.json()["detail"] == "all"
    assert refusals(customer) == [("all", False)]
    customer.refresh_from_db()
    assert "sms" in customer.blocked_channels()
    assert OutboxMessage.objects.get(pk=next_reminder.pk).status == "cancelled"


@pytest.mark.django_db
def test_a_stop_by_email_refuses_the_purpose_of_the_email_it_answers(moscow, client):
    # given: a survey e-mail, then an offer e-mail; the customer answers the survey's
    customer = factories.CustomerFactory(dealership=moscow, email="ivan@example.ru")
    survey = sent_message(moscow, customer, code="post_service_csi", channel="email", at=NOON - dt.timedelta(days=3))
    sent_message(moscow, customer, code="accessories", channel="email")
    raw = REPLY.format(answer="STOP").replace(
        "Subject:", f"In-Reply-To: <clm-{survey.pk}@kia-yug.ru>\r\nReferences: <clm-{survey.pk}@kia-yug.ru>\r\nSubject:", 1)
    # when
    response = post_email(client, raw.encode("utf-8"))
    # then: surveys by e-mail are refused, not the offers of the latest e-mail
    assert response.json()["detail"] == "survey"
    assert refusals(customer, "email") == [("survey", False)]


# --- a mileage from a customer with several cars, naming the car ------------------------------------


@pytest.fixture
def two_cars(moscow):
    customer = factories.CustomerFactory(dealership=moscow)
    rio = factories.SaleFactory(vehicle__owner=customer, vehicle__make="Kia", vehicle__model="Rio",
                                vehicle__plate="А123ВС77", sold_on=dt.date(2023, 11, 1)).vehicle
    creta = factories.SaleFactory(vehicle__owner=customer, vehicle__make="Hyundai", vehicle__model="Creta",
                                  vehicle__plate="Х777ХХ199", sold_on=dt.date(2023, 11, 1)).vehicle
    return customer, rio, creta


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "car"), [("Rio 45 000", "rio"), ("Крета: пробег 45000", None), ("creta 45000 км", "creta"),
                                           ("a123bc 45 000 км", "rio"), ("Х777ХХ199 - 45000", "creta"),
                                           ("Hyundai 45000", "creta")])
def test_a_mileage_that_names_one_of_several_cars_is_recorded_for_that_car(two_cars, client, text, car):
    customer, rio, creta = two_cars
    response = post_reply(client, customer.phone, text)
    if car is None:  # a model in Cyrillic letters is not recognised: an agent asks
        assert response.json()["outcome"] == "which_car"
        assert not OdometerReading.objects.exists()
        return
    assert response.json()["outcome"] == "reading_recorded"
    vehicle = {"rio": rio, "creta": creta}[car]
    assert list(OdometerReading.objects.values_list("vehicle", "odometer_km", "source")) == [(vehicle.pk, 45000, "sms")]
    assert not CallTask.objects.filter(customer=customer).exists()


@pytest.mark.django_db
def test_a_mileage_naming_a_model_two_of_the_cars_have_goes_to_an_agent(moscow, client):
    customer = factories.CustomerFactory(dealership=moscow)
    for plate in ("А111АА77", "В222ВВ77"):
        factories.SaleFactory(vehicle__owner=customer, vehicle__model="Rio", vehicle__plate=plate)
    response = post_reply(client, customer.phone, "Rio 45000")
    assert response.json()["outcome"] == "other"  # "Rio" tells neither Rio apart: an agent reads it and asks
    assert not OdometerReading.objects.exists()
    assert CallTask.objects.get(customer=customer).agenda[0]["why"] == "23.11.2026: «Rio 45000»"
