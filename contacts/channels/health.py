"""What /health/ says about the message channels, in words a dealer can act on."""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

from django.conf import settings
from django.db.models import Count

from contacts.models import OutboxMessage


class MessageHealth(TypedDict):
    # Messages waiting for a retry after a transient failure, and the latest such failure's words
    # ("SMSC: wrong login or password ...", "the mail server cannot be reached ...").
    waiting_for_retry: int
    last_failure: str | None
    # Messages that failed for good in the last 24 hours, by their reason (the five most frequent).
    failed_last_day: dict[str, int]
    # Reserved longer than the reservation timeout: a worker died mid-send and no sender has run since.
    stuck_mid_send: int


def message_health(*, now: dt.datetime) -> MessageHealth:
    retrying = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, attempts__gt=0).exclude(error="")
    latest = retrying.order_by("-status_changed_at").values_list("error", flat=True).first()
    failed = (
        OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED, status_changed_at__gte=now - dt.timedelta(days=1))
        .values("error").annotate(count=Count("id")).order_by("-count")[:5]
    )
    cutoff = now - dt.timedelta(seconds=settings.MESSAGE_RESERVATION_TIMEOUT_SECONDS)
    return {
        "waiting_for_retry": retrying.count(),
        "last_failure": latest,
        "failed_last_day": {row["error"]: row["count"] for row in failed},
        "stuck_mid_send": OutboxMessage.objects.filter(status=OutboxMessage.Status.RESERVED, reserved_at__lt=cutoff).count(),
    }
