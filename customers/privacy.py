"""The hash under which an erased customer's refusal is kept (the suppression list without the address).

HMAC-SHA256 keyed with ``settings.SUPPRESSION_HASH_KEY`` (by default the SECRET_KEY): a phone number
has too few possible values for a plain hash to hide it, so the key is what keeps the list from
being reversed. Changing the key makes the erased refusals unmatchable: set it once, never change it
(README, configuration).
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

from customers.models import Suppression, normalize_email


def address_hash(kind: str, value: str) -> str:
    """``kind`` is Suppression.Kind (phone in E.164, e-mail in any case)."""
    normalised = normalize_email(value) if kind == Suppression.Kind.EMAIL else value
    key = settings.SUPPRESSION_HASH_KEY.encode()
    return hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()
