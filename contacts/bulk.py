"""Large touchpoint writes: on PostgreSQL, COPY into a temporary table and one statement, or straight
into the table for vehicles with nothing stored (customers.bulk); SQLite, and small writes, use
Django's bulk operations.

Both paths are idempotent: an insert that meets an existing natural key does nothing, so two
re-plans of the same vehicles at once leave one set of rows; a move never touches a touchpoint that
was issued or done meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils import timezone
from psycopg.types.json import Jsonb

from contacts.models import Touchpoint
from customers import bulk

INSERT_COLUMNS = (
    "vehicle_id", "customer_id", "template_id", "cycle_start", "occurrence", "due_on", "window_start",
    "window_end", "status", "reason", "reason_detail", "resolution", "updated_at",
)
UPDATE_COLUMNS = ("id", "due_on", "window_start", "window_end", "reason", "reason_detail", "customer_id", "status", "updated_at")
# A re-plan moves only touchpoints still in these states (never an issued or done one).
MOVABLE_STATUSES = ("planned", "cancelled", "suppressed")


def insert_touchpoints(rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert new touchpoints, given as tuples in INSERT_COLUMNS order without ``updated_at``; an existing
    natural key wins (must run inside a transaction)."""
    now = timezone.now()
    if not bulk.uses_copy(len(rows)):
        Touchpoint.objects.bulk_create(
            [Touchpoint(**dict(zip(INSERT_COLUMNS, (*row, now), strict=True))) for row in rows],
            batch_size=2000,
            ignore_conflicts=True,
        )
        return
    bulk.insert(
        "contacts_touchpoint",
        INSERT_COLUMNS,
        ((*row[:10], Jsonb(row[10]), row[11], now) for row in rows),
        on_conflict="ON CONFLICT (vehicle_id, template_id, cycle_start, occurrence) DO NOTHING",
    )


def insert_new_touchpoints(rows: Sequence[tuple[Any, ...]]) -> None:
    """``insert_touchpoints`` for touchpoints of vehicles that had none stored when the caller looked (a
    cold re-plan, a new car): on PostgreSQL COPY'd straight into the table (customers.bulk.copy_new),
    without the temporary table and its INSERT ... ON CONFLICT (a cold chunk of 2,000 vehicles: 0.35 s
    of wall and 0.06 s of PostgreSQL CPU less, bench/bench_write_chunk.py); a concurrent re-plan that
    stored some of them first makes that fall back to the upsert (must run inside a transaction)."""
    if not bulk.uses_copy(len(rows)):
        insert_touchpoints(rows)
        return
    now = timezone.now()
    bulk.copy_new(
        "contacts_touchpoint",
        INSERT_COLUMNS,
        [(*row[:10], Jsonb(row[10]), row[11], now) for row in rows],
        on_conflict="ON CONFLICT (vehicle_id, template_id, cycle_start, occurrence) DO NOTHING",
    )


def update_touchpoints(rows: Sequence[tuple[Any, ...]]) -> None:
    """Write moved touchpoints' new dates, reasons and status, given as tuples in UPDATE_COLUMNS order
    without ``updated_at``; an issued or done touchpoint is never moved (must run inside a transaction)."""
    now = timezone.now()
    if not bulk.uses_copy(len(rows), update=True):
        fields = [name for name in UPDATE_COLUMNS if name != "id"]
        movable = Touchpoint.objects.filter(status__in=MOVABLE_STATUSES, id__in=[row[0] for row in rows])
        still_movable = set(movable.values_list("id", flat=True))
        Touchpoint.objects.bulk_update(
            [Touchpoint(**dict(zip(UPDATE_COLUMNS, (*row, now), strict=True))) for row in rows if row[0] in still_movable],
            fields,
            batch_size=2000,
        )
        return
    statuses = ", ".join(f"'{status}'" for status in MOVABLE_STATUSES)
    bulk.update(
        "contacts_touchpoint",
        UPDATE_COLUMNS,
        ((*row[:5], Jsonb(row[5]), row[6], row[7], now) for row in rows),
        key="id",
        where=f"t.status IN ({statuses})",
    )
