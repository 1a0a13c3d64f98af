"""Consent per channel and purpose, as pure rules: which (channel, purpose) pairs a customer's consent
rows refuse.

A row names a channel and a purpose, or ``ALL`` purposes (every refusal recorded before purposes
existed, an SMS STOP, a "do not call me at all"). No row = allowed. A row for one purpose speaks
for that purpose only and wins over the channel's ``ALL`` row: "no calls, except service reminders"
is an ``ALL`` refusal and a ``service`` consent. A new ``ALL`` statement replaces the channel's
per-purpose rows (customers.refusals), so the newest word on a purpose is always the one that holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

SERVICE: Final = "service"
SURVEY: Final = "survey"
MARKETING: Final = "marketing"
ALL: Final = "all"
#: Every purpose a contact can have, in the order they are shown.
PURPOSES: Final[tuple[str, ...]] = (SERVICE, SURVEY, MARKETING)


def refused_pairs(rows: Iterable[tuple[str, str, bool]]) -> frozenset[tuple[str, str]]:
    """(channel, purpose or ALL, is_allowed) rows of one customer → the (channel, purpose) pairs refused,
    purposes spelled out (never ALL)."""
    whole: dict[str, bool] = {}
    own: dict[tuple[str, str], bool] = {}
    for channel, purpose, is_allowed in rows:
        if purpose == ALL:
            whole[channel] = is_allowed
        else:
            own[(channel, purpose)] = is_allowed
    channels = set(whole) | {channel for channel, _purpose in own}
    return frozenset(
        (channel, purpose)
        for channel in channels
        for purpose in PURPOSES
        if not own.get((channel, purpose), whole.get(channel, True))
    )


def blocked_channels(refused: Iterable[tuple[str, str]]) -> frozenset[str]:
    """The channels refused for every purpose."""
    pairs = set(refused)
    return frozenset(channel for channel, _purpose in pairs if all((channel, p) in pairs for p in PURPOSES))
