"""Read model: the day's messages of a user's dealerships, for the queue page (each dealership's own
local day), as counts by state and the latest that moved, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Q

from contacts.models import OutboxMessage
from customers.models import Dealership

Status = OutboxMessage.Status
LATEST_ROWS = 8

# The states a reader tells apart on the board, in the order a message lives them; failed and bounced
# are one "not delivered" count (the card and the data-refresh list say which).
WAITING = (Status.PENDING, Status.RESERVED)
NOT_DELIVERED = (Status.FAILED, Status.BOUNCED)


@dataclass(frozen=True)
class MessageBoard:
    waiting: int
    sent: int
    delivered: int
    not_delivered: int
    cancelled: int
    latest: list[OutboxMessage]

    @property
    def total(self) -> int:
        return self.waiting + self.sent + self.delivered + self.not_delivered + self.cancelled


def message_board(*, dealerships: Sequence[Dealership], now: dt.datetime) -> MessageBoard:
    """The messages due on each dealership's local day of ``now``: how many wait, went, arrived or not,
    and the latest ones that went out or failed (newest first)."""
    of_today = Q(pk__in=[])
    for dealership in dealerships:
        of_today |= Q(dealership=dealership, send_on=dealership.local_date(now))
    rows = OutboxMessage.objects.filter(of_today)
    counts = rows.aggregate(
        waiting=Count("id", filter=Q(status__in=WAITING)),
        sent=Count("id", filter=Q(status=Status.SENT)),
        delivered=Count("id", filter=Q(status=Status.DELIVERED)),
        not_delivered=Count("id", filter=Q(status__in=NOT_DELIVERED)),
        cancelled=Count("id", filter=Q(status=Status.CANCELLED)),
    )
    latest = list(
        rows.filter(status__in=[Status.SENT, Status.DELIVERED, *NOT_DELIVERED])
        .select_related("customer", "dealership", "touchpoint__template")
        .order_by("-status_changed_at", "-sent_at", "-id")[:LATEST_ROWS]
    )
    return MessageBoard(latest=latest, **counts)
