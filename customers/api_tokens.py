"""Workflow: API tokens — issue one (its secret shown once), revoke it, check it, record its use.

Use is recorded cheaply: each request adds one to a counter in the cache (Redis in production), and
the token's row (last used, from where, how many uses) is written at most once a minute per token,
by a conditional UPDATE, so many processes together still write it once a minute."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import F, Q
from django.utils.translation import gettext as _

from customers.models import ApiToken, hash_secret

logger = logging.getLogger(__name__)

SECRET_PREFIX = "clm_"
USE_RECORD_INTERVAL = dt.timedelta(minutes=1)
ALL_SCOPES = tuple(ApiToken.Scope.values)


class TokenError(ValueError):
    """A token that cannot be issued as asked (an unknown scope, a bad lifetime)."""


@dataclasses.dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once; only its hash is stored


def parse_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = {scope.strip() for scope in scopes if scope.strip()}
    unknown = sorted(chosen - set(ALL_SCOPES))
    if unknown:
        raise TokenError(_("Unknown scope %(scopes)s: choose from read, write, dialer.") % {"scopes": ", ".join(unknown)})
    if not chosen:
        raise TokenError(_("Choose at least one scope: read, write, dialer."))
    return [scope for scope in ALL_SCOPES if scope in chosen]


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def prefix_of(secret: str) -> str:
    return secret[: len(SECRET_PREFIX) + 6]


def issue_token(*, user: Any, name: str, scopes: Iterable[str], now: dt.datetime, days: int | None = None) -> IssuedToken:
    days = settings.API_TOKEN_DEFAULT_DAYS if days is None else days
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        raise TokenError(_("A token lives from 1 to %(max)s days.") % {"max": settings.API_TOKEN_MAX_DAYS})
    secret = new_secret()
    token = ApiToken.objects.create(
        user=user, name=name.strip() or _("API token"), scopes=",".join(parse_scopes(scopes)),
        prefix=prefix_of(secret), secret_hash=hash_secret(secret),
        expires_at=now + dt.timedelta(days=days),
    )
    return IssuedToken(token=token, secret=secret)


def revoke_token(*, token: ApiToken, now: dt.datetime) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    token.refresh_from_db(fields=["revoked_at"])


def find_token(secret: str) -> ApiToken | None:
    return ApiToken.objects.select_related("user").filter(secret_hash=hash_secret(secret)).first()


def _uses_key(token: ApiToken) -> str:
    return f"clm:api-token-uses:{token.pk}"


def _count_use(token: ApiToken) -> int:
    """This request added to the token's pending uses in the cache; how many are pending now."""
    key = _uses_key(token)
    try:
        cache.add(key, 0, timeout=None)
        return int(cache.incr(key))
    except Exception as error:  # a cache that is down must not refuse the API: count this use alone
        logger.warning("API token use counted without the cache (%s)", error)
        return 1


def record_use(token: ApiToken, *, now: dt.datetime, address: str | None) -> bool:
    """Count one use; write the token's row if its last write is a minute old. True when written."""
    pending = _count_use(token)
    if token.last_used_at is not None and now - token.last_used_at < USE_RECORD_INTERVAL:
        return False
    written = ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - USE_RECORD_INTERVAL)
    ).update(last_used_at=now, last_used_address=address or None, use_count=F("use_count") + pending)
    if written:
        try:
            cache.decr(_uses_key(token), pending)  # uses counted meanwhile by other requests stay pending
        except Exception as error:
            logger.warning("API token uses not taken from the cache (%s)", error)
    return bool(written)
