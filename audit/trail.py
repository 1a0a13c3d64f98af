"""Recording changes: ``record`` one, ``record_many`` in bulk, ``diff`` of two states, ``acting``.

Who and from where: the request being served (``audit.middleware`` puts it in a context variable;
the user is read when the entry is written, after DRF's token authentication) or the ``acting`` block
of a task or command. A workflow may name the source itself (an import, a release from the floor).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import decimal
import enum
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from audit.models import Action, AuditEntry, ObjectType, Source

# Entries per INSERT in record_many.
BULK_ROWS = 1000


@dataclass(frozen=True)
class Acting:
    request: HttpRequest | None = None
    actor: Any = None  # a User, or None for the system
    source: str | None = None


_acting: contextvars.ContextVar[Acting | None] = contextvars.ContextVar("audit_acting", default=None)

# The first matching path prefix names the source of a request.
PATH_SOURCES = (
    ("/admin/", Source.ADMIN),
    ("/api/", Source.API),
    ("/calls/floor/", Source.FLOOR),
    ("/calls/", Source.CALL_SCREEN),
    ("/customers/imports/", Source.IMPORT),
    ("/customers/", Source.CUSTOMER_PAGE),
    ("/program/", Source.CONFIGURATION),
    ("/team/", Source.CONFIGURATION),
)


@contextlib.contextmanager
def acting(*, actor: Any = None, source: str | None = None, request: HttpRequest | None = None) -> Iterator[None]:
    """Changes recorded inside this block are by ``actor`` (None: the system) from ``source``."""
    token = _acting.set(Acting(request=request, actor=actor, source=source))
    try:
        yield
    finally:
        _acting.reset(token)


def _who_and_where(source: str | None) -> tuple[Any, str, str | None]:
    current = _acting.get() or Acting()
    actor = current.actor
    address = None
    path_source = None
    if current.request is not None:
        user = getattr(current.request, "user", None)
        if actor is None and getattr(user, "is_authenticated", False):
            actor = user
        address = current.request.META.get("REMOTE_ADDR") or None
        path = current.request.path
        path_source = next((found for prefix, found in PATH_SOURCES if path.startswith(prefix)), None)
    chosen = source or current.source or path_source or Source.SYSTEM
    return actor, str(chosen), address


def plain(value: Any) -> Any:
    """A value as JSON keeps it: dates as ISO text, model instances by id, enums by value."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [plain(item) for item in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    return str(value)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} of the fields whose value differs (a field missing on one side is None)."""
    changes = {}
    for name in sorted(set(before) | set(after)):
        old, new = plain(before.get(name)), plain(after.get(name))
        if old != new:
            changes[name] = [old, new]
    return changes


def entry(
    *, object_type: ObjectType | str, object_id: Any, action: Action | str, changes: Mapping[str, Any] | None = None,
    dealership_id: int | None = None, customer_id: int | None = None, source: Source | str | None = None,
    actor: Any = None, at: dt.datetime | None = None,
) -> AuditEntry:
    """An unsaved entry: who and from where are filled in from the current request or ``acting`` block
    unless given."""
    found_actor, chosen, address = _who_and_where(str(source) if source else None)
    actor = actor if actor is not None else found_actor
    return AuditEntry(
        at=at or timezone.now(), actor=actor, actor_name=getattr(actor, "username", "") if actor else "",
        source=chosen, dealership_id=dealership_id, object_type=str(object_type), object_id=str(object_id),
        customer_id=customer_id, action=str(action), changes=plain(dict(changes or {})), address=address,
    )


def record(**fields: Any) -> AuditEntry:
    """Write one entry now, in the caller's transaction (the same arguments as ``entry``)."""
    saved = entry(**fields)
    saved.save()
    return saved


def record_many(entries: Iterable[AuditEntry]) -> int:
    """Write entries made by ``entry`` in bulk, in the caller's transaction; returns how many."""
    rows = list(entries)
    AuditEntry.objects.bulk_create(rows, batch_size=BULK_ROWS)
    return len(rows)


__all__ = ["Action", "AuditEntry", "ObjectType", "Source", "acting", "diff", "entry", "plain", "record", "record_many"]
