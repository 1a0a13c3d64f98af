"""Workflow: send the outbox's due SMS and e-mails, inside each dealership's message hours.

The morning build writes a day's messages with ``send_on`` = the dealership's local day; this sends
them between ``ContactRules.message_hours_start`` and ``message_hours_end`` local time on that day
(contacts.core.message_hours decides). A message whose day ended before it went out, or a
non-greeting whose day turned out to be a weekend or a holiday, never goes out on another day: its
touchpoint goes back to the plan while its window is open (the next build places it again),
otherwise it is suppressed with the reason.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils import timezone

from contacts.calls import is_working_day
from contacts.core.message_hours import MessageHours, Verdict, sending_verdict
from contacts.models import Anchor, ContactRules, OutboxMessage, Touchpoint
from contacts.senders import Sender, get_sender
from customers.models import Dealership

logger = logging.getLogger(__name__)


@dataclass
class SendCounts:
    sent: int = 0
    failed: int = 0
    # Given back to the plan (window still open) or suppressed (window closed).
    missed: int = 0
    closed_day: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def message_hours(rules: ContactRules) -> MessageHours:
    return MessageHours(start=rules.message_hours_start, end=rules.message_hours_end)


def send_due_messages(*, batch: int = 500, sender: Sender | None = None) -> SendCounts:
    """Send up to ``batch`` messages that are due now, dealership by dealership."""
    sender = sender or get_sender()
    counts = SendCounts()
    for dealership in Dealership.objects.select_related("contact_rules").order_by("id"):
        remaining = batch - counts.sent - counts.failed
        if remaining <= 0:
            break
        rules = getattr(dealership, "contact_rules", None) or ContactRules.for_dealership(dealership)
        _send_for_dealership(dealership=dealership, rules=rules, sender=sender, limit=remaining, counts=counts)
    return counts


def _send_for_dealership(
    *, dealership: Dealership, rules: ContactRules, sender: Sender, limit: int, counts: SendCounts
) -> None:
    hours = message_hours(rules)
    now = timezone.now()
    today = dealership.local_date(now)
    is_working = is_working_day(today, dealership=dealership, rules=rules)
    due = OutboxMessage.objects.filter(
        dealership=dealership, status=OutboxMessage.Status.PENDING, send_on__lte=today
    ).order_by("send_on", "id")
    to_send: list[int] = []
    to_give_back: dict[Verdict, list[int]] = {Verdict.MISSED: [], Verdict.CLOSED_DAY: []}
    greetings: set[int] = set()
    for message_id, send_on, anchor in due.values_list("id", "send_on", "touchpoint__template__anchor"):
        if anchor == Anchor.BIRTHDAY:
            greetings.add(message_id)
        verdict = sending_verdict(
            send_on=send_on, local_now=now.astimezone(dealership.zone), hours=hours,
            is_greeting=message_id in greetings, is_working_day=is_working,
        )
        if verdict in to_give_back:
            to_give_back[verdict].append(message_id)
        elif verdict is Verdict.SEND and len(to_send) < limit:
            to_send.append(message_id)
    # A missed message's touchpoint can still be placed today (this runs from local midnight on, before
    # the morning build); a closed day's, from tomorrow.
    counts.missed += give_back_messages(
        message_ids=to_give_back[Verdict.MISSED], placeable_from=today, reason="missed_day"
    )
    counts.closed_day += give_back_messages(
        message_ids=to_give_back[Verdict.CLOSED_DAY], placeable_from=today + dt.timedelta(days=1), reason="closed_day"
    )
    for message in OutboxMessage.objects.filter(id__in=to_send).order_by("send_on", "id"):
        # The clock again for each message: the hours may end while a batch is going out.
        now = timezone.now()
        verdict = sending_verdict(
            send_on=message.send_on, local_now=now.astimezone(dealership.zone), hours=hours,
            is_greeting=message.pk in greetings, is_working_day=is_working,
        )
        if verdict is not Verdict.SEND:
            break
        if send_message(message=message, sender=sender, now=now):
            counts.sent += 1
        else:
            counts.failed += 1


def send_message(*, message: OutboxMessage, sender: Sender, now: dt.datetime) -> bool | None:
    """Claim one pending message and send it: True sent, False failed (recorded on the row), None if
    another worker had claimed it."""
    claimed = OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.PENDING).update(
        status=OutboxMessage.Status.SENT, sent_at=now
    )
    if claimed != 1:
        return None
    try:
        sender.send(message)
    except Exception as error:  # noqa: BLE001 - a gateway failure is recorded on the row, not raised
        OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxMessage.Status.FAILED, error=str(error)[:500])
        return False
    return True


def give_back_messages(*, message_ids: list[int], placeable_from: dt.date, reason: str) -> int:
    """Pending messages that must not go out on their day: their touchpoints go back to the plan while
    their window is open on ``placeable_from`` (the message row is removed, so a build can place it
    again), or are suppressed with ``window_closed:<reason>`` and the message cancelled."""
    if not message_ids:
        return 0
    with transaction.atomic():
        rows = list(
            OutboxMessage.objects.select_for_update()
            .filter(id__in=message_ids, status=OutboxMessage.Status.PENDING)
            .values_list("id", "touchpoint_id", "touchpoint__window_end")
        )
        reopen = [(message_id, tp_id) for message_id, tp_id, window_end in rows if window_end >= placeable_from]
        close = [(message_id, tp_id) for message_id, tp_id, window_end in rows if window_end < placeable_from]
        if reopen:
            OutboxMessage.objects.filter(id__in=[m for m, _tp in reopen]).delete()
            Touchpoint.objects.filter(id__in=[tp for _m, tp in reopen], status=Touchpoint.Status.ISSUED).update(
                status=Touchpoint.Status.PLANNED, resolution=f"message_{reason}"
            )
        if close:
            OutboxMessage.objects.filter(id__in=[m for m, _tp in close]).update(
                status=OutboxMessage.Status.CANCELLED, error=reason
            )
            Touchpoint.objects.filter(id__in=[tp for _m, tp in close], status=Touchpoint.Status.ISSUED).update(
                status=Touchpoint.Status.SUPPRESSED, resolution=f"window_closed:{reason}"
            )
    if rows:
        logger.warning(
            "%d messages did not go out on their day (%s): %d back to the plan, %d suppressed",
            len(rows), reason, len(reopen), len(close),
        )
    return len(rows)
