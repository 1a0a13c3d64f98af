"""Large writes on PostgreSQL: COPY the rows into a temporary table, then one INSERT or UPDATE from it;
or, for rows that cannot meet a stored row, COPY straight into the table (``copy_new``).

Django's bulk_create prepares every value in Python, and bulk_update builds a CASE per row and
column: measured here, bulk_create ≈ 10k rows/s against ≈ 58k rows/s for COPY + upsert, and a
bulk_update of 2,000 forecasts (14 columns) took 22 s against well under a second. Below
``COPY_THRESHOLD`` rows, and on SQLite, callers use the ORM (``uses_copy`` says which).

Must run inside a transaction: the temporary table lives until the statement that reads it is done.
Values of JSON columns are passed wrapped in ``psycopg.types.json.Jsonb``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import psycopg
from django.db import IntegrityError, connection, transaction

# Below this many rows the plain ORM statements are as fast and simpler to read in a query log.
COPY_THRESHOLD = 500
# A table that one import wrote this many rows into is ANALYZEd at its end (``refresh_statistics_after``).
ANALYZE_AFTER_ROWS = 5000


# Updates go through the temporary table from far fewer rows: Django's bulk_update builds a CASE
# expression per row and field in Python (~2 ms a row for a touchpoint's eight fields; 1.2 s of a
# 1.6 s chunk on a night when 3 % of the vehicles changed), the temporary table costs a fixed few ms.
UPDATE_COPY_THRESHOLD = 20


def uses_copy(rows: int, *, update: bool = False) -> bool:
    return connection.vendor == "postgresql" and rows >= (UPDATE_COPY_THRESHOLD if update else COPY_THRESHOLD)


def _through_temp(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], statement: str) -> int:
    """COPY the rows into a temporary table shaped like ``table``'s columns, run ``statement`` (which
    reads it as ``{temp}``), drop it; returns the statement's row count."""
    temp = f"{table}_incoming"
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {temp}")
        # The target's column types, none of its constraints: the statement that follows checks them.
        cursor.execute(f"CREATE TEMP TABLE {temp} ON COMMIT DROP AS SELECT {names} FROM {table} WITH NO DATA")
        with cursor.copy(f"COPY {temp} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(statement.format(temp=temp))
        count = cursor.rowcount
        cursor.execute(f"DROP TABLE {temp}")
    return int(count)


def insert(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, on_conflict: str) -> int:
    """INSERT the rows; ``on_conflict`` is the statement's ON CONFLICT clause. Returns rows inserted."""
    names = ", ".join(columns)
    return _through_temp(table, columns, rows, f"INSERT INTO {table} ({names}) SELECT {names} FROM {{temp}} {on_conflict}")


def update(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, key: str, where: str = "") -> int:
    """UPDATE the rows matched by the ``key`` column to the other columns' values; ``where`` is an extra
    condition on the target row ``t``. Returns rows updated."""
    assignments = ", ".join(f"{name} = m.{name}" for name in columns if name != key)
    condition = f" AND ({where})" if where else ""
    return _through_temp(
        table, columns, rows, f"UPDATE {table} t SET {assignments} FROM {{temp}} m WHERE t.{key} = m.{key}{condition}"
    )


def copy_new(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, on_conflict: str) -> int:
    """COPY rows straight into ``table``: for rows the caller found no stored row to meet (a re-plan's
    touchpoints of a vehicle with none stored), with no temporary table and no INSERT ... SELECT.

    A concurrent writer may have stored some of the same keys since the caller looked: the COPY then
    fails on the unique index, is rolled back to its savepoint, and the rows go through ``insert``
    with ``on_conflict`` instead (so an existing key still wins). Returns rows written."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    except (IntegrityError, psycopg.errors.UniqueViolation):  # COPY's errors come from the driver unwrapped
        return insert(table, columns, rows, on_conflict=on_conflict)
    return len(rows)


def refresh_statistics(tables: Iterable[str]) -> None:
    """ANALYZE these tables on PostgreSQL (SQLite plans without statistics): after the nightly sweep
    (contacts.planning.sweep) and after a large import. Autovacuum may be off or behind, and with stale
    statistics the planner picked a sequential scan: one vehicle's touchpoints took 49 ms to look up
    instead of 0.08 ms after a sweep, until ANALYZE. Each table is sampled (30,000 rows at the default
    statistics target), so this takes a second or two whatever the table's size."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def refresh_statistics_after(rows_by_table: Mapping[str, int]) -> list[str]:
    """``refresh_statistics`` of the tables that a write changed ``ANALYZE_AFTER_ROWS`` rows or more of
    (an import of a few rows leaves them to autovacuum). Returns the tables analyzed."""
    large = sorted(table for table, rows in rows_by_table.items() if rows >= ANALYZE_AFTER_ROWS)
    refresh_statistics(large)
    return large if connection.vendor == "postgresql" else []
