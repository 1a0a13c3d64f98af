"""Refusals: one workflow for every path that records one (call screen, Django admin, API, import).

``record_refusal`` writes the customer's Consent rows and the suppression list (by phone and e-mail,
so the refusal outlives the customer row), then announces the refusal to the hooks registered with
``on_refusal``: the contacts app registers the one that cancels pending messages and open calls on
those channels at once (contacts.apps). The facts app announces; it never imports the contacts app.

``apply_suppression_list`` brings a refusal back to a customer created or imported with a refused
phone or e-mail, with the original date and reason, and announces it like a new one.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Protocol

from django.db import transaction

from audit import trail
from customers.models import Channel, Consent, Customer, RefusalSource, Suppression, normalize_email

logger = logging.getLogger(__name__)

# Which of a customer's addresses a refused channel is kept under.
PHONE_CHANNELS = frozenset({Channel.CALL.value, Channel.SMS.value})
EMAIL_CHANNELS = frozenset({Channel.EMAIL.value})
# Customers per query when the suppression list is applied to an import's rows.
APPLY_CHUNK = 2000


class RefusalHook(Protocol):
    def __call__(self, *, customer_id: int, channels: frozenset[str], now: dt.datetime) -> None: ...


_hooks: list[RefusalHook] = []


def on_refusal(hook: RefusalHook) -> RefusalHook:
    """Register ``hook`` to run, inside the refusal's transaction, after each recorded refusal."""
    if hook not in _hooks:
        _hooks.append(hook)
    return hook


def _announce(*, customer_id: int, channels: frozenset[str], now: dt.datetime) -> None:
    for hook in _hooks:
        hook(customer_id=customer_id, channels=channels, now=now)


def _addresses(customer: Customer, channel: str) -> list[tuple[str, str]]:
    if channel in PHONE_CHANNELS:
        return [(Suppression.Kind.PHONE, phone) for phone in {customer.phone, customer.phone_alt} if phone]
    if channel in EMAIL_CHANNELS and customer.email:
        return [(Suppression.Kind.EMAIL, normalize_email(customer.email))]
    return []


def record_refusal(
    *, customer: Customer, channels: Iterable[str], now: dt.datetime, reason: str, source: RefusalSource
) -> None:
    """The customer refused these channels: record it, keep it by phone and e-mail, stop everything
    on them at once.

    The customer row is locked first, as the queue build does (contacts.queues._lock_still_open): a
    build running now either saw the refusal or its new tasks are cancelled by the announcement.
    """
    refused = frozenset(channels)
    unknown = refused - set(Channel.values)
    if unknown:
        raise ValueError(f"unknown channels {sorted(unknown)}")
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        before = _consents_before(locked.pk, refused)  # audit trail
        for channel in sorted(refused):
            Consent.objects.update_or_create(
                customer=locked, channel=channel, defaults={"is_allowed": False, "changed_at": now, "reason": reason[:300]}
            )
            for kind, value in _addresses(locked, channel):
                Suppression.objects.update_or_create(
                    kind=kind, value=value, channel=channel,
                    defaults={"refused_at": now, "reason": reason[:300], "source": source, "customer": locked},
                )
        _announce(customer_id=locked.pk, channels=refused, now=now)
        _record_consents(locked, before, allowed=False, reason=reason, source=source)  # audit trail
    logger.info("refusal of %s by customer %s recorded (%s)", sorted(refused), customer.pk, source)


def record_consent(*, customer: Customer, channel: str, now: dt.datetime, reason: str) -> None:
    """The customer allows this channel again: the refusal and its suppression entries go."""
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        before = _consents_before(locked.pk, {channel})  # audit trail
        Consent.objects.update_or_create(
            customer=locked, channel=channel, defaults={"is_allowed": True, "changed_at": now, "reason": reason[:300]}
        )
        withdraw_suppression(customer=locked, channel=channel)
        _record_consents(locked, before, allowed=True, reason=reason, source=None)  # audit trail


def withdraw_suppression(*, customer: Customer, channel: str) -> int:
    """Remove the suppression entries of this customer's addresses for ``channel``."""
    removed = 0
    for kind, value in _addresses(customer, channel):
        removed += Suppression.objects.filter(kind=kind, value=value, channel=channel).delete()[0]
    return removed


def _entries_by_customer(customers: Sequence[tuple[int, str, str, str]]) -> dict[int, list[Suppression]]:
    """(id, phone, second phone, e-mail) of customers → the suppression entries that refuse each of
    them a channel, in one query."""
    by_address: dict[tuple[str, str], list[int]] = defaultdict(list)
    for customer_id, phone, phone_alt, email in customers:
        for value in {phone, phone_alt} - {""}:
            by_address[(Suppression.Kind.PHONE, value)].append(customer_id)
        if email:
            by_address[(Suppression.Kind.EMAIL, normalize_email(email))].append(customer_id)
    found: dict[int, list[Suppression]] = defaultdict(list)
    if not by_address:
        return found
    entries = Suppression.objects.matching(
        phones=[value for kind, value in by_address if kind == Suppression.Kind.PHONE],
        emails=[value for kind, value in by_address if kind == Suppression.Kind.EMAIL],
    )
    for entry in entries:
        if entry.channel in (PHONE_CHANNELS if entry.kind == Suppression.Kind.PHONE else EMAIL_CHANNELS):
            for customer_id in by_address.get((entry.kind, entry.value), ()):
                found[customer_id].append(entry)
    return found


def suppressed_channels(customers: Sequence[tuple[int, str, str, str]]) -> dict[int, set[str]]:
    """(id, phone, second phone, e-mail) of customers → the channels the suppression list refuses for
    each (the daily build's check, contacts.queues._customer_facts)."""
    return {
        customer_id: {entry.channel for entry in entries}
        for customer_id, entries in _entries_by_customer(customers).items()
    }


def apply_suppression_list(*, customer_ids: Iterable[int], now: dt.datetime) -> int:
    """Customers created or changed with a refused phone or e-mail get the refusal back (the original
    date and reason), and it is announced like a new one. Returns the consents written. Runs inside
    the caller's transaction when there is one (the import's batch)."""
    ids = sorted(set(customer_ids))
    written = 0
    for start in range(0, len(ids), APPLY_CHUNK):
        chunk = ids[start:start + APPLY_CHUNK]
        matches = _entries_by_customer(
            list(Customer.objects.filter(id__in=chunk).values_list("id", "phone", "phone_alt", "email"))
        )
        if not matches:
            continue
        refused = set(
            Consent.objects.filter(customer_id__in=list(matches), is_allowed=False).values_list("customer_id", "channel")
        )
        dealership_of = dict(Customer.objects.filter(id__in=list(matches)).values_list("id", "dealership_id"))
        for customer_id, entries in matches.items():
            new_channels: set[str] = set()
            for entry in sorted(entries, key=lambda e: e.refused_at):
                if (customer_id, entry.channel) in refused:
                    continue
                Consent.objects.update_or_create(
                    customer_id=customer_id, channel=entry.channel,
                    defaults={"is_allowed": False, "changed_at": entry.refused_at, "reason": entry.reason},
                )
                refused.add((customer_id, entry.channel))
                new_channels.add(entry.channel)
            if new_channels:
                written += len(new_channels)
                _announce(customer_id=customer_id, channels=frozenset(new_channels), now=now)
                _record_consents(Customer(pk=customer_id, dealership_id=dealership_of[customer_id]),  # audit trail
                                 dict.fromkeys(new_channels), allowed=False, reason=_SUPPRESSION_REASON, source=None)
    return written


# ------------------------------------------------------------------------------------- audit trail
# The consent changes as audit entries (issue 19.6), kept apart so the consent write path can change.

_SOURCES = {RefusalSource.CALL: trail.Source.CALL_SCREEN, RefusalSource.ADMIN: trail.Source.ADMIN,
            RefusalSource.API: trail.Source.API, RefusalSource.IMPORT: trail.Source.IMPORT}
_SUPPRESSION_REASON = "suppression list"


def _consents_before(customer_id: int, channels: Iterable[str]) -> dict[str, bool | None]:
    """Channel → is_allowed as stored now (None: no consent row)."""
    stored = dict(Consent.objects.filter(customer_id=customer_id, channel__in=list(channels))
                  .values_list("channel", "is_allowed"))
    return {channel: stored.get(channel) for channel in channels}


def _record_consents(customer: Customer, before: dict[str, bool | None], *, allowed: bool, reason: str,
                     source: RefusalSource | str | None) -> None:
    """One entry per channel whose consent changed; the reason goes with it."""
    where = _SOURCES.get(RefusalSource(source)) if source in RefusalSource.values else None
    trail.record_many(
        trail.entry(object_type=trail.ObjectType.CONSENT, object_id=f"{customer.pk}:{channel}",
                    action=trail.Action.CONSENT if allowed else trail.Action.REFUSE,
                    changes={"is_allowed": [old, allowed], "reason": [None, reason[:300]]},
                    dealership_id=customer.dealership_id, customer_id=customer.pk, source=where)
        for channel, old in sorted(before.items()) if old is not allowed
    )
