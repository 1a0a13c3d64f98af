"""What a refusal stops, whichever path recorded it (customers.refusals announces it; contacts.apps
registers this hook): open calls and pending messages on the refused channels are cancelled at once,
and their touchpoints, with the planned ones, are suppressed with the reason ``do_not_contact:<channel>``
(said in words by contacts.wording)."""

from __future__ import annotations

import datetime as dt

from contacts.models import CallTask, OutboxMessage, Touchpoint
from customers.models import Channel


def stop_contact_on_refusal(*, customer_id: int, channels: frozenset[str], now: dt.datetime) -> None:
    """Runs inside the refusal's transaction, with the customer row locked."""
    for channel in sorted(channels):
        resolution = f"do_not_contact:{channel}"
        if channel == Channel.CALL:
            open_tasks = CallTask.objects.filter(
                customer_id=customer_id, status__in=[CallTask.Status.OPEN, CallTask.Status.CLAIMED]
            )
            Touchpoint.objects.filter(call_item__call_task__in=open_tasks, status=Touchpoint.Status.ISSUED).update(
                status=Touchpoint.Status.SUPPRESSED, resolution=resolution
            )
            open_tasks.update(status=CallTask.Status.CANCELLED, outcome="do_not_call")
        else:
            pending = OutboxMessage.objects.filter(
                customer_id=customer_id, channel=channel, status=OutboxMessage.Status.PENDING
            )
            Touchpoint.objects.filter(message__in=pending).update(status=Touchpoint.Status.SUPPRESSED, resolution=resolution)
            pending.update(status=OutboxMessage.Status.CANCELLED)
        Touchpoint.objects.filter(
            customer_id=customer_id, status=Touchpoint.Status.PLANNED, template__channel=channel
        ).update(status=Touchpoint.Status.SUPPRESSED, resolution=resolution)
