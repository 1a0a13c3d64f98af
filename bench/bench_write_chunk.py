"""One cold re-plan chunk on PostgreSQL, and a raw COPY of the same rows as its reference (issue 17, point 3).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_bench REDIS_URL=redis://127.0.0.1:6379/12 \
        nice .venv/bin/python bench/bench_write_chunk.py --chunk 2000 --repeat 3

On a seeded database (``seed_demo``): empties the touchpoint table (CASCADE: calls and messages about
them go too; run it on a benchmark database only), then, ``--repeat`` times, deletes the chunk's
forecasts, snapshots and fingerprints and re-plans the chunk in this process
(``contacts.planning.chunk.replan``, forced), timing:

- the chunk's wall time, this process's CPU, and the CPU of its PostgreSQL backend (read from
  /proc: server and benchmark share the machine);
- the COMMIT alone (where deferred foreign-key checks run);
- variants (``--variants``): as shipped (foreign keys deferred to COMMIT, Django's default); checked per
  statement (SET CONSTRAINTS ALL IMMEDIATE); no checks at all (reference only); the touchpoint's
  customer and template keys dropped for the run (rolled back);
- the reference, in the same run: the touchpoint rows the chunk wrote, exported, then COPY'd raw
  into an unindexed, unconstrained temporary table shaped like the touchpoint table.

The other vehicles' forecasts stay, so the mileage priors are real (computed once before timing).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clm.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

import bench_replan  # noqa: E402  (the raw COPY every re-plan benchmark prints)
from django.db import connection, transaction  # noqa: E402

from contacts.planning import chunk  # noqa: E402
from contacts.planning.chunk import replan  # noqa: E402
from customers.forecasting import mileage_priors, seasonal_profiles  # noqa: E402
from customers.models import Vehicle  # noqa: E402

backend_cpu_seconds = bench_replan.cpu_seconds  # utime + stime of the chunk's PostgreSQL backend


def empty_chunk(first: int, last: int) -> None:
    with connection.cursor() as cursor:
        for table in ("contacts_touchpoint", "customers_vehicleforecast", "customers_forecastsnapshot",
                      "contacts_planfingerprint"):
            cursor.execute(f"DELETE FROM {table} WHERE vehicle_id >= %s AND vehicle_id < %s", [first, last])


class CommitTimer:
    """Times the COMMIT of the chunk's transaction (wraps the driver connection's commit)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def install(self) -> None:
        connection.ensure_connection()
        raw = connection.connection
        original = raw.commit

        def commit() -> None:
            started = time.perf_counter()
            original()
            self.seconds += time.perf_counter() - started

        raw.commit = commit  # type: ignore[method-assign]


def raw_copy_of(first: int, last: int) -> tuple[float, int]:
    return bench_replan.copy_ceiling(f"vehicle_id >= {first} AND vehicle_id < {last}")


_shipped_commit = chunk._commit_without_waiting_for_the_disk


def variant(name: str) -> None:
    """How the chunk treats its foreign keys: as shipped (deferred to COMMIT, Django's default); checked
    per statement (``immediate``: SET CONSTRAINTS ALL IMMEDIATE in the chunk's transaction); or, as a
    reference only, not checked at all (``unchecked``: session_replication_role = replica, no triggers
    fire; needs a superuser, never the product's way). ``vehicle_key_only``: see ``timed_chunk``."""
    chunk._commit_without_waiting_for_the_disk = _shipped_commit  # type: ignore[attr-defined]
    setting = {"immediate": "CONSTRAINTS ALL IMMEDIATE", "unchecked": "session_replication_role = replica"}.get(name)
    if setting is not None:
        def with_setting() -> None:
            _shipped_commit()
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL {setting}" if "=" in setting else f"SET {setting}")
        chunk._commit_without_waiting_for_the_disk = with_setting  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunk", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--variants", default="shipped",
                        help="comma-separated: shipped, immediate, unchecked, vehicle_key_only")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 12, 1))
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Run this on PostgreSQL: set DATABASE_URL.")
    now = dt.datetime.combine(args.today, dt.time(2, 0), tzinfo=dt.UTC)
    ids = list(Vehicle.objects.order_by("id").values_list("id", flat=True)[: args.chunk])
    first, last = ids[0], ids[-1] + 1
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE contacts_touchpoint CASCADE")
    mileage_priors()  # computed (and cached) before timing: the chunk reads them from the cache
    seasonal_profiles()  # likewise
    timer = CommitTimer()
    timer.install()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    names = args.variants.split(",")
    every: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for _ in range(args.repeat):
        for name in names:  # interleaved, so that the machine's load falls on every variant alike
            variant(name)
            every[name].append(timed_chunk(ids, first, last, now, timer, backend, name))
            print(name, json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in every[name][-1].items()}),
                  file=sys.stderr, flush=True)
    variant("shipped")
    copies = [raw_copy_of(first, last) for _ in range(args.repeat)]

    def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
        def median(key: str) -> float:
            return round(statistics.median(run[key] for run in runs), 3)

        return {
            "touchpoints_created": runs[-1]["touchpoints_created"],
            "forecasts_written": runs[-1]["forecasts_written"],
            "wall_seconds_median": median("wall_seconds"),
            "wall_seconds_each": [round(run["wall_seconds"], 3) for run in runs],
            "python_cpu_seconds_median": median("python_cpu_seconds"),
            "postgresql_cpu_seconds_median": median("postgresql_cpu_seconds"),
            "postgresql_cpu_seconds_each": [round(run["postgresql_cpu_seconds"], 3) for run in runs],
            "commit_seconds_median": median("commit_seconds"),
        }

    print(json.dumps({
        "vehicles_in_chunk": len(ids),
        "repeat": args.repeat,
        "variants": {name: summary(runs) for name, runs in every.items()},
        "raw_copy_seconds_same_touchpoint_rows": round(statistics.median(seconds for seconds, _rows in copies), 3),
        "raw_copy_rows": copies[0][1],
        "load_average": os.getloadavg(),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}",
    }, indent=2))


def timed_chunk(ids: list[int], first: int, last: int, now: dt.datetime, timer: CommitTimer, backend: int,
                variant_name: str) -> dict[str, Any]:
    empty_chunk(first, last)
    with connection.cursor() as cursor:  # the runs before leave dead rows: each run starts from a clean table
        cursor.execute("VACUUM ANALYZE contacts_touchpoint")
        cursor.execute("VACUUM ANALYZE customers_vehicleforecast")
    timer.seconds = 0.0
    server_before, cpu_before, started = backend_cpu_seconds(backend), time.process_time(), time.perf_counter()
    if variant_name != "vehicle_key_only":
        result = replan(vehicle_ids=ids, now=now, force=True)
    else:  # the touchpoint's customer and template keys dropped for this run only (rolled back, no COMMIT)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid = 'contacts_touchpoint'::regclass "
                    "AND confrelid IN ('customers_customer'::regclass, 'contacts_touchpointtemplate'::regclass)"
                )
                for (name,) in cursor.fetchall():
                    cursor.execute(f'ALTER TABLE contacts_touchpoint DROP CONSTRAINT "{name}"')
            server_before, cpu_before, started = backend_cpu_seconds(backend), time.process_time(), time.perf_counter()
            result = replan(vehicle_ids=ids, now=now, force=True)
            transaction.set_rollback(True)
    return {
        "wall_seconds": time.perf_counter() - started, "python_cpu_seconds": time.process_time() - cpu_before,
        "postgresql_cpu_seconds": backend_cpu_seconds(backend) - server_before, "commit_seconds": timer.seconds,
        "touchpoints_created": result.created, "forecasts_written": result.forecasts_written,
    }


if __name__ == "__main__":
    main()
