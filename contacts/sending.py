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

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from contacts.calls import is_working_day
from contacts.core.message_hours import MessageHours, Verdict, sending_verdict
from contacts.models import ContactRules, OutboxMessage, Touchpoint
from contacts.refusals import refusal_resolution
from contacts.senders import LooksUp, Sender, SendError, get_sender
from customers.models import Channel, Customer, Dealership

logger = logging.getLogger(__name__)

# Transient failures in a row on one channel after which a run stops trying it: a provider that is down
# (or refuses our credentials) must not take every message of the batch through its timeout.
PAUSE_AFTER_FAILURES = 3


@dataclass
class SendCounts:
    sent: int = 0
    failed: int = 0
    # Back to the queue after a transient failure, to be tried again after a backoff.
    retried: int = 0
    # Reservations of a worker that died mid-send, settled (found at the provider, or queued again).
    recovered: int = 0
    # Given back to the plan (window still open) or suppressed (window closed).
    missed: int = 0
    closed_day: int = 0
    # Cancelled at the last moment: the customer refused the channel since the build wrote it.
    refused: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def message_hours(rules: ContactRules) -> MessageHours:
    return MessageHours(start=rules.message_hours_start, end=rules.message_hours_end)


def send_due_messages(*, batch: int = 500, senders: dict[str, Sender] | None = None) -> SendCounts:
    """Send up to ``batch`` messages that are due now, dealership by dealership."""
    chosen = senders if senders is not None else {}
    counts = SendCounts()
    counts.recovered = recover_reservations(now=timezone.now(), senders=chosen)
    for dealership in Dealership.objects.select_related("contact_rules").order_by("id"):
        remaining = batch - counts.sent - counts.failed - counts.retried
        if remaining <= 0:
            break
        rules = getattr(dealership, "contact_rules", None) or ContactRules.for_dealership(dealership)
        _send_for_dealership(dealership=dealership, rules=rules, senders=chosen, limit=remaining, counts=counts)
    return counts


def _sender_for(senders: dict[str, Sender], channel: str) -> Sender:
    if channel not in senders:
        senders[channel] = get_sender(channel)
    return senders[channel]


def _send_for_dealership(
    *, dealership: Dealership, rules: ContactRules, senders: dict[str, Sender], limit: int, counts: SendCounts
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
    any_day: set[int] = set()  # its template lets it go on a weekend or a holiday
    for message_id, send_on, may_go_on_days_off, next_attempt_at in due.values_list(
        "id", "send_on", "touchpoint__template__may_go_on_days_off", "next_attempt_at"
    ):
        if may_go_on_days_off:
            any_day.add(message_id)
        verdict = sending_verdict(
            send_on=send_on, local_now=now.astimezone(dealership.zone), hours=hours,
            may_go_on_days_off=message_id in any_day, is_working_day=is_working,
        )
        if verdict in to_give_back:
            to_give_back[verdict].append(message_id)
        elif verdict is Verdict.SEND and len(to_send) < limit and (next_attempt_at is None or next_attempt_at <= now):
            to_send.append(message_id)
    # A missed message's touchpoint can still be placed today (this runs from local midnight on, before
    # the morning build); a closed day's, from tomorrow.
    counts.missed += give_back_messages(
        message_ids=to_give_back[Verdict.MISSED], placeable_from=today, reason="missed_day"
    )
    counts.closed_day += give_back_messages(
        message_ids=to_give_back[Verdict.CLOSED_DAY], placeable_from=today + dt.timedelta(days=1), reason="closed_day"
    )
    failures_in_a_row: dict[str, int] = {}
    for message in (
        OutboxMessage.objects.filter(id__in=to_send)
        .select_related("customer", "touchpoint__template__department")
        .prefetch_related("customer__consents")
        .order_by("send_on", "id")
    ):
        # The clock again for each message: the hours may end while a batch is going out.
        now = timezone.now()
        verdict = sending_verdict(
            send_on=message.send_on, local_now=now.astimezone(dealership.zone), hours=hours,
            may_go_on_days_off=message.pk in any_day, is_working_day=is_working,
        )
        if verdict is not Verdict.SEND:
            break
        if not message.customer.allows(message.channel, message_purpose(message)):
            # A refusal recorded by a path that did not cancel what was pending (the admin, an import),
            # of the channel or of this message's purpose on it.
            counts.refused += cancel_refused_message(message=message, now=now)
            continue
        if failures_in_a_row.get(message.channel, 0) >= PAUSE_AFTER_FAILURES:
            continue  # the provider is down or refuses us: its messages wait for the next run untouched
        outcome = send_message(message=message, sender=_sender_for(senders, message.channel), now=now)
        if outcome is not None:
            setattr(counts, outcome, getattr(counts, outcome) + 1)
            failures_in_a_row[message.channel] = failures_in_a_row.get(message.channel, 0) + 1 if outcome == "retried" else 0


def send_message(*, message: OutboxMessage, sender: Sender, now: dt.datetime) -> str | None:
    """Send one pending message by a two-phase claim: reserve it (so no other worker takes it), hand it
    to the provider, then record it sent with the provider's id. Returns "sent", "failed" or "retried",
    or None when another worker had reserved it first."""
    reserved = OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.PENDING).update(
        status=OutboxMessage.Status.RESERVED, reserved_at=now, attempts=F("attempts") + 1,
        provider=sender.name, status_changed_at=now,
    )
    if reserved != 1:
        return None
    attempts = message.attempts + 1
    if message.channel == Channel.EMAIL and message.customer.email_unreachable_since is not None:
        return _record_failure(message=message, now=now, attempts=attempts, error=SendError(
            f"the address was marked bad on {message.customer.email_unreachable_since:%d.%m.%Y}", is_permanent=True,
        ))
    try:
        sent = sender.send(message)
    except SendError as error:
        return _record_failure(message=message, now=now, attempts=attempts, error=error)
    except Exception as error:  # noqa: BLE001 - an adapter's unforeseen failure waits and is retried
        return _record_failure(message=message, now=now, attempts=attempts, error=SendError(f"{type(error).__name__}: {error}"))
    record_sent(message_id=message.pk, provider_message_id=sent.provider_message_id, now=now)
    return "sent"


def message_purpose(message: OutboxMessage) -> str | None:
    """The purpose of a message's touchpoint (contacts.core.purposes); None for one without a touchpoint."""
    return message.touchpoint.template.purpose if message.touchpoint_id is not None else None


def cancel_refused_message(*, message: OutboxMessage, now: dt.datetime) -> int:
    purpose = message_purpose(message)
    resolution = refusal_resolution(message.channel, None if message.channel in message.customer.blocked_channels() else purpose)
    with transaction.atomic():
        cancelled = OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.PENDING).update(
            status=OutboxMessage.Status.CANCELLED, error=resolution, status_changed_at=now
        )
        if cancelled:
            Touchpoint.objects.filter(pk=message.touchpoint_id, status=Touchpoint.Status.ISSUED).update(
                status=Touchpoint.Status.SUPPRESSED, resolution=resolution
            )
    return cancelled


def record_sent(*, message_id: int, provider_message_id: str, now: dt.datetime) -> None:
    OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.RESERVED).update(
        status=OutboxMessage.Status.SENT, sent_at=now, provider_message_id=provider_message_id[:64],
        error="", next_attempt_at=None, status_changed_at=now,
    )


def retry_delay(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8 ... times MESSAGE_RETRY_BASE_SECONDS after the n-th failed attempt."""
    return dt.timedelta(seconds=settings.MESSAGE_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))


def _record_failure(*, message: OutboxMessage, now: dt.datetime, attempts: int, error: SendError) -> str:
    reserved = OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.RESERVED)
    if not error.is_permanent and attempts < settings.MESSAGE_MAX_ATTEMPTS:
        reserved.update(
            status=OutboxMessage.Status.PENDING, error=error.reason[:500], next_attempt_at=now + retry_delay(attempts),
            reserved_at=None, status_changed_at=now,
        )
        return "retried"
    reason = error.reason if error.is_permanent else f"gave up after {attempts} attempts: {error.reason}"
    with transaction.atomic():
        reserved.update(status=OutboxMessage.Status.FAILED, error=reason[:500], status_changed_at=now)
        if error.is_bad_address:
            mark_address_bad(message=message, on=message.dealership.local_date(now))
    return "failed"


def mark_address_bad(*, message: OutboxMessage, on: dt.date) -> None:
    """A permanent failure of the customer's phone or e-mail, as three failed calls mark a phone: the
    customer card shows it (and a bad phone counts in the dashboards' dead-contact share)."""
    customers = Customer.objects.filter(pk=message.customer_id)
    if message.channel == Channel.EMAIL:
        customers.filter(email=message.recipient, email_unreachable_since__isnull=True).update(email_unreachable_since=on)
    else:
        customers.filter(phone=message.recipient, phone_unreachable_since__isnull=True).update(phone_unreachable_since=on)


def recover_reservations(*, now: dt.datetime, senders: dict[str, Sender]) -> int:
    """Messages a worker reserved and never finished (it was killed mid-send): a provider that can be
    asked by the message's idempotency key says whether it has it (then it is recorded sent, not sent
    again); otherwise the message is queued again (at least once: a duplicate beats a lost reminder)."""
    cutoff = now - dt.timedelta(seconds=settings.MESSAGE_RESERVATION_TIMEOUT_SECONDS)
    settled = 0
    for message in OutboxMessage.objects.filter(status=OutboxMessage.Status.RESERVED, reserved_at__lt=cutoff):
        sender = _sender_for(senders, message.channel)
        provider_id: str | None = None
        if isinstance(sender, LooksUp):
            try:
                provider_id = sender.look_up(message)
            except SendError:
                continue  # the provider cannot be asked now: the next run asks again
        if provider_id is not None:
            record_sent(message_id=message.pk, provider_message_id=provider_id, now=message.reserved_at or now)
        else:
            OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.RESERVED).filter(
                Q(reserved_at=message.reserved_at)
            ).update(status=OutboxMessage.Status.PENDING, reserved_at=None, status_changed_at=now,
                     error="the worker stopped while sending; queued again")
        settled += 1
    if settled:
        logger.warning("recover_reservations: %d messages left mid-send by a stopped worker settled", settled)
    return settled


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
