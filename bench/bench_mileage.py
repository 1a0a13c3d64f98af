"""Benchmark for customers.core (mileage estimator and due date) (a script, not a test).

Builds N synthetic vehicles (default 1,000,000) with odometer readings in memory,
then runs ``estimate_mileage`` + ``next_maintenance_due`` over all of them on one
core and prints throughput, per-vehicle latency percentiles (from a sample),
peak RSS and the machine.

    .venv/bin/python bench/bench_mileage.py [--vehicles 1000000] [--seed 20261122]

Synthetic data (deterministic seed): sale 0 km (80 %) or a used car at
20,000-150,000 km; 3-12 readings each (the first at sale), 15-180 days apart, a
base rate of 500-4,000 km/month with +-25 % per segment; about 1 % of vehicles
get a digit typo, 0.5 % a rollback, 0.5 % a same-day duplicate and 0.2 % a
reading dated after today. Maintenance: 15,000 km / 12 months, the last one
being the sale or a randomly chosen earlier reading.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import resource
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from customers.core.calendar import MONTH_DAYS  # noqa: E402
from customers.core.forecast import next_maintenance_due  # noqa: E402
from customers.core.mileage import Reading, estimate_mileage  # noqa: E402

TODAY = date(2026, 11, 22)
INTERVAL_KM = 15_000
INTERVAL_MONTHS = 12

Vehicle = tuple[tuple[Reading, ...], date, int, int, float]


def build(n: int, seed: int) -> list[Vehicle]:
    rng = random.Random(seed)
    today_o = TODAY.toordinal()
    dates: dict[int, date] = {}

    def day(o: int) -> date:
        d = dates.get(o)
        if d is None:
            d = dates[o] = date.fromordinal(o)
        return d

    vehicles: list[Vehicle] = []
    rand = rng.random
    randint = rng.randint
    for vid in range(n):
        count = randint(3, 12)
        gaps = [randint(15, 180) for _ in range(count - 1)]
        sale_o = today_o - sum(gaps) - randint(0, 120)
        km0 = 0 if rand() < 0.8 else randint(20_000, 150_000)
        base = 500.0 + 3500.0 * rand()
        o, km = sale_o, float(km0)
        readings = [Reading(day(o), km0, vid * 16)]
        for k, gap in enumerate(gaps, start=1):
            o += gap
            km += base * (0.75 + 0.5 * rand()) * gap / MONTH_DAYS
            readings.append(Reading(day(o), int(km), vid * 16 + k))
        u = rand()
        if u < 0.01:  # digit typo somewhere after the sale reading
            k = randint(1, count - 1)
            r = readings[k]
            bad = r.odometer_km * 10 if rand() < 0.5 else r.odometer_km // 10
            readings[k] = Reading(r.read_on, bad, r.reading_id)
        elif u < 0.015:  # rollback: a later reading lower than the previous one
            r = readings[-1]
            readings.append(Reading(day(r.read_on.toordinal() + 7), r.odometer_km // 2, vid * 16 + 13))
        elif u < 0.02:  # same-day duplicate entered twice with a different km
            r = readings[randint(0, count - 1)]
            readings.append(Reading(r.read_on, r.odometer_km + randint(0, 50), vid * 16 + 14))
        elif u < 0.022:  # dated after today
            readings.append(Reading(day(today_o + randint(1, 60)), int(km) + 3000, vid * 16 + 15))
        if rand() < 0.5:
            last = readings[0]
            done = 0
        else:
            k = randint(1, count - 1)
            last = readings[k]
            done = 1 + k // 4
        prior = 1000.0 + 1000.0 * rand() if rand() < 0.9 else -1.0
        rng.shuffle(readings)  # input order must not matter
        vehicles.append((tuple(readings), last.read_on, max(0, last.odometer_km), done, prior))
    return vehicles


def run_one(v: Vehicle) -> None:
    readings, last_on, last_km, done, prior = v
    est = estimate_mileage(readings, today=TODAY, prior_km_per_month=prior if prior >= 0 else None)
    next_maintenance_due(
        estimate=est,
        last_maintenance_on=last_on,
        last_maintenance_km=last_km,
        interval_km=INTERVAL_KM,
        interval_months=INTERVAL_MONTHS,
        today=TODAY,
        maintenances_done=done,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vehicles", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--sample", type=int, default=50_000)
    args = parser.parse_args()

    t0 = time.perf_counter()
    vehicles = build(args.vehicles, args.seed)
    build_s = time.perf_counter() - t0
    n_readings = sum(len(v[0]) for v in vehicles)
    # The data set is static: keep the cyclic GC from rescanning millions of its objects.
    gc.collect()
    gc.freeze()

    # Throughput: one pass over everything, no per-call timing.
    t0 = time.perf_counter()
    c0 = time.process_time()
    for v in vehicles:
        run_one(v)
    cpu = time.process_time() - c0
    elapsed = time.perf_counter() - t0

    # Latency: a deterministic sample timed one vehicle at a time.
    sample = random.Random(args.seed + 1).sample(vehicles, min(args.sample, len(vehicles)))
    clock = time.perf_counter_ns
    lat: list[int] = []
    for v in sample:
        s = clock()
        run_one(v)
        lat.append(clock() - s)
    lat.sort()

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p / 100.0 * len(lat)))] / 1000.0

    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"machine: {platform.platform()}; {platform.processor() or platform.machine()}; "
        f"{os.cpu_count()} CPUs; Python {platform.python_version()} ({platform.python_implementation()})"
    )
    print(
        f"vehicles: {len(vehicles):,}; readings: {n_readings:,} "
        f"({n_readings / len(vehicles):.2f}/vehicle); build {build_s:.1f} s"
    )
    print(
        f"estimate_mileage + next_maintenance_due: {elapsed:.2f} s on one core "
        f"-> {len(vehicles) / elapsed:,.0f} vehicles/s wall-clock, "
        f"{len(vehicles) / cpu:,.0f} vehicles/s of process CPU time"
    )
    print(
        f"latency per vehicle (sample of {len(lat):,}): p50 {pct(50):.1f} us, "
        f"p95 {pct(95):.1f} us, p99 {pct(99):.1f} us"
    )
    print(f"peak RSS: {rss_kb / 1024:,.0f} MiB (includes the synthetic data set)")
    load = os.getloadavg()
    print(f"load average during the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
