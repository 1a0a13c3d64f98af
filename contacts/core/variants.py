"""Script A/B: which of a template's script variants a call uses. Pure: no Django, no clock.

The choice is a stable hash of the template's code and the call's subject (the customer), read
against the split: the same customer gets the same variant of a template on every build and every
re-build, and over many customers each variant gets its share."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = ["VARIANT_KEYS", "choose_variant"]

#: The names of a template's variants, in order: A is the template's own script.
VARIANT_KEYS = ("A", "B", "C", "D", "E")

_BUCKETS = 10_000  # a percentage split is read to two decimals of a percent


def choose_variant(*, code: str, subject: int | str, split: Sequence[tuple[str, int]]) -> str:
    """The variant of ``split`` ((key, percent) pairs summing to 100) for ``subject``; "" if the split
    is empty. Deterministic: sha256 of "code:subject" mapped to 0..9,999 against the cumulative
    shares, so it does not depend on the process (Python's own hash is salted per process)."""
    if not split:
        return ""
    digest = hashlib.sha256(f"{code}:{subject}".encode()).digest()
    bucket = int.from_bytes(digest[:8], "big") % _BUCKETS
    total = sum(percent for _key, percent in split) or 1
    edge = 0
    for key, percent in split:
        edge += percent
        if bucket < edge * _BUCKETS // total:
            return key
    return split[-1][0]
