"""Refusals: one workflow for every path that records one (call screen, Django admin, API, import, a
reply, the unsubscribe link), per channel and purpose (customers.core.consent: no purpose = all).

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

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Q

from audit import trail
from customers.core.consent import PURPOSES
from customers.models import Channel, Consent, Customer, Purpose, RefusalSource, Suppression, normalize_email
from customers.privacy import address_hash

logger = logging.getLogger(__name__)

# Which of a customer's addresses a refused channel is kept under.
PHONE_CHANNELS = frozenset({Channel.CALL.value, Channel.SMS.value})
EMAIL_CHANNELS = frozenset({Channel.EMAIL.value})
# Customers per query when the suppression list is applied to an import's rows.
APPLY_CHUNK = 2000
ALL_PURPOSES = frozenset(PURPOSES)


class RefusalHook(Protocol):
    def __call__(
        self, *, customer_id: int, channels: frozenset[str], now: dt.datetime, purposes: frozenset[str] = ...
    ) -> None: ...


_hooks: list[RefusalHook] = []


def on_refusal(hook: RefusalHook) -> RefusalHook:
    """Register ``hook`` to run, inside the refusal's transaction, after each recorded refusal. It is
    told the channels and the purposes refused on them (every purpose for a whole-channel refusal)."""
    if hook not in _hooks:
        _hooks.append(hook)
    return hook


def _announce(*, customer_id: int, channels: frozenset[str], now: dt.datetime, purposes: frozenset[str] = ALL_PURPOSES) -> None:
    for hook in _hooks:
        hook(customer_id=customer_id, channels=channels, now=now, purposes=purposes)


def announce_refusal(*, customer_id: int, channels: frozenset[str], now: dt.datetime) -> None:
    """Announce refusals written by another workflow (a merge keeping the stricter consent), inside its
    transaction, so that what they stop is stopped at once."""
    if channels:
        _announce(customer_id=customer_id, channels=channels, now=now)


def _addresses(customer: Customer, channel: str) -> list[tuple[str, str]]:
    if channel in PHONE_CHANNELS:
        return [(Suppression.Kind.PHONE, phone) for phone in {customer.phone, customer.phone_alt} if phone]
    if channel in EMAIL_CHANNELS and customer.email:
        return [(Suppression.Kind.EMAIL, normalize_email(customer.email))]
    return []


def purposes_said(purposes: Iterable[str] | None) -> frozenset[str]:
    """The purposes a refusal or consent names, spelled out: none given, ALL, or every one = all of them."""
    said = frozenset(purposes or ())
    unknown = said - set(Purpose.values)
    if unknown:
        raise ValueError(f"unknown purposes {sorted(unknown)}")
    return ALL_PURPOSES if not said or Purpose.ALL in said else said


def _write_consent(
    *, customer: Customer, channel: str, purposes: frozenset[str], is_allowed: bool, now: dt.datetime, reason: str,
    source: str, recorded_by: AbstractBaseUser | AnonymousUser | None,
) -> None:
    """One row per purpose named, or the channel's ALL row, which replaces its per-purpose rows."""
    defaults = {"is_allowed": is_allowed, "changed_at": now, "reason": reason[:300], "source": source,
                "recorded_by": recorded_by if isinstance(recorded_by, AbstractBaseUser) else None}
    if purposes == ALL_PURPOSES:
        Consent.objects.filter(customer=customer, channel=channel).exclude(purpose=Purpose.ALL).delete()
        Consent.objects.update_or_create(customer=customer, channel=channel, purpose=Purpose.ALL, defaults=defaults)
        return
    for purpose in sorted(purposes):
        Consent.objects.update_or_create(customer=customer, channel=channel, purpose=purpose, defaults=defaults)


def _sync_suppression(
    *, customer: Customer, channel: str, fresh: frozenset[str], now: dt.datetime, reason: str, source: str
) -> None:
    """The suppression entries of the customer's addresses for ``channel`` follow the customer's refused
    purposes there: one ALL entry when every purpose is refused, else one per refused purpose. The
    purposes in ``fresh`` were refused just now (their entry takes this date and reason); the others
    keep theirs."""
    refused = {purpose for refused_channel, purpose in customer.refused_pairs() if refused_channel == channel}
    wanted = {Purpose.ALL.value} if refused == set(PURPOSES) else refused
    for kind, value in _addresses(customer, channel):
        Suppression.objects.filter(kind=kind, value=value, channel=channel).exclude(purpose__in=wanted).delete()
        for purpose in sorted(wanted):
            defaults = {"refused_at": now, "reason": reason[:300], "source": source, "customer": customer}
            if purpose in fresh or (purpose == Purpose.ALL and fresh):
                Suppression.objects.update_or_create(kind=kind, value=value, channel=channel, purpose=purpose, defaults=defaults)
            else:
                Suppression.objects.get_or_create(kind=kind, value=value, channel=channel, purpose=purpose, defaults=defaults)


def record_refusal(
    *, customer: Customer, channels: Iterable[str], now: dt.datetime, reason: str, source: RefusalSource,
    purposes: Iterable[str] | None = None, recorded_by: AbstractBaseUser | AnonymousUser | None = None,
) -> None:
    """The customer refused these channels, for these purposes (None or ALL: every purpose): record it
    with the customer's words, who recorded it and where, keep it by phone and e-mail, and stop
    everything of those purposes on them at once.

    The customer row is locked first, as the queue build does (contacts.queues._lock_still_open): a
    build running now either saw the refusal or its new tasks are cancelled by the announcement.
    """
    refused = frozenset(channels)
    unknown = refused - set(Channel.values)
    if unknown:
        raise ValueError(f"unknown channels {sorted(unknown)}")
    said = purposes_said(purposes)
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        before = _consents_before(locked.pk, refused)  # audit trail
        for channel in sorted(refused):
            _write_consent(customer=locked, channel=channel, purposes=said, is_allowed=False, now=now, reason=reason,
                           source=source, recorded_by=recorded_by)
            _sync_suppression(customer=locked, channel=channel, fresh=said, now=now, reason=reason, source=source)
        _announce(customer_id=locked.pk, channels=refused, now=now, purposes=said)
        _record_consents(locked, refused, before, allowed=False, reason=reason, source=source)  # audit trail
    logger.info("refusal of %s for %s by customer %s recorded (%s)", sorted(refused), sorted(said), customer.pk, source)


def record_consent(
    *, customer: Customer, channel: str, now: dt.datetime, reason: str, purposes: Iterable[str] | None = None,
    source: str = RefusalSource.ADMIN, recorded_by: AbstractBaseUser | AnonymousUser | None = None,
) -> None:
    """The customer allows this channel again, for these purposes (None or ALL: every purpose): the
    refusal and its suppression entries go."""
    said = purposes_said(purposes)
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        before = _consents_before(locked.pk, {channel})  # audit trail
        _write_consent(customer=locked, channel=channel, purposes=said, is_allowed=True, now=now, reason=reason,
                       source=source, recorded_by=recorded_by)
        _sync_suppression(customer=locked, channel=channel, fresh=frozenset(), now=now, reason=reason, source=source)
        _record_consents(locked, {channel}, before, allowed=True, reason=reason, source=source)  # audit trail


def sync_suppression(*, customer: Customer, channel: str, now: dt.datetime) -> None:
    """Bring the suppression entries of ``channel`` in line with the customer's consent rows (after a
    row was deleted in the admin)."""
    _sync_suppression(customer=customer, channel=channel, fresh=frozenset(), now=now, reason="", source=RefusalSource.ADMIN)


def withdraw_suppression(*, customer: Customer, channel: str) -> int:
    """Remove the suppression entries of this customer's addresses for ``channel`` (kept by the
    address, or by its hash after an erasure)."""
    removed = 0
    for kind, value in _addresses(customer, channel):
        removed += Suppression.objects.filter(
            Q(value=value) | Q(value_hash=address_hash(kind, value)), kind=kind, channel=channel
        ).delete()[0]
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
    # An erased customer's refusal is kept by the address's hash alone (customers.privacy).
    hashed = {address_hash(kind, value): (kind, value) for kind, value in by_address}
    entries = Suppression.objects.matching(
        phones=[value for kind, value in by_address if kind == Suppression.Kind.PHONE],
        emails=[value for kind, value in by_address if kind == Suppression.Kind.EMAIL],
    ) | Suppression.objects.filter(value="", value_hash__in=list(hashed))
    for entry in entries:
        if entry.channel in (PHONE_CHANNELS if entry.kind == Suppression.Kind.PHONE else EMAIL_CHANNELS):
            address = (entry.kind, entry.value) if entry.value else hashed.get(entry.value_hash, ("", ""))
            if address[0] != entry.kind:
                continue
            for customer_id in by_address.get(address, ()):
                found[customer_id].append(entry)
    return found


def suppressed_pairs(customers: Sequence[tuple[int, str, str, str]]) -> dict[int, set[tuple[str, str]]]:
    """(id, phone, second phone, e-mail) of customers → the (channel, purpose) pairs the suppression
    list refuses for each, purposes spelled out (the daily build's check, contacts.queues.households)."""
    return {
        customer_id: {
            (entry.channel, purpose)
            for entry in entries
            for purpose in (PURPOSES if entry.purpose == Purpose.ALL else (entry.purpose,))
        }
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
            Consent.objects.filter(customer_id__in=list(matches), is_allowed=False).values_list(
                "customer_id", "channel", "purpose"
            )
        )
        dealership_of = dict(Customer.objects.filter(id__in=list(matches)).values_list("id", "dealership_id"))
        for customer_id, entries in matches.items():
            new: dict[str, set[str]] = defaultdict(set)
            channels = {entry.channel for entry in entries}
            before = _consents_before(customer_id, channels)  # audit trail
            for entry in sorted(entries, key=lambda e: e.refused_at):
                if (customer_id, entry.channel, entry.purpose) in refused or (customer_id, entry.channel, Purpose.ALL) in refused:
                    continue
                if entry.purpose == Purpose.ALL:
                    Consent.objects.filter(customer_id=customer_id, channel=entry.channel).exclude(purpose=Purpose.ALL).delete()
                Consent.objects.update_or_create(
                    customer_id=customer_id, channel=entry.channel, purpose=entry.purpose,
                    defaults={"is_allowed": False, "changed_at": entry.refused_at, "reason": entry.reason,
                              "source": entry.source},
                )
                refused.add((customer_id, entry.channel, entry.purpose))
                new[entry.channel] |= set(PURPOSES if entry.purpose == Purpose.ALL else (entry.purpose,))
            for channel, purposes in sorted(new.items()):
                written += 1
                _announce(customer_id=customer_id, channels=frozenset({channel}), now=now, purposes=frozenset(purposes))
            if new:
                _record_consents(Customer(pk=customer_id, dealership_id=dealership_of[customer_id]),  # audit trail
                                 channels, before, allowed=False, reason=_SUPPRESSION_REASON, source=None)
    return written


# ------------------------------------------------------------------------------------- audit trail
# The consent changes as audit entries (issue 19.6), kept apart so the consent write path can change.

_SOURCES = {RefusalSource.CALL: trail.Source.CALL_SCREEN, RefusalSource.ADMIN: trail.Source.ADMIN,
            RefusalSource.API: trail.Source.API, RefusalSource.IMPORT: trail.Source.IMPORT}
_SUPPRESSION_REASON = "suppression list"


def _consents_before(customer_id: int, channels: Iterable[str]) -> dict[tuple[str, str], bool | None]:
    """(channel, purpose) → is_allowed of the customer's consent rows of these channels, as stored now."""
    return {
        (channel, purpose): is_allowed
        for channel, purpose, is_allowed in Consent.objects.filter(customer_id=customer_id, channel__in=list(channels))
        .values_list("channel", "purpose", "is_allowed")
    }


def _record_consents(customer: Customer, channels: Iterable[str], before: dict[tuple[str, str], bool | None], *,
                     allowed: bool, reason: str, source: RefusalSource | str | None) -> None:
    """One entry per (channel, purpose) of these channels whose consent row changed since ``before``
    (written, replaced or gone); the reason goes with it."""
    after = _consents_before(customer.pk, channels)
    where = _SOURCES.get(RefusalSource(source)) if source in RefusalSource.values else None
    trail.record_many(
        trail.entry(object_type=trail.ObjectType.CONSENT, object_id=f"{customer.pk}:{channel}:{purpose}",
                    action=trail.Action.CONSENT if allowed else trail.Action.REFUSE,
                    changes={"is_allowed": [before.get((channel, purpose)), after.get((channel, purpose))],
                             "reason": [None, reason[:300]]},
                    dealership_id=customer.dealership_id, customer_id=customer.pk, source=where)
        for channel, purpose in sorted(set(before) | set(after))
        if before.get((channel, purpose)) is not after.get((channel, purpose))
    )

