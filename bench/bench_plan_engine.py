"""Benchmark of the pure plan engine (not a test): plan 100,000+ synthetic vehicles on one core.

Prints vehicles/second, touchpoints/second, per-vehicle latency p50/p95/p99 (µs, every 10th vehicle
timed on its own), peak RSS and the machine. Run from the repository root:

    .venv/bin/python bench/bench_plan_engine.py [--vehicles 100000] [--seed 1]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import resource
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contacts.core.plan_engine import SaleFact, VehicleFacts, plan_vehicle  # noqa: E402
from contacts.core.program import DEFAULT_PROGRAM  # noqa: E402

TODAY = date(2026, 11, 22)
INTERVAL_KM = 15_000
INTERVAL_MONTHS = 12


def _add_days(day: date, days: float) -> date:
    return day + timedelta(days=round(days))


def synthetic_facts(n: int, seed: int) -> list[VehicleFacts]:
    """A mix like a dealer's book: sales over the last 8 years (some in the future of their cycle start,
    some repeat purchases, some traded in), 80 % known birthdays, 500-4,000 km a month, customers who come
    to most maintenances, some lapsed."""
    rnd = random.Random(seed)
    start = date(2018, 11, 22)
    span = (TODAY - start).days
    result: list[VehicleFacts] = []
    for i in range(n):
        sold_on = start + timedelta(days=rnd.randrange(span))
        kind = rnd.choices(["new", "used", "trade_in"], weights=[70, 20, 10])[0]
        odometer = 0 if kind == "new" else rnd.randrange(10_000, 150_000)
        sales = [SaleFact(sold_on, kind, odometer)]  # type: ignore[arg-type]
        if rnd.random() < 0.03:  # bought back later
            sales.append(
                SaleFact(sold_on + timedelta(days=rnd.randrange(30, 900)), "used", odometer + 20_000)
            )
        kpm = rnd.uniform(500, 4000)
        months_per_interval = min(INTERVAL_MONTHS, INTERVAL_KM / kpm)
        days_per_interval = months_per_interval * 30.44
        # walk the maintenances from the sale: the customer comes to most of them
        visits: list[date] = []
        last = sold_on
        while True:
            due = _add_days(last, days_per_interval)
            if due > TODAY:
                break
            if rnd.random() < 0.75:
                visit = _add_days(due, rnd.randint(-20, 25))
                if visit > TODAY:
                    break
                visits.append(visit)
                last = visit
            else:
                last = due  # skipped it (or done elsewhere)
                if rnd.random() < 0.3:
                    break  # a lapsed customer: no more visits
        next_due = _add_days(last, days_per_interval)
        dues = tuple(_add_days(next_due, k * days_per_interval) for k in range(3))
        reached = TODAY - timedelta(days=rnd.randrange(0, 600)) if rnd.random() < 0.8 else None
        traded = TODAY - timedelta(days=rnd.randrange(0, 700)) if rnd.random() < 0.05 else None
        result.append(
            VehicleFacts(
                vehicle_id=i + 1,
                customer_id=i // 2 + 1,
                sales=tuple(sales),
                today=TODAY,
                birthday=date(rnd.randint(1950, 2004), rnd.randint(1, 12), rnd.randint(1, 28))
                if rnd.random() < 0.8
                else None,
                warranty_months=rnd.choice([36, 36, 36, 60, 84]),
                warranty_km=rnd.choice([100_000, 150_000]),
                km_per_month=kpm,
                maintenance_due_dates=dues,
                maintenance_visits=tuple(visits),
                maintenance_booked_on=dues[0] - timedelta(days=3) if rnd.random() < 0.1 else None,
                last_reached_contact_on=reached,
                last_visit_on=visits[-1] if visits else None,
                traded_in_on=traded,
            )
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vehicles", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample-every", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    vehicles = synthetic_facts(args.vehicles, args.seed)
    generated_in = time.perf_counter() - t0
    templates = DEFAULT_PROGRAM

    for facts in vehicles[:1000]:  # warm-up
        plan_vehicle(templates, facts)

    # throughput: all vehicles, one core, plans discarded as a caller would write and drop them;
    # repeated, since a shared machine is noisy: the median and the best run are reported
    rates: list[float] = []
    touchpoints = 0
    for _ in range(args.repeat):
        gc.collect()
        touchpoints = 0
        t0 = time.perf_counter()
        for facts in vehicles:
            touchpoints += len(plan_vehicle(templates, facts))
        rates.append(len(vehicles) / (time.perf_counter() - t0))

    # latency: every Nth vehicle timed on its own
    samples: list[float] = []
    clock = time.perf_counter_ns
    for facts in vehicles[:: args.sample_every]:
        s = clock()
        plan_vehicle(templates, facts)
        samples.append((clock() - s) / 1000)
    q = statistics.quantiles(samples, n=100)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"machine:      {platform.platform()}, {platform.machine()}, cpu count {os.cpu_count()}, "
        f"Python {platform.python_version()}"
    )
    print(f"vehicles:     {len(vehicles):,} (generated in {generated_in:.1f} s), templates {len(templates)}")
    print(f"touchpoints:  {touchpoints:,} ({touchpoints / len(vehicles):.1f} per vehicle)")
    median = statistics.median(rates)
    runs = ", ".join(f"{r:,.0f}" for r in rates)
    print(f"throughput:   {median:,.0f} vehicles/s, median of {len(rates)} runs ({runs})")
    print(f"              {median * touchpoints / len(vehicles):,.0f} touchpoints/s; one core, one process")
    print(
        f"latency (µs): p50 {q[49]:.0f}, p95 {q[94]:.0f}, p99 {q[98]:.0f}, max {max(samples):.0f} "
        f"({len(samples):,} samples)"
    )
    print(f"peak RSS:     {peak_rss_mb:.0f} MB (includes the {len(vehicles):,} generated fact records)")
    print(f"load average: {load_before:.2f} before, {os.getloadavg()[0]:.2f} after (shared cores)")


if __name__ == "__main__":
    main()
