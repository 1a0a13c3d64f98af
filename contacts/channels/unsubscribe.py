"""Workflow: the unsubscribe link in every e-mail records a refusal of that channel for the message's
purpose (a sales offer's link stops sales offers by e-mail, not the service reminders), or, when the
customer chooses it on the page, of every e-mail; no login.

The link carries a signed token (django.core.signing under SECRET_KEY) naming the customer, the
channel and the purpose; it does not expire, since an old e-mail's link must still work (a link made
before purposes existed names none, and stops every e-mail).

The refusal goes through contacts.calls.set_do_not_contact (customers.refusals), which records the
consent and cancels what is pending of it at once.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse

from contacts.calls import set_do_not_contact
from customers.models import Customer, Purpose, RefusalSource

SALT = "contacts.channels.unsubscribe"


def unsubscribe_token(*, customer_id: int, channel: str, purpose: str | None = None) -> str:
    data: dict[str, object] = {"customer": customer_id, "channel": channel}
    if purpose:
        data["purpose"] = purpose
    return signing.dumps(data, salt=SALT, compress=True)


def unsubscribe_url(*, customer_id: int, channel: str, purpose: str | None = None) -> str:
    token = unsubscribe_token(customer_id=customer_id, channel=channel, purpose=purpose)
    path = reverse("channels:unsubscribe", kwargs={"token": token})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def read_token(token: str) -> tuple[Customer, str, str | None] | None:
    """The customer, channel and purpose (None: every purpose) a token names; None for a forged or
    broken one, or a deleted customer."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("channel") != "email" or not isinstance(data.get("customer"), int):
        return None
    purpose = data.get("purpose")
    if purpose is not None and purpose not in Purpose.values:
        return None
    customer = Customer.objects.filter(pk=data["customer"]).first()
    return (customer, data["channel"], purpose) if customer is not None else None


def unsubscribe(*, customer: Customer, channel: str, now: dt.datetime, purpose: str | None = None) -> None:
    """Refuse ``channel`` for ``purpose`` (None or ALL: every message on it)."""
    purposes = None if purpose is None or purpose == Purpose.ALL else [purpose]
    with transaction.atomic():
        set_do_not_contact(customer=customer, channels=[channel], now=now, reason="unsubscribe link",
                           purposes=purposes, source=RefusalSource.UNSUBSCRIBE)
