"""Nightly re-plan benchmark: every vehicle forecast and planned through N real Celery workers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_bench_100k REDIS_URL=redis://127.0.0.1:6379/12 \
        .venv/bin/python bench/bench_replan.py --workers 2

Runs the cold re-plan (touchpoints and forecasts emptied first), then the unchanged rerun, the next
night (no fact changed, the day did), and a night with 3 % of the vehicles given a new reading, through
``contacts.tasks.replan_vehicle_range`` chunks on real workers (Redis broker, Redis results); samples
each worker process's RSS; then times a raw COPY of the same touchpoint rows into a temporary table
(the write ceiling). Prints one JSON object.

With ``--floor``, after the cold re-plan it also measures the cold re-plan's **floor** in the same run:
the same chunks' fact load (``load_facts`` and the chunk's shared inputs, with the fingerprints) and
pure compute (the forecast and the plan engine, nothing written), spread over as many processes as
there are workers, plus a raw COPY of the rows the re-plan wrote (touchpoints and forecasts). The
cold re-plan's ratio to that floor is what the issue's "within 1.5 x the floor" compares.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clm.settings")
os.environ.setdefault("DEBUG", "1")  # the development profile (DEBUG is off by default)
os.environ.setdefault("CELERY_RESULT_BACKEND", os.environ.get("REDIS_URL", ""))

import django  # noqa: E402

django.setup()

from celery import group  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Max, Min  # noqa: E402

from contacts import tasks  # noqa: E402
from contacts.models import PlanFingerprint, Touchpoint  # noqa: E402
from contacts.planning import chunk as chunk_module  # noqa: E402
from contacts.planning.computing import plan_inputs, plan_with_validity  # noqa: E402
from contacts.planning.facts import load_facts  # noqa: E402
from contacts.planning.sweep import refresh_planner_statistics  # noqa: E402
from customers.forecasting import PRIORS_CACHE_KEY  # noqa: E402
from customers.models import OdometerReading, Vehicle, VehicleForecast  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_of_tree(pid: int) -> int:
    """Resident memory in kB of a process and its children."""
    out = subprocess.run(["ps", "-o", "pid=,ppid=,rss=", "-A"], capture_output=True, text=True).stdout
    rows = [tuple(int(x) for x in line.split()) for line in out.splitlines() if line.strip()]
    children = {pid}
    changed = True
    while changed:
        changed = False
        for p, parent, _rss in rows:
            if parent in children and p not in children:
                children.add(p)
                changed = True
    return max((rss for p, _parent, rss in rows if p in children), default=0)


def run_sweep(chunk: int, now: dt.datetime) -> tuple[float, int]:
    """The sweep's chunks on the workers; then, as the night's last chunk does
    (``contacts.tasks.replan_vehicle_range``), the planner statistics refreshed (not timed here:
    ``analyze_seconds``)."""
    bounds = Vehicle.objects.aggregate(low=Min("id"), high=Max("id"))
    signatures = [
        tasks.replan_vehicle_range.s(first, first + chunk, now.isoformat())
        for first in range(bounds["low"], bounds["high"] + 1, chunk)
    ]
    started = time.monotonic()
    written = sum(group(signatures).apply_async().get(timeout=7200, interval=0.5))
    elapsed = time.monotonic() - started
    analyzed = time.monotonic()
    refresh_planner_statistics()
    ANALYZE_SECONDS.append(round(time.monotonic() - analyzed, 1))
    return elapsed, written


ANALYZE_SECONDS: list[float] = []  # after each sweep


def _floor_chunk(bounds: tuple[int, int, str]) -> tuple[float, float, int]:
    """One chunk's fact load and pure compute, as the cold re-plan runs them but writing nothing: this
    process's CPU seconds for each, and the touchpoints planned."""
    first, last, now_iso = bounds
    now = dt.datetime.fromisoformat(now_iso)
    started = time.process_time()
    ids = list(Vehicle.objects.filter(id__gte=first, id__lt=last).values_list("id", flat=True))
    facts = load_facts(ids)
    # As the cold re-plan saw them: no stored forecast errors (each visit is replayed) and no
    # conditional touchpoint stored with its day.
    facts.habit_errors.clear()
    facts.conditional_planned_on.clear()
    if not facts.vehicles:
        return time.process_time() - started, 0.0, 0
    inputs = chunk_module._chunk_inputs(facts, now)
    loaded = time.process_time()
    valid_until: dict[int, dt.date] = {}
    vehicle_facts, _written = plan_inputs(
        facts, facts.vehicles, today_by_dealership=inputs.today_by_dealership, seasons_by_dealership=inputs.seasons,
        store_forecasts=False, table=inputs.table, priors=inputs.priors, valid_until=valid_until,
    )
    planned = plan_with_validity(vehicle_facts, [spec for _row, spec in inputs.templates], valid_until)
    return loaded - started, time.process_time() - loaded, len(planned)


def _fresh_connection() -> None:
    connection.close()  # each forked process opens its own


def measure_floor(chunk: int, now: dt.datetime, processes: int) -> dict[str, float]:
    """The cold re-plan's floor, measured now: fact load + pure compute over ``processes`` processes
    (wall), plus a raw COPY of the rows the re-plan wrote (touchpoints and forecasts)."""
    bounds = Vehicle.objects.aggregate(low=Min("id"), high=Max("id"))
    ranges = [(first, first + chunk, now.isoformat()) for first in range(bounds["low"], bounds["high"] + 1, chunk)]
    connection.close()
    started = time.monotonic()
    with multiprocessing.get_context("fork").Pool(processes, initializer=_fresh_connection) as pool:
        parts = pool.map(_floor_chunk, ranges, chunksize=1)
    compute_wall = time.monotonic() - started
    touchpoint_copy, touchpoint_rows = copy_ceiling()
    forecast_copy, forecast_rows = copy_ceiling(table="customers_vehicleforecast", columns=FORECAST_COLUMNS)
    return {
        "fact_load_cpu_seconds": round(sum(p[0] for p in parts), 1),
        "pure_compute_cpu_seconds": round(sum(p[1] for p in parts), 1),
        "load_and_compute_wall_seconds": round(compute_wall, 1),
        "touchpoints_planned": sum(p[2] for p in parts),
        "raw_copy_touchpoints_seconds": round(touchpoint_copy, 2),
        "raw_copy_touchpoint_rows": touchpoint_rows,
        "raw_copy_forecasts_seconds": round(forecast_copy, 2),
        "raw_copy_forecast_rows": forecast_rows,
        "floor_seconds": round(compute_wall + touchpoint_copy + forecast_copy, 1),
    }


def give_new_readings(share: float, day: dt.date) -> int:
    """A new call reading for every 1/share-th vehicle with a forecast: its estimated odometer + 50 km."""
    step = round(1 / share)
    readings = [
        OdometerReading(vehicle_id=f.vehicle_id, read_on=day, odometer_km=f.odometer_on_day(day) + 50, source="call")
        for f in VehicleForecast.objects.filter(vehicle_id__in=Vehicle.objects.values("id")).order_by("vehicle_id")[::step]
    ]
    OdometerReading.objects.bulk_create(readings, batch_size=5000)
    return len(readings)


TOUCHPOINT_COLUMNS = (
    "id, vehicle_id, customer_id, template_id, cycle_start, occurrence, due_on, window_start, window_end, status, "
    "reason, reason_detail, resolution, updated_at"
)


FORECAST_COLUMNS = (
    "id, vehicle_id, computed_on, km_per_month, km_per_month_low, km_per_month_high, source, odometer_km, odometer_on, "
    "next_due_on, due_earliest_on, due_latest_on, due_driver, due_odometer_km, interval_number, is_overdue, "
    "flagged_readings"
)


def copy_ceiling(where: str = "TRUE", *, table: str = "contacts_touchpoint", columns: str = TOUCHPOINT_COLUMNS) -> tuple[float, int]:
    """Seconds to COPY the stored rows of ``table`` (those matching ``where``; by default the touchpoints)
    into an unindexed temporary table: the write ceiling every re-plan benchmark prints beside its own
    figure; and the rows."""
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY (SELECT {columns} FROM {table} WHERE {where}) TO STDOUT") as copy:
            for data in copy:
                buffer.write(data)
        cursor.execute("DROP TABLE IF EXISTS table_copy")
        cursor.execute(f"CREATE TEMP TABLE table_copy (LIKE {table} INCLUDING DEFAULTS)")
        started = time.monotonic()
        with cursor.copy(f"COPY table_copy ({columns}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        elapsed = time.monotonic() - started
        cursor.execute("SELECT count(*) FROM table_copy")
        rows = cursor.fetchone()[0]
        cursor.execute("DROP TABLE table_copy")
    return elapsed, rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=tasks.REPLAN_CHUNK)
    parser.add_argument("--floor", action="store_true", help="Also measure the cold re-plan's floor (see above).")
    parser.add_argument("--cold-only", action="store_true", help="Stop after the cold re-plan (and the floor).")
    parser.add_argument("--nights-only", action="store_true",
                        help="Skip the cold re-plan: the nights after the one stored (its day from the fingerprints).")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Run this on PostgreSQL: set DATABASE_URL.")
    vehicles = Vehicle.objects.count()
    if args.nights_only:
        now = PlanFingerprint.objects.aggregate(last=Max("planned_at"))["last"]
        refresh_planner_statistics()  # as the stored night's last chunk did
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE contacts_touchpoint, customers_vehicleforecast, customers_forecastsnapshot, "
                "contacts_planfingerprint CASCADE"
            )
            # A cold re-plan knows no visit's forecast error yet (a fresh database's).
            cursor.execute(
                "UPDATE customers_servicevisit SET habit_error_stamp = NULL, habit_error_days = NULL "
                "WHERE habit_error_stamp IS NOT NULL OR habit_error_days IS NOT NULL"
            )
        cache.delete(PRIORS_CACHE_KEY)
        now = dt.datetime.now(dt.UTC)
    env = dict(os.environ)
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "clm", "worker", "--pool=solo", "-Q", "celery,sweeps", "-n", f"bench{i}@%h",
             "--loglevel=WARNING", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for i in range(args.workers)
    ]
    peak = {w.pid: 0 for w in workers}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for w in workers:
                peak[w.pid] = max(peak[w.pid], rss_of_tree(w.pid))
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    time.sleep(3)
    try:
        cpu_before = sum(cpu_seconds(w.pid) for w in workers)
        cold_seconds, cold_rows = run_sweep(args.chunk, now) if not args.nights_only else (0.0, 0)
        cold_worker_cpu = sum(cpu_seconds(w.pid) for w in workers) - cpu_before
        touchpoints = Touchpoint.objects.count()
        print(f"cold: {cold_seconds:.1f} s, {cold_rows} rows, peak RSS kB {peak}", file=sys.stderr, flush=True)
        floor = measure_floor(args.chunk, now, args.workers) if args.floor else None
        if floor:
            print(f"floor: {floor}", file=sys.stderr, flush=True)
        if args.cold_only:
            print(json.dumps({"vehicles": vehicles, "workers": args.workers, "cold_seconds": round(cold_seconds, 1),
                              "cold_workers_cpu_seconds": round(cold_worker_cpu, 1),
                              "cold_rows_written": cold_rows, "floor": floor,
                              "cold_over_floor": round(cold_seconds / floor["floor_seconds"], 2) if floor else None,
                              "peak_rss_mb_per_worker": [round(kb / 1024) for kb in peak.values()],
                              "load_average_after": os.getloadavg()}, indent=2))
            return
        rerun_seconds, rerun_rows = run_sweep(args.chunk, now)
        print(f"rerun: {rerun_seconds:.1f} s, {rerun_rows} rows", file=sys.stderr, flush=True)
        # The next night: no fact changed, but the day did; only the vehicles whose plan's validity ended
        # are forecast and planned again.
        next_seconds, next_rows = run_sweep(args.chunk, now + dt.timedelta(days=1))
        print(f"next night: {next_seconds:.1f} s, {next_rows} rows", file=sys.stderr, flush=True)
        changed = give_new_readings(0.03, (now + dt.timedelta(days=2)).date())
        changed_seconds, changed_rows = run_sweep(args.chunk, now + dt.timedelta(days=2))
        print(f"3 % night: {changed_seconds:.1f} s, {changed_rows} rows, {changed} vehicles changed", file=sys.stderr, flush=True)
    finally:
        stop.set()
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(timeout=30)
    copy_seconds, copy_rows = copy_ceiling()
    print(json.dumps({
        "vehicles": vehicles,
        "workers": args.workers,
        "chunk": args.chunk,
        "cold_seconds": round(cold_seconds, 1),
        "cold_rows_written": cold_rows,
        "cold_workers_cpu_seconds": round(cold_worker_cpu, 1),
        "cold_rows_per_second": round(cold_rows / cold_seconds) if cold_seconds else None,
        "cold_vehicles_per_second": round(vehicles / cold_seconds) if cold_seconds else None,
        "analyze_seconds_after_each_sweep": ANALYZE_SECONDS,
        "touchpoints": touchpoints,
        "rerun_seconds": round(rerun_seconds, 1),
        "rerun_rows_written": rerun_rows,
        "next_night_seconds": round(next_seconds, 1),
        "next_night_rows_written": next_rows,
        "changed_vehicles": changed,
        "three_percent_night_seconds": round(changed_seconds, 1),
        "three_percent_night_rows_written": changed_rows,
        "three_percent_night_over_rerun": round(changed_seconds / rerun_seconds, 2),
        "load_average_after": os.getloadavg(),
        "peak_rss_mb_per_worker": [round(kb / 1024) for kb in peak.values()],
        "raw_copy_seconds_same_rows": round(copy_seconds, 2),
        "raw_copy_rows": copy_rows,
        "floor": floor,
        "cold_over_floor": round(cold_seconds / floor["floor_seconds"], 2) if floor else None,
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}",
    }, indent=2))


if __name__ == "__main__":
    main()
