"""Workflow: a provider's delivery report moves a sent message to delivered, failed or bounced.

Reports come to ``/channels/delivery/<provider>/<token>/`` (contacts.channels.webhooks); the token in
the URL is an HMAC of the provider's name under SECRET_KEY, so only someone given the URL can post.
A report only moves a message forward (sent → delivered / failed / bounced; a late "sent" after
"delivered" changes nothing), and a bounce marks the phone or e-mail bad.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.crypto import salted_hmac

from contacts.models import OutboxMessage


class DeliveryState(StrEnum):
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    BOUNCED = "bounced"


@dataclass(frozen=True)
class DeliveryReport:
    provider: str
    provider_message_id: str
    state: DeliveryState
    reason: str = ""


# The states a report may move a message out of: a worker may record "sent" after a fast callback.
MOVABLE = [OutboxMessage.Status.RESERVED, OutboxMessage.Status.SENT]


def callback_token(provider: str) -> str:
    return salted_hmac("contacts.channels.delivery", provider, secret=settings.SECRET_KEY).hexdigest()[:32]


def is_valid_callback_token(provider: str, token: str) -> bool:
    return hmac.compare_digest(callback_token(provider), token)


def callback_url(provider: str) -> str:
    path = reverse("channels:delivery", kwargs={"provider": provider, "token": callback_token(provider)})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def record_delivery(*, report: DeliveryReport, now: dt.datetime) -> bool:
    """Apply one report; True if it changed a message."""
    from contacts.sending import mark_address_bad

    if report.state is DeliveryState.SENT:
        return False
    status = OutboxMessage.Status(report.state.value)
    with transaction.atomic():
        movable = OutboxMessage.objects.select_for_update().select_related("dealership").filter(
            provider=report.provider, status__in=MOVABLE
        )
        message = movable.filter(provider_message_id=report.provider_message_id).first()
        if message is None and report.provider_message_id.startswith(f"{settings.MESSAGE_ID_PREFIX}-"):
            # A provider that keeps our idempotency key as its id may report before the sender wrote it.
            pk = report.provider_message_id.removeprefix(f"{settings.MESSAGE_ID_PREFIX}-")
            message = movable.filter(pk=int(pk)).first() if pk.isdigit() else None
        if message is None:
            return False
        fields: dict[str, object] = {"status": status, "status_changed_at": now}
        if status == OutboxMessage.Status.DELIVERED:
            fields["delivered_at"] = now
        else:
            fields["error"] = report.reason[:500]
        OutboxMessage.objects.filter(pk=message.pk).update(**fields)
        if status == OutboxMessage.Status.BOUNCED:
            mark_address_bad(message=message, on=message.dealership.local_date(now))
    return True
