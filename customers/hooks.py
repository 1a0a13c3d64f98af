"""What the facts app announces and asks for, without importing the apps built on it.

The facts app (``customers``) never imports the contacts app: the dependency points one way. Where a
fact needs the contact side (a changed vehicle must be re-planned, an import draws new customers into
the hold-out at the dealership's share, the customer page shows the contact plan), this module names
the need, and ``contacts`` fills it in when it starts (``contacts/apps.py``). Refusals have their own
announcement (``customers.refusals.on_refusal``).

Without a provider (the facts app alone), changes are simply not announced, the hold-out share is the
product's default and the card shows the facts only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from customers.models import Customer, Dealership

# The product's default hold-out share (README "Hold-out group"), when no provider says otherwise.
DEFAULT_HOLDOUT_SHARE_PERCENT = 5

_vehicle_listeners: list[Callable[[Iterable[int]], None]] = []
_holdout_share: list[Callable[[Dealership], int]] = []
_card: list[Callable[..., dict[str, Any]]] = []


def on_vehicles_changed(listener: Callable[[Iterable[int]], None]) -> None:
    """Register ``listener(vehicle_ids)``, called inside the transaction that changed their facts."""
    if listener not in _vehicle_listeners:
        _vehicle_listeners.append(listener)


def vehicles_changed(vehicle_ids: Iterable[int]) -> None:
    """Announce that the facts of these vehicles changed (a sale, a visit, a reading, an import row)."""
    ids = sorted(set(vehicle_ids))
    if not ids:
        return
    for listener in _vehicle_listeners:
        listener(ids)


def provide_holdout_share(provider: Callable[[Dealership], int]) -> None:
    _holdout_share[:] = [provider]


def holdout_share_percent(dealership: Dealership) -> int:
    """The share of new customers the dealership keeps out of planned contact (the hold-out group)."""
    return _holdout_share[0](dealership) if _holdout_share else DEFAULT_HOLDOUT_SHARE_PERCENT


def provide_customer_card(provider: Callable[..., dict[str, Any]]) -> None:
    _card[:] = [provider]


def customer_card(*, customer: Customer, today: dt.date) -> dict[str, Any]:
    """The customer page's context: the contact side's card, or the facts alone."""
    if _card:
        return _card[0](customer=customer, today=today)
    return {"customer": customer, "vehicles": list(customer.vehicles.all()), "today": today}


class MergeListener(Protocol):
    def __call__(self, *, survivor_id: int, merged_id: int, now: dt.datetime) -> None: ...


_merge_listeners: list[MergeListener] = []


def on_customers_merged(listener: MergeListener) -> None:
    """Register ``listener(survivor_id=, merged_id=, now=)``, called inside the merge's transaction with
    both customer rows locked, before the facts move; it moves what the contact side holds of the merged
    customer (calls, attempts, hand-offs, messages, touchpoints) and may refuse the merge by raising
    ``customers.duplicates.MergeRefused``."""
    if listener not in _merge_listeners:
        _merge_listeners.append(listener)


def customers_merged(*, survivor_id: int, merged_id: int, now: dt.datetime) -> None:
    """Announce that ``merged_id`` becomes ``survivor_id`` (customers.duplicates.merge_customers)."""
    for listener in _merge_listeners:
        listener(survivor_id=survivor_id, merged_id=merged_id, now=now)


_last_contacts: list[Callable[[Iterable[int]], dict[int, dt.datetime]]] = []


def provide_last_contacts(provider: Callable[[Iterable[int]], dict[int, dt.datetime]]) -> None:
    _last_contacts[:] = [provider]


def last_contacts(customer_ids: Iterable[int]) -> dict[int, dt.datetime]:
    """Customer id → the moment of their last call (the Duplicates page); none without a provider."""
    return _last_contacts[0](customer_ids) if _last_contacts else {}
