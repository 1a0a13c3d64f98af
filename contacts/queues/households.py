"""Who is resolved together: the customers of a dealership who share a phone are one household (one
budget for calls), with the customers of the group's other dealerships who share it; and what the
resolver reads about them (refusals per channel and purpose, reachability, the hold-out, the contact history)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

from contacts.core import pressure
from contacts.models import (
    CallTask,
    OutboxMessage,
    Touchpoint,
)
from customers.core import consent as consent_rules
from customers.models import Consent, Customer, Dealership
from customers.refusals import suppressed_pairs

logger = logging.getLogger(__name__)


# The resolver sees touchpoints whose window opens within this many days, so a call can wait a few
# days to carry a touchpoint that opens soon (merging), and history this far back for the caps.
LOOKAHEAD_DAYS = 30


HISTORY_DAYS = 366


@dataclass(frozen=True)
class CustomerFacts:
    is_holdout: bool
    is_phone_reachable: bool
    # Channels refused for every purpose (the pure resolver's do-not-contact).
    blocked: frozenset[str]
    # (channel, purpose) pairs refused, purposes spelled out: a refused purpose is filtered before the
    # resolver (contacts.queues.resolving), which knows channels only.
    refused: frozenset[tuple[str, str]] = frozenset()

    def refuses(self, channel: str, purpose: str) -> bool:
        return (channel, purpose) in self.refused


@dataclass(frozen=True, order=True)
class Household:
    """Customers of this dealership who share a phone and have something open (one budget for calls),
    and the ``relatives``: the others with that phone, here with nothing open, or at the group's other
    dealerships (``CLM_HOUSEHOLD_ACROSS_DEALERSHIPS``). The relatives' calls and messages count against
    the same budget, though only the members' touchpoints are placed."""

    members: tuple[int, ...]
    relatives: tuple[int, ...] = ()

    @property
    def subject(self) -> str:
        return "household:" + ",".join(map(str, self.members))


def households_with_open_touchpoints(*, dealership: Dealership, day: dt.date) -> list[Household]:
    """Customers with open touchpoints in the lookahead, grouped by shared phone number (one household
    for calls), in a stable order."""
    wanted = set(
        Touchpoint.objects.filter(
            customer__dealership=dealership,
            status=Touchpoint.Status.PLANNED,
            window_start__lte=day + dt.timedelta(days=LOOKAHEAD_DAYS),
        )
        .values_list("customer_id", flat=True)
        .distinct()
    )
    by_phone: dict[str, list[int]] = defaultdict(list)
    alone: list[Household] = []
    # Customers who share a phone with a wanted one but have nothing open themselves: their calls and
    # messages still count against the household's budget (the simulator found two messages three days
    # apart on one phone, the first to a customer whose touchpoints were all issued by then).
    idle: dict[str, list[int]] = defaultdict(list)
    # The dealership's customers are read whole: an IN list of every wanted id would cost more.
    for customer_id, phone in Customer.objects.filter(dealership=dealership).values_list("id", "phone"):
        if customer_id not in wanted:
            if phone:
                idle[phone].append(customer_id)
            continue
        if phone:
            by_phone[phone].append(customer_id)
        else:
            alone.append(Household((customer_id,)))
    relatives: dict[str, list[int]] = defaultdict(list)
    for phone, ids in idle.items():
        if phone in by_phone:
            relatives[phone].extend(ids)
    if settings.CLM_HOUSEHOLD_ACROSS_DEALERSHIPS and by_phone:
        for customer_id, phone in (
            Customer.objects.exclude(dealership=dealership).exclude(phone="").values_list("id", "phone").iterator(5000)
        ):
            if phone in by_phone:
                relatives[phone].append(customer_id)
    groups = [Household(tuple(sorted(ids)), tuple(sorted(relatives.get(phone, ())))) for phone, ids in by_phone.items()]
    return sorted(groups + alone)


def customer_facts(customer_ids: Sequence[int]) -> dict[int, CustomerFacts]:
    # Allowed rows too: a purpose's consent outweighs its channel's refusal of all purposes.
    rows_by_customer: dict[int, list[tuple[str, str, bool]]] = defaultdict(list)
    for customer_id, channel, purpose, is_allowed in Consent.objects.filter(customer_id__in=customer_ids).values_list(
        "customer_id", "channel", "purpose", "is_allowed"
    ):
        rows_by_customer[customer_id].append((channel, purpose, is_allowed))
    refused: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for customer_id, consent_rows in rows_by_customer.items():
        refused[customer_id] |= consent_rules.refused_pairs(consent_rows)
    rows = list(Customer.objects.filter(id__in=customer_ids).values_list(
        "id", "is_holdout", "phone", "phone_unreachable_since", "phone_alt", "email"
    ))
    # A refused phone or e-mail blocks its channels even on a customer row the suppression list was
    # not applied to (customers.refusals): one more query per chunk.
    for customer_id, pairs in suppressed_pairs([(row[0], row[2], row[4], row[5]) for row in rows]).items():
        refused[customer_id] |= pairs
    return {
        customer_id: CustomerFacts(
            is_holdout=is_holdout,
            is_phone_reachable=phone != "" and unreachable_since is None,
            blocked=consent_rules.blocked_channels(refused.get(customer_id, ())),
            refused=frozenset(refused.get(customer_id, ())),
        )
        for customer_id, is_holdout, phone, unreachable_since, _phone_alt, _email in rows
    }


def contact_history(
    customer_ids: Sequence[int], *, day: dt.date
) -> tuple[dict[int, list[pressure.PastCall]], dict[int, list[dt.date]]]:
    """The calls and messages of these customers in the last HISTORY_DAYS, for the caps and gaps."""
    history_calls: dict[int, list[pressure.PastCall]] = defaultdict(list)
    for customer_id, scheduled_on, is_requested, outcome in CallTask.objects.filter(
        customer_id__in=customer_ids,
        scheduled_on__gte=day - dt.timedelta(days=HISTORY_DAYS),
    ).exclude(status=CallTask.Status.CANCELLED).values_list("customer_id", "scheduled_on", "is_requested", "outcome"):
        history_calls[customer_id].append(
            pressure.PastCall(on=scheduled_on, is_reached=outcome == "reached", is_requested=is_requested)
        )
    history_messages: dict[int, list[dt.date]] = defaultdict(list)
    for customer_id, send_on in OutboxMessage.objects.filter(
        customer_id__in=customer_ids, send_on__gte=day - dt.timedelta(days=HISTORY_DAYS)
    ).exclude(status=OutboxMessage.Status.CANCELLED).values_list("customer_id", "send_on"):
        history_messages[customer_id].append(send_on)
    return history_calls, history_messages
