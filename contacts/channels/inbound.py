"""Workflow: a customer's SMS or e-mail reply, from the signed inbound webhooks (contacts.channels.webhooks).

- STOP / СТОП / "не присылайте" refuses, at once, the purpose of the message answered on that channel
  (a STOP to a sales offer stops sales offers by SMS, not the service reminders), through the one refusal
  workflow (contacts.calls.set_do_not_contact → customers.refusals), which records the consent with the
  customer's words, keeps it by phone and e-mail and cancels what is pending of it. The message answered
  is the one an e-mail reply names (In-Reply-To / References, our Message-ID), else the latest message sent
  to the customer on that channel. "STOP ALL" / "СТОП ВСЁ" / "не присылайте ничего", and a STOP when no
  message of ours is known, refuse the whole channel.
- "45 000 km" / "пробег 45000" becomes an odometer reading of source "sms" for the customer's car, and the
  car is re-planned on commit. A customer with several cars names the car in the reply by its plate (with
  or without the region) or by a model or make only that car has ("Rio 45 000", "А123ВС 45000 км").
- Anything else, and a mileage from a customer with several cars that does not say which, becomes a call
  for an agent with the text (a requested call on the next working day, first in the queue; a second
  reply joins the open one). No "which car?" SMS is sent back: every outgoing message belongs to a planned
  touchpoint (OutboxMessage.touchpoint), so the agent asks.
"""

from __future__ import annotations

import datetime as dt
import email
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from contacts import queueing
from contacts.calls import OutcomeError, first_working_day_from, set_do_not_contact, validate_reading
from contacts.core.replies import Car, ReplyKind, named_car, read_reply
from contacts.models import CallTask, ContactRules, OutboxMessage
from contacts.sending import message_purpose
from customers.models import Channel, Customer, OdometerReading, RefusalSource, Vehicle, normalize_phone

REPLY_CODE = "sms_reply"


@dataclass
class InboundResult:
    """What the reply did: ``outcome`` is one of refused, reading_recorded, which_car, implausible,
    other, unknown_sender, unreadable."""

    outcome: str
    customer_ids: list[int] = field(default_factory=list)
    detail: str = ""


def handle_inbound_sms(*, phone: str, text: str, now: dt.datetime) -> InboundResult:
    try:
        number = normalize_phone(phone)
    except ValidationError:
        return InboundResult("unknown_sender", detail=phone[:30])
    customers = list(Customer.objects.filter(Q(phone=number) | Q(phone_alt=number)).select_related("dealership"))
    if not customers:
        return InboundResult("unknown_sender", detail=number)
    return handle_reply(customers=customers, channel=Channel.SMS, text=text, now=now)


def handle_inbound_email(*, raw: bytes, now: dt.datetime) -> InboundResult:
    """A customer's answer to one of our e-mails (the raw message, RFC 5322): its sender's address finds
    the customer, its own words (quoted history cut off) are read like an SMS reply."""
    parsed = read_email(raw)
    if parsed is None:
        return InboundResult("unreadable")
    customers = list(Customer.objects.filter(email__iexact=parsed.address).select_related("dealership"))
    if not customers:
        return InboundResult("unknown_sender", detail=parsed.address[:254])
    return handle_reply(customers=customers, channel=Channel.EMAIL, text=parsed.text, now=now,
                        answered_ids=parsed.answered_ids)


# Where a mail client starts quoting the message answered ("On ... wrote:", "-----Original Message-----").
_QUOTE_START = re.compile(
    r"^(>|-{2,}\s*(original message|исходное сообщение|пересылаемое сообщение)|.*(wrote|написал\(а\)|написал|пишет):\s*$)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class EmailReply:
    address: str
    text: str
    # Our messages the reply names in In-Reply-To and References (their Message-ID), the one answered first.
    answered_ids: list[int]


def answered_message_ids(in_reply_to: str, references: str) -> list[int]:
    """The ids of our messages (Message-ID <prefix-id@...>) an e-mail answers: In-Reply-To first, then
    References from the newest."""
    ours = re.compile(rf"<{re.escape(settings.MESSAGE_ID_PREFIX)}-(\d+)@")
    ids = [int(pk) for pk in ours.findall(in_reply_to)] + [int(pk) for pk in reversed(ours.findall(references))]
    return list(dict.fromkeys(ids))


def read_email(raw: bytes) -> EmailReply | None:
    message = email.message_from_bytes(raw, policy=policy.default)
    address = parseaddr(str(message.get("From", "")))[1]
    body = message.get_body(preferencelist=("plain",)) if isinstance(message, EmailMessage) else None
    if not address or body is None or not isinstance(body, EmailMessage):
        return None
    lines = []
    for line in body.get_content().splitlines():
        if _QUOTE_START.match(line.strip()):
            break
        lines.append(line)
    subject = str(message.get("Subject", ""))
    text = "\n".join(lines).strip() or subject
    answered = answered_message_ids(str(message.get("In-Reply-To", "")), str(message.get("References", "")))
    return EmailReply(address, text, answered)


def handle_reply(
    *, customers: list[Customer], channel: str, text: str, now: dt.datetime, answered_ids: list[int] | None = None
) -> InboundResult:
    ids = [c.pk for c in customers]
    reply = read_reply(text)
    if reply.kind is ReplyKind.STOP:
        purpose = None if reply.is_whole_channel else purpose_answered(
            customers=customers, channel=channel, answered_ids=answered_ids or [])
        with transaction.atomic():
            for customer in customers:
                set_do_not_contact(customer=customer, channels=[channel], now=now, reason=f"{channel} reply: {text[:200]}",
                                   purposes=None if purpose is None else [purpose], source=RefusalSource.REPLY)
        return InboundResult("refused", ids, detail=purpose or "all")
    vehicles = [v for c in customers for v in c.vehicles.filter(is_active=True)]
    named_id, rest = named_car(text, [Car(v.pk, v.plate, v.make, v.model) for v in vehicles])
    if named_id is not None and (named := read_reply(rest)).kind is ReplyKind.MILEAGE:
        reply = named
    if reply.kind is ReplyKind.MILEAGE and reply.odometer_km is not None:
        chosen = [v for v in vehicles if v.pk == named_id] if named_id is not None else vehicles
        result = _record_reading(customers=customers, vehicles=chosen, odometer_km=reply.odometer_km, now=now)
        if result.outcome != "which_car":
            return result
    else:
        result = InboundResult("other", ids, detail=text[:500])
    for customer in customers:
        ask_an_agent(customer=customer, text=text, now=now)
    return result


def purpose_answered(*, customers: list[Customer], channel: str, answered_ids: list[int]) -> str | None:
    """The purpose of the message a refusal answers: the first of ``answered_ids`` that is ours to these
    customers on this channel, else the latest sent to them on it; None when none is known."""
    sent = OutboxMessage.objects.filter(customer__in=customers, channel=channel).select_related("touchpoint__template__department")
    named = {m.pk: m for m in sent.filter(pk__in=answered_ids)} if answered_ids else {}
    message = next((named[pk] for pk in answered_ids if pk in named), None) or sent.filter(
        status__in=[OutboxMessage.Status.SENT, OutboxMessage.Status.DELIVERED], sent_at__isnull=False
    ).order_by("-sent_at", "-id").first()
    return message_purpose(message) if message is not None else None


def ask_an_agent(*, customer: Customer, text: str, now: dt.datetime) -> CallTask | None:
    """A requested call about the customer's reply, unless the customer refused calls or cannot be called."""
    if not customer.allows(Channel.CALL) or not customer.is_phone_reachable:
        return None
    dealership = customer.dealership
    with translation.override(customer.language):
        title = _("SMS reply")
    # One line, whatever the customer typed: a "## " line would open a new script section.
    line = f"{dealership.local_date(now):%d.%m.%Y}: «{' '.join(text.split())[:500]}»"
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        open_task = CallTask.objects.filter(
            customer=customer, kind=CallTask.Kind.CALLBACK, status=CallTask.Status.OPEN, agenda__0__code=REPLY_CODE
        ).first()
        if open_task is not None:
            open_task.agenda[0]["why"] = f"{open_task.agenda[0]['why']} {line}"
            open_task.script = f"{open_task.script}\n{line}"
            open_task.save(update_fields=["agenda", "script"])
            return open_task
        rules = ContactRules.for_dealership(dealership)
        day = first_working_day_from(dealership.local_date(now), dealership=dealership, rules=rules)
        return CallTask.objects.create(
            dealership=dealership, customer=customer, kind=CallTask.Kind.CALLBACK, is_requested=True,
            scheduled_on=day, window_start=day, window_end=day + dt.timedelta(days=2),
            blocks_until=day + dt.timedelta(days=max(1, rules.min_days_between_calls)), priority=0,
            agenda=[{"code": REPLY_CODE, "title": title, "department": "service", "why": line}],
            script=f"## {title}\n{line}",
        )


def _record_reading(*, customers: list[Customer], vehicles: list[Vehicle], odometer_km: int, now: dt.datetime) -> InboundResult:
    ids = [c.pk for c in customers]
    if len(vehicles) != 1:
        # Several cars the reply does not tell apart (or none): a person has to ask which one; the number
        # is kept in the result.
        return InboundResult("which_car", ids, detail=f"{odometer_km} km, {len(vehicles)} cars")
    vehicle = vehicles[0]
    day = vehicle.dealership.local_date(now)
    try:
        validate_reading(vehicle=vehicle, odometer_km=odometer_km, day=day)
    except OutcomeError as error:
        return InboundResult("implausible", ids, detail=str(error))
    with transaction.atomic():
        OdometerReading.objects.create(vehicle=vehicle, read_on=day, odometer_km=odometer_km, source=OdometerReading.Source.SMS)
        queueing.replan_on_commit([vehicle.pk])
    return InboundResult("reading_recorded", ids, detail=f"{vehicle.vin}: {odometer_km} km")
