"""Delivery reports from the providers' callbacks move a sent message to delivered, failed or bounced."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from contacts.channels import twilio
from contacts.channels.delivery import callback_token, callback_url
from contacts.models import OutboxMessage
from tests.contacts.factories import DAY, make_outbox_message

pytestmark = pytest.mark.django_db


def sent_message(dealership, provider: str, provider_id: str) -> OutboxMessage:
    message = make_outbox_message(dealership, send_on=DAY)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status="sent", provider=provider, provider_message_id=provider_id,
        sent_at=dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC),
    )
    return message


def report(client, provider: str, data: dict[str, str], token: str | None = None, twilio_signature: str | None = None):
    url = reverse("channels:delivery", kwargs={"provider": provider, "token": token or callback_token(provider)})
    if provider == "twilio" and twilio_signature is None:
        twilio_signature = twilio.signature(callback_url("twilio"), data)
    return client.post(url, data, headers={"X-Twilio-Signature": twilio_signature} if twilio_signature else {})


@pytest.fixture(autouse=True)
def _twilio_token(settings):
    settings.TWILIO_AUTH_TOKEN = "twilio-token"


@pytest.mark.parametrize(
    ("status", "expected", "phone_marked"),
    # 1, 4 delivered, 3 expired, 0 at the operator, -1 waiting: https://smscentre.com/api/http/status_messages/statuses/
    # 22 (wrong number) is not yet checked against SMSC's pages (see contacts/channels/smsc.py)
    [("1", "delivered", False), ("4", "delivered", False), ("3", "failed", False), ("22", "bounced", True),
     ("0", "sent", False), ("-1", "sent", False)],
)
def test_smsc_reports(moscow, client, status, expected, phone_marked):
    message = sent_message(moscow, "smsc", "clm-77")
    response = report(client, "smsc", {"id": "clm-77", "phone": message.recipient.lstrip("+"), "status": status})
    assert (response.status_code, response.content) == (200, b"OK")
    message.refresh_from_db()
    assert message.status == expected
    message.customer.refresh_from_db()
    assert (message.customer.phone_unreachable_since is not None) is phone_marked


def test_a_report_that_comes_before_the_sender_recorded_the_id_still_finds_the_message(moscow, client):
    message = make_outbox_message(moscow, send_on=DAY)
    OutboxMessage.objects.filter(pk=message.pk).update(status="reserved", provider="smsc")
    report(client, "smsc", {"id": f"clm-{message.pk}", "status": "1"})
    assert OutboxMessage.objects.get(pk=message.pk).status == "delivered"


def test_twilio_reports(moscow, client):
    delivered = sent_message(moscow, "twilio", "SM1")
    bounced = sent_message(moscow, "twilio", "SM2")
    report(client, "twilio", {"MessageSid": "SM1", "MessageStatus": "delivered"})
    report(client, "twilio", {"MessageSid": "SM2", "MessageStatus": "undelivered", "ErrorCode": "30003"})
    delivered.refresh_from_db()
    bounced.refresh_from_db()
    assert (delivered.status, bounced.status, bounced.error) == ("delivered", "bounced", "Twilio 30003: unreachable handset")
    # a late "sent" after "delivered" changes nothing
    report(client, "twilio", {"MessageSid": "SM1", "MessageStatus": "sent"})
    assert OutboxMessage.objects.get(pk=delivered.pk).status == "delivered"


def test_a_callback_without_the_right_token_is_refused(moscow, client):
    message = sent_message(moscow, "smsc", "clm-5")
    response = report(client, "smsc", {"id": "clm-5", "status": "1"}, token="0" * 32)
    assert response.status_code == 404
    assert OutboxMessage.objects.get(pk=message.pk).status == "sent"
    assert report(client, "smsc", {"status": "1"}).status_code == 400


def test_a_twilio_callback_without_twilios_signature_is_refused(moscow, client):
    message = sent_message(moscow, "twilio", "SM9")
    response = report(client, "twilio", {"MessageSid": "SM9", "MessageStatus": "delivered"}, twilio_signature="forged")
    assert response.status_code == 403
    assert OutboxMessage.objects.get(pk=message.pk).status == "sent"


def test_twilio_signature_matches_twilios_documented_example(settings):
    # The example of Twilio's webhook-security page: this URL, these fields, auth token 12345.
    settings.TWILIO_AUTH_TOKEN = "12345"
    fields = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234", "From": "+12349013030",
              "To": "+18005551212"}
    assert twilio.signature("https://mycompany.com/myapp.php?foo=1&bar=2", fields) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
