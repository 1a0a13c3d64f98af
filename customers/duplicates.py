"""Duplicate customers: finding the pairs who may be one person, and merging them.

**Detection** (on import, for the rows written, and nightly for every dealership,
``customers.tasks.detect_duplicates``): two live customers of one dealership are a candidate pair when
they share a phone (E.164; the main or the second number of either), an e-mail (in any case) or the last
name, first name and birthday. The pairs are found by the database in self-joins (one per rule, on the
indexes of migration 0007) and streamed in chunks of ``CHUNK_PAIRS``, so memory stays flat whatever the
number of customers; each chunk is upserted against the stored pairs. Running it again changes nothing:
an open pair gains a new reason at most, a dismissed or merged pair is left as it is.

Pairs are looked for **within a dealership only**. A merge moves facts (vehicles, sales) between
customers, and facts belong to one dealership; across dealerships the customers who share a phone are
already one household with one contact budget when ``CLM_HOUSEHOLD_ACROSS_DEALERSHIPS`` is on (the
default), so a group-wide duplicate is never called twice too often; with it off the dealerships keep
their customers apart on purpose.

**Merge** (``merge_customers``): in one transaction, with both rows locked, the contact side moves or
withdraws what it holds (``hooks.customers_merged``, filled by contacts), then vehicles (and with them
their visits and readings), sales, consents (the stricter of two rows per consent key: a refusal on
either side wins) and suppression entries move to the survivor, the survivor takes the merged
customer's contact details where its own are empty, and the survivor's vehicles are re-planned.

The merged customer is **kept as a tombstone** (``Customer.merged_into``) rather than deleted: the DMS
keeps exporting it under its external id, and an import must find the survivor by that id instead of
creating the same person again (a deleted row would come back as a new customer and a new duplicate);
the pair keeps both sides for the record and for the audit trail. A tombstone owns nothing, is left
out of lists, searches, figures and detection (``CustomerQuerySet.live``), has no phone or e-mail
of its own (they are the survivor's), and an import row for it changes only
the survivor's refusals, never its name or phones (the survivor's data is the row that was kept).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from customers import hooks
from customers.models import Consent, Customer, Dealership, DuplicateCandidate, Sale, Suppression, Vehicle
from customers.refusals import announce_refusal, apply_suppression_list

logger = logging.getLogger(__name__)

# Pairs per upsert of the detection, and customer ids per restricted query.
CHUNK_PAIRS = 2000
IDS_PER_QUERY = 500

Reason = DuplicateCandidate.Reason

# (reason, the column of one side, the column of the other): a pair per join, the lower id first.
_PHONE_JOINS = [("phone", "phone"), ("phone", "phone_alt"), ("phone_alt", "phone"), ("phone_alt", "phone_alt")]


def _pair_selects(restricted: str) -> list[str]:
    live = "a.merged_into_id IS NULL AND b.merged_into_id IS NULL AND a.dealership_id = %s"
    selects = [
        f"SELECT a.id, b.id, '{Reason.PHONE.value}' FROM customers_customer a JOIN customers_customer b "
        f"ON b.{other} = a.{own} AND b.dealership_id = a.dealership_id AND a.id < b.id "
        # Both sides' NOT (... = ''): implied by the join, but SQLite uses a partial index only when the
        # query states the index's condition in its very words (migration 0012); without it each lookup
        # scanned the dealership: 20 s per 2,000 imported rows.
        f"WHERE NOT (a.{own} = '') AND NOT (b.{other} = '') AND {live}{restricted}"
        for own, other in _PHONE_JOINS
    ]
    selects.append(
        f"SELECT a.id, b.id, '{Reason.EMAIL.value}' FROM customers_customer a JOIN customers_customer b "
        "ON LOWER(b.email) = LOWER(a.email) AND b.dealership_id = a.dealership_id AND a.id < b.id "
        f"WHERE NOT (a.email = '') AND NOT (b.email = '') AND {live}{restricted}"
    )
    selects.append(
        f"SELECT a.id, b.id, '{Reason.NAME_BIRTHDAY.value}' FROM customers_customer a JOIN customers_customer b "
        "ON b.dealership_id = a.dealership_id AND b.last_name = a.last_name AND b.first_name = a.first_name "
        "AND b.birthday = a.birthday AND a.id < b.id "
        f"WHERE a.birthday IS NOT NULL AND b.birthday IS NOT NULL AND {live}{restricted}"
    )
    return selects


def _pairs(dealership_id: int, customer_ids: Sequence[int] | None) -> Iterator[tuple[int, int, str]]:
    """(lower id, higher id, reason) of the dealership's live look-alike pairs, ordered by pair; with
    ``customer_ids``, only the pairs with one of them on either side (each join twice, once per side,
    so that each is driven by the ids and the join's index rather than by the whole table)."""
    if customer_ids is None:
        batches: list[tuple[str, list[int]]] = [("", [])]
    else:
        batches = []
        for start in range(0, len(customer_ids), IDS_PER_QUERY):
            ids = list(customer_ids[start:start + IDS_PER_QUERY])
            marks = ", ".join(["%s"] * len(ids))
            batches += [(f" AND a.id IN ({marks})", ids), (f" AND b.id IN ({marks})", ids)]
    for restricted, ids in batches:
        selects = _pair_selects(restricted)
        params = [value for _select in selects for value in (dealership_id, *ids)]
        with connection.cursor() as cursor:
            cursor.execute(" UNION ".join(selects) + " ORDER BY 1, 2", params)
            while rows := cursor.fetchmany(CHUNK_PAIRS):
                yield from rows


@dataclass
class DetectionResult:
    found: int = 0  # pairs seen
    created: int = 0  # new open pairs
    widened: int = 0  # open pairs that gained a reason


def detect_duplicates(
    *, dealership: Dealership, now: dt.datetime, customer_ids: Iterable[int] | None = None
) -> DetectionResult:
    """Store the dealership's look-alike pairs (all, or those of ``customer_ids``). Idempotent."""
    result = DetectionResult()
    ids = None if customer_ids is None else sorted(set(customer_ids))
    if ids == []:
        return result
    chunk: dict[tuple[int, int], set[str]] = {}
    for low, high, reason in _pairs(dealership.pk, ids):
        if len(chunk) >= CHUNK_PAIRS and (low, high) not in chunk:
            _store(dealership, chunk, now, result)
            chunk = {}
        chunk.setdefault((low, high), set()).add(reason)
    if chunk:
        _store(dealership, chunk, now, result)
    if result.created or result.widened:
        logger.info("duplicates of %s: %d pairs, %d new, %d with a new reason", dealership.code, result.found,
                    result.created, result.widened)
    return result


def _store(dealership: Dealership, chunk: dict[tuple[int, int], set[str]], now: dt.datetime,
           result: DetectionResult) -> None:
    result.found += len(chunk)
    lows = {low for low, _high in chunk}
    stored = {
        (c.customer_id, c.other_id): c
        for c in DuplicateCandidate.objects.filter(customer_id__in=lows, other_id__in={h for _l, h in chunk})
    }
    new = []
    widened = []
    for pair, reasons in chunk.items():
        candidate = stored.get(pair)
        if candidate is None:
            new.append(DuplicateCandidate(dealership=dealership, customer_id=pair[0], other_id=pair[1],
                                          reasons=",".join(sorted(reasons)), found_at=now))
        elif candidate.status == DuplicateCandidate.Status.OPEN and not reasons <= set(candidate.reason_list):
            candidate.reasons = ",".join(sorted(reasons | set(candidate.reason_list)))
            widened.append(candidate)
    # ignore_conflicts: a detection running at the same moment (an import and the night) may insert first.
    DuplicateCandidate.objects.bulk_create(new, ignore_conflicts=True)
    DuplicateCandidate.objects.bulk_update(widened, ["reasons"])
    result.created += len(new)
    result.widened += len(widened)


def look_alike_refs(
    *, dealership: Dealership, rows: Sequence[tuple[int, dict[str, object], int | None]]
) -> set[int]:
    """Of import rows (ref, parsed values, the id of the customer the row is, if any), those that look
    like an existing different live customer of the dealership: same phone, e-mail or name and birthday.
    A few queries per window of rows, on the detection's indexes."""
    phones: set[str] = set()
    emails: set[str] = set()
    names: set[tuple[str, str, dt.date]] = set()
    for _ref, values, _own in rows:
        phones |= {str(values.get(f) or "") for f in ("phone", "phone_alt")} - {""}
        if values.get("email"):
            emails.add(str(values["email"]).lower())
        if values.get("birthday"):
            names.add((str(values["last_name"]), str(values["first_name"]), values["birthday"]))  # type: ignore[arg-type]
    if not (phones or emails or names):
        return set()
    live = Customer.objects.live().filter(dealership=dealership)
    by_phone: dict[str, set[int]] = {}
    by_email: dict[str, set[int]] = {}
    by_name: dict[tuple[str, str, dt.date], set[int]] = {}
    if phones:
        for customer_id, phone, phone_alt in live.filter(Q(phone__in=phones) | Q(phone_alt__in=phones)).values_list(
            "id", "phone", "phone_alt"
        ):
            for value in {phone, phone_alt} & phones:
                by_phone.setdefault(value, set()).add(customer_id)
    if emails:
        for customer_id, email in live.annotate(email_key=models.functions.Lower("email")).filter(
            email_key__in=emails
        ).values_list("id", "email"):
            by_email.setdefault(email.lower(), set()).add(customer_id)
    if names:
        for customer_id, last, first, birthday in live.filter(
            birthday__in={b for _l, _f, b in names}, last_name__in={n[0] for n in names}
        ).values_list("id", "last_name", "first_name", "birthday"):
            if birthday is not None:
                by_name.setdefault((last, first, birthday), set()).add(customer_id)
    found = set()
    for ref, values, own in rows:
        matches: set[int] = set()
        for field in ("phone", "phone_alt"):
            matches |= by_phone.get(str(values.get(field) or ""), set())
        matches |= by_email.get(str(values.get("email") or "").lower(), set())
        if values.get("birthday"):
            key = (str(values["last_name"]), str(values["first_name"]), values["birthday"])
            matches |= by_name.get(key, set())  # type: ignore[arg-type]
        if matches - {own}:
            found.add(ref)
    return found


# ------------------------------------------------------------------------------------------- merge


class MergeRefused(Exception):
    """The merge cannot be done now; the message says why and what to do."""


# Contact details the survivor takes from the merged customer where its own are empty.
FILLED_FIELDS = ("phone", "phone_alt", "email", "birthday", "middle_name", "address")


def merge_customers(*, survivor: Customer, merged: Customer, now: dt.datetime, decided_by: object = None) -> Customer:
    """Make ``merged`` one with ``survivor`` (module docstring). Raises MergeRefused."""
    if survivor.pk == merged.pk:
        raise MergeRefused(_("A customer cannot be merged with itself."))
    with transaction.atomic():
        locked = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk]).order_by("pk")}
        if len(locked) != 2:
            raise MergeRefused(_("One of these customers no longer exists."))
        survivor, merged = locked[survivor.pk], locked[merged.pk]
        if survivor.dealership_id != merged.dealership_id:
            raise MergeRefused(_("Only customers of one dealership can be merged."))
        if survivor.merged_into_id or merged.merged_into_id:
            raise MergeRefused(_("One of these customers was already merged into another; reload the page."))
        hooks.customers_merged(survivor_id=survivor.pk, merged_id=merged.pk, now=now)
        vehicle_ids = set(Vehicle.objects.filter(owner=merged).values_list("id", flat=True))
        Vehicle.objects.filter(owner=merged).update(owner=survivor)
        Sale.objects.filter(customer=merged).update(customer=survivor)
        refused = _keep_strictest_consents(survivor=survivor, merged=merged)
        Suppression.objects.filter(customer=merged).update(customer=survivor)
        filled = _fill_contact_details(survivor=survivor, merged=merged)
        _make_tombstone(merged, survivor)
        _close_pairs(survivor=survivor, merged=merged, now=now, decided_by=decided_by)
        if refused:
            announce_refusal(customer_id=survivor.pk, channels=frozenset(refused), now=now)
        if set(filled) & {"phone_alt", "email"}:
            apply_suppression_list(customer_ids=[survivor.pk], now=now)
        vehicle_ids |= set(Vehicle.objects.filter(owner=survivor).values_list("id", flat=True))
        hooks.vehicles_changed(vehicle_ids)
        detect_duplicates(dealership=survivor.dealership, now=now, customer_ids=[survivor.pk])
    logger.info("customer %s merged into %s", merged.pk, survivor.pk)
    return survivor


def _consent_key_fields() -> tuple[str, ...]:
    """The fields besides the customer that name one consent: its unique constraint's (the channel, and
    the purpose where consents have one)."""
    for constraint in Consent._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and "customer" in constraint.fields:
            return tuple(f for f in constraint.fields if f != "customer")
    return ("channel",)


def _keep_strictest_consents(*, survivor: Customer, merged: Customer) -> set[str]:
    """Per consent key, the stricter row stays with the survivor: a refusal on either side wins (with its
    date and reason), else the survivor's own row. Returns the channels the survivor newly refuses."""
    keys = _consent_key_fields()
    own = {tuple(getattr(c, f) for f in keys): c for c in Consent.objects.filter(customer=survivor)}
    copied = [f.name for f in Consent._meta.concrete_fields if f.name not in ("id", "customer", *keys)]
    refused: set[str] = set()
    for theirs in Consent.objects.filter(customer=merged):
        key = tuple(getattr(theirs, f) for f in keys)
        mine = own.get(key)
        if mine is None:
            theirs.customer = survivor
            theirs.save(update_fields=["customer"])
            if not theirs.is_allowed:
                refused.add(theirs.channel)
            continue
        if mine.is_allowed and not theirs.is_allowed:
            for name in copied:
                setattr(mine, name, getattr(theirs, name))
            mine.save(update_fields=copied)
            refused.add(mine.channel)
        theirs.delete()
    return refused


def _fill_contact_details(*, survivor: Customer, merged: Customer) -> list[str]:
    filled = []
    for name in FILLED_FIELDS:
        if not getattr(survivor, name) and getattr(merged, name):
            value = getattr(merged, name)
            if name == "phone_alt" and value == survivor.phone:
                continue
            setattr(survivor, name, value)
            filled.append(name)
    if not survivor.phone_alt and merged.phone and merged.phone != survivor.phone:
        survivor.phone_alt = merged.phone
        filled.append("phone_alt")
    if filled:
        survivor.save(update_fields=[*filled, "updated_at"])
    return filled


def _make_tombstone(merged: Customer, survivor: Customer) -> None:
    """The merged row keeps its name, external id and dates for the record; its phones and e-mail are
    the survivor's now, so nothing finds the person by them twice (households, replies, unsubscribes)."""
    merged.merged_into = survivor
    merged.phone = merged.phone_alt = merged.email = ""
    merged.phone_unreachable_since = merged.email_unreachable_since = None
    merged.phone_failures = 0
    merged.save(update_fields=["merged_into", "phone", "phone_alt", "email", "phone_unreachable_since",
                               "email_unreachable_since", "phone_failures", "updated_at"])


def _close_pairs(*, survivor: Customer, merged: Customer, now: dt.datetime, decided_by: object) -> None:
    """The pair is merged; other open pairs with the merged customer go (the survivor's are found again)."""
    low, high = sorted((survivor.pk, merged.pk))
    user_id = getattr(decided_by, "pk", None)
    updated = DuplicateCandidate.objects.filter(customer_id=low, other_id=high).update(
        status=DuplicateCandidate.Status.MERGED, decided_at=now, decided_by_id=user_id, survivor=survivor
    )
    if not updated:
        DuplicateCandidate.objects.create(
            dealership_id=survivor.dealership_id, customer_id=low, other_id=high, reasons="",
            status=DuplicateCandidate.Status.MERGED, found_at=now, decided_at=now, decided_by_id=user_id,
            survivor=survivor,
        )
    DuplicateCandidate.objects.filter(
        Q(customer=merged) | Q(other=merged), status=DuplicateCandidate.Status.OPEN
    ).delete()


def dismiss_pair(*, candidate: DuplicateCandidate, now: dt.datetime, decided_by: object = None) -> None:
    """Not the same person: remembered, never proposed again."""
    DuplicateCandidate.objects.filter(pk=candidate.pk, status=DuplicateCandidate.Status.OPEN).update(
        status=DuplicateCandidate.Status.DISMISSED, decided_at=now, decided_by_id=getattr(decided_by, "pk", None)
    )
