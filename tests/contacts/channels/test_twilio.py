"""The Twilio adapter against a local HTTP server that speaks Twilio's Messages API."""

from __future__ import annotations

import pytest

from tests import factories
from tests.contacts.channels.conftest import NOON, send_at
from tests.contacts.factories import DAY, make_outbox_message

pytestmark = pytest.mark.django_db


def test_an_sms_goes_to_twilio_with_a_status_callback_and_keeps_its_sid(moscow, twilio_server):
    message = make_outbox_message(moscow, send_on=DAY, body="Time for your service.")
    send_at(NOON)
    [(path, fields, headers)] = twilio_server.requests
    assert path == f"/2010-04-01/Accounts/{'AC' + '0' * 32}/Messages.json"
    assert (fields["To"], fields["From"], fields["Body"]) == (message.recipient, "+15005550006", "Time for your service.")
    assert fields["StatusCallback"].startswith("http://127.0.0.1:8000/channels/delivery/twilio/")
    message.refresh_from_db()
    assert (message.status, message.provider, message.provider_message_id) == ("sent", "twilio", f"SM{1:032x}")


def test_an_invalid_number_fails_and_marks_the_phone_bad(moscow, twilio_server):
    customer = factories.CustomerFactory(dealership=moscow, phone="+79990001122")
    message = make_outbox_message(moscow, send_on=DAY, customer=customer)
    send_at(NOON)
    message.refresh_from_db()
    customer.refresh_from_db()
    assert (message.status, message.error) == ("failed", "Twilio: the 'To' number is not a valid phone number")
    assert customer.phone_unreachable_since == DAY


def test_a_wrong_auth_token_waits_and_is_retried(moscow, twilio_server, settings):
    settings.TWILIO_AUTH_TOKEN = "wrong"
    message = make_outbox_message(moscow, send_on=DAY)
    send_at(NOON)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.error.startswith("Twilio: authentication failed")
