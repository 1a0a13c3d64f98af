"""The e-mail channel against a real SMTP server the test starts (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import email
from email import policy

import pytest
from django.urls import reverse

from contacts.models import OutboxMessage
from customers.models import Consent
from tests import factories
from tests.contacts.channels.conftest import NOON, REFUSED_ADDRESS, free_port, send_at
from tests.contacts.factories import DAY, make_outbox_message

pytestmark = pytest.mark.django_db


def test_an_email_goes_out_in_the_customers_language_from_the_dealership_with_an_unsubscribe_link(moscow, smtp_server):
    # given
    message = make_outbox_message(moscow, send_on=DAY, code="accessories", body="Иван, новые аксессуары для Kia Rio.")
    # when
    sent = send_at(NOON)
    # then
    assert sent == 1
    message.refresh_from_db()
    assert (message.status, message.provider, message.attempts) == ("sent", "email", 1)
    assert message.provider_message_id == f"<clm-{message.pk}@kia-yug.ru>"
    [envelope] = smtp_server.messages
    assert envelope.rcpt_tos == ["ivan@example.ru"]
    mail = email.message_from_bytes(envelope.content, policy=policy.default)
    assert mail["From"] == "Москва-Юг <service@kia-yug.ru>"
    assert mail["Message-ID"] == message.provider_message_id
    assert str(mail["Subject"]).strip() == "Москва-Юг: Предложение аксессуаров и защиты"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Иван, новые аксессуары для Kia Rio." in text and "Иван, новые аксессуары для Kia Rio." in html
    assert "Отписаться от этих писем" in text and "Отписаться от этих писем" in html
    link = str(mail["List-Unsubscribe"]).strip().strip("<>")
    assert link in text and link.startswith("http://127.0.0.1:8000/channels/unsubscribe/")
    assert str(mail["List-Unsubscribe-Post"]).strip() == "List-Unsubscribe=One-Click"


def test_an_english_speaking_customer_gets_english(moscow, smtp_server):
    customer = factories.CustomerFactory(dealership=moscow, email="john@example.com", language="en")
    make_outbox_message(moscow, send_on=DAY, code="accessories", customer=customer)
    send_at(NOON)
    mail = email.message_from_bytes(smtp_server.messages[0].content, policy=policy.default)
    assert "Unsubscribe from these e-mails" in mail.get_body(("plain",)).get_content()


def test_a_refused_recipient_fails_the_message_and_marks_the_address_bad_on_the_card(moscow, smtp_server, client, settings):
    # given
    customer = factories.CustomerFactory(dealership=moscow, email=REFUSED_ADDRESS)
    message = make_outbox_message(moscow, send_on=DAY, code="accessories", customer=customer)
    # when
    send_at(NOON)
    # then: no retry of an address the server does not know
    message.refresh_from_db()
    customer.refresh_from_db()
    assert message.status == "failed"
    assert message.error.startswith(f"the mail server refused {REFUSED_ADDRESS}: 550")
    assert customer.email_unreachable_since == DAY
    assert smtp_server.messages == []
    # and the next e-mail to it is not tried at all
    second = make_outbox_message(moscow, send_on=DAY, code="new_models", customer=customer)
    send_at(NOON + dt.timedelta(minutes=10))
    second.refresh_from_db()
    assert (second.status, second.error) == ("failed", "the address was marked bad on 23.11.2026")
    # the customer card says so
    client.force_login(factories.make_user("sue", "supervisor", dealerships=(moscow,)))
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "e-mail unreachable" in page or "e-mail недоступен" in page
    assert f"the mail server refused {REFUSED_ADDRESS}: 550" in page  # the message and why, in its list


def test_a_server_that_is_down_leaves_the_message_queued_and_it_goes_out_after_the_backoff(moscow, smtp_server, settings):
    # given: nothing listens on the configured port
    working_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()
    message = make_outbox_message(moscow, send_on=DAY, code="accessories")
    # when
    send_at(NOON)
    # then
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.next_attempt_at == NOON + dt.timedelta(seconds=60)
    assert message.error.startswith("the mail server cannot be reached")
    # when: ten minutes later, the server is back
    settings.EMAIL_PORT = working_port
    send_at(NOON + dt.timedelta(minutes=10))
    # then
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error) == ("sent", 2, "")
    assert len(smtp_server.messages) == 1


def test_unsubscribe_link_asks_then_records_the_refusal_for_the_messages_purpose_and_cancels_pending_emails(
    moscow, smtp_server, client
):
    # given: the link from a sent offer, another offer waiting for tomorrow, and a service e-mail after it
    message = make_outbox_message(moscow, send_on=DAY, code="accessories")
    waiting = make_outbox_message(moscow, send_on=DAY + dt.timedelta(days=1), code="new_models", customer=message.customer)
    service = make_outbox_message(moscow, send_on=DAY + dt.timedelta(days=1), code="service_reminder",
                                  customer=message.customer, channel="email")
    send_at(NOON)
    mail = email.message_from_bytes(smtp_server.messages[0].content, policy=policy.default)
    path = str(mail["List-Unsubscribe"]).strip().strip("<>").removeprefix("http://127.0.0.1:8000")
    # when: opened (no login), nothing is recorded yet; the page offers this kind of e-mail, or all
    page = client.get(path)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Отписаться от писем на тему: рекламные предложения" in body
    assert 'name="scope" value="all"' in body
    assert not Consent.objects.filter(customer=message.customer).exists()
    # when: confirmed (as a mail client's one-click POST does, with no choice)
    done = client.post(path)
    # then: offers by e-mail stop; the service e-mail still goes
    assert done.status_code == 200
    assert "больше не будет присылать вам письма на тему: рекламные предложения" in done.content.decode()
    consent = Consent.objects.get(customer=message.customer)
    assert (consent.channel, consent.purpose, consent.is_allowed, consent.reason, consent.source) == (
        "email", "marketing", False, "unsubscribe link", "unsubscribe")
    assert OutboxMessage.objects.get(pk=waiting.pk).status == "cancelled"
    assert OutboxMessage.objects.get(pk=service.pk).status == "pending"
    # when: the customer then chooses "all e-mails" on the same page
    client.post(path, {"scope": "all"})
    # then
    assert list(Consent.objects.filter(customer=message.customer).values_list("purpose", "is_allowed")) == [("all", False)]
    assert OutboxMessage.objects.get(pk=service.pk).status == "cancelled"


def test_an_unsubscribe_link_made_before_purposes_stops_every_email(moscow, client):
    from contacts.channels.unsubscribe import unsubscribe_url

    customer = factories.CustomerFactory(dealership=moscow, email="old@example.ru")
    path = unsubscribe_url(customer_id=customer.pk, channel="email").removeprefix("http://127.0.0.1:8000")
    assert "Отписаться от этих писем" in client.get(path).content.decode()
    client.post(path)
    assert list(Consent.objects.filter(customer=customer).values_list("channel", "purpose", "is_allowed")) == [
        ("email", "all", False)]


def test_a_forged_unsubscribe_token_changes_nothing(moscow, client):
    customer = factories.CustomerFactory(dealership=moscow)
    response = client.post(reverse("channels:unsubscribe", args=[f"{customer.pk}:forged"]))
    assert response.status_code == 400
    assert not Consent.objects.exists()
