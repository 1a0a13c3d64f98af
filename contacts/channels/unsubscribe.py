"""Workflow: the unsubscribe link in every e-mail records a refusal of that channel, with no login.

The link carries a signed token (django.core.signing under SECRET_KEY) naming the customer and the
channel; it does not expire, since an old e-mail's link must still work.

Until the shared refusal workflow lands, the refusal goes through contacts.calls.set_do_not_contact,
which records the consent and cancels what is pending on that channel at once.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse

from contacts.calls import set_do_not_contact
from customers.models import Customer

SALT = "contacts.channels.unsubscribe"


def unsubscribe_token(*, customer_id: int, channel: str) -> str:
    return signing.dumps({"customer": customer_id, "channel": channel}, salt=SALT, compress=True)


def unsubscribe_url(*, customer_id: int, channel: str) -> str:
    path = reverse("channels:unsubscribe", kwargs={"token": unsubscribe_token(customer_id=customer_id, channel=channel)})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def read_token(token: str) -> tuple[Customer, str] | None:
    """The customer and channel a token names; None for a forged or broken one, or a deleted customer."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("channel") != "email" or not isinstance(data.get("customer"), int):
        return None
    customer = Customer.objects.filter(pk=data["customer"]).first()
    return (customer, data["channel"]) if customer is not None else None


def unsubscribe(*, customer: Customer, channel: str, now: dt.datetime) -> None:
    with transaction.atomic():
        set_do_not_contact(customer=customer, channels=[channel], now=now, reason="unsubscribe link")
