"""A digest of every field of many forecasts, to show a speed-up changed no result (a bench helper, not a test).

Runs ``forecast_vehicle`` (and the estimator alone) over varied vehicles: the ``bench_mileage`` generator
(typos, rollbacks, duplicates, future readings) and the segment fleet of ``bench/forecast_fleet.py``
(incl. its bad readings), several seeds, many ``today``s, with and without a prior, a first interval,
the visits' errors stored by the run before (all of them, some stale, none). Each result is written as
its full ``repr`` (every field of the forecast, its estimate with the kept and flagged readings, the due
date, the plan's days and drivers, the validity, the habit errors) plus ``upcoming`` (the ranges of the
due dates ahead), and the lines are hashed. Run before and after a change: the digests must be equal.

    .venv/bin/python bench/forecast_digest.py [--vehicles 4000] [--fleet 800] [--seeds 3,5,8] [--out lines.txt]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bench_mileage  # noqa: E402
from bench.forecast_fleet import Fleet  # noqa: E402
from customers.core import forecast as forecast_core  # noqa: E402
from customers.core.due_dates import next_maintenance_due  # noqa: E402
from customers.core.mileage import estimate_mileage  # noqa: E402
from customers.core.readings import Reading  # noqa: E402

Case = tuple[tuple[Reading, ...], tuple[Any, ...], tuple[tuple[date, int], ...], Any, float | None]

#: Days around the generators' today: before it (facts come into view), on it, after it (overdue dates).
TODAY_OFFSETS = (-700, -365, -120, -30, -1, 0, 1, 45, 200, 500)


def bench_cases(seed: int, n: int) -> list[Case]:
    rng = random.Random(seed * 7 + 1)
    cases: list[Case] = []
    for readings, _on, _km, _done, prior, sales, visits in bench_mileage.build(n, seed):
        interval = _interval(rng)
        cases.append((readings, sales, visits, interval, prior if prior >= 0 else None))
    return cases


def fleet_cases(seed: int, n: int) -> list[Case]:
    rng = random.Random(seed * 11 + 3)
    cases: list[Case] = []
    for car in Fleet(seed=seed, today=bench_mileage.TODAY).cars(n):
        readings = tuple(Reading(d, km, k if rng.random() < 0.5 else None) for k, (d, km, _s) in enumerate(car.readings))
        sales = [forecast_core.Sale(car.sold_on, car.sale_kind, car.sale_km)]
        if rng.random() < 0.1:  # a resale
            sales.append(forecast_core.Sale(car.sold_on + timedelta(days=rng.randint(100, 900)), "used", 0))
        interval = forecast_core.Interval(car.interval_km, car.interval_months, *_first(rng))
        prior = None if rng.random() < 0.1 else rng.uniform(300.0, 6000.0)
        cases.append((readings, tuple(sales), tuple(car.visits), interval, prior))
    return cases


def _first(rng: random.Random) -> tuple[int | None, int | None]:
    u = rng.random()
    if u < 0.6:
        return None, None
    if u < 0.8:
        return 1000 * rng.randint(1, 10), rng.choice((None, 3, 6))
    return None, rng.choice((3, 6, 12))


def _interval(rng: random.Random) -> Any:
    km, months = rng.choice(((15000, 12), (10000, 12), (30000, 12), (7500, 6), (15000, 24)))
    return forecast_core.Interval(km, months, *_first(rng))


def _call(case: Case, today: date, stored: Any = None) -> str:
    readings, sales, visits, interval, prior = case
    try:
        f = forecast_core.forecast_vehicle(
            readings=readings, sales=sales, maintenance=visits, interval=interval, prior_km_per_month=prior,
            today=today, stored_errors=stored,
        )
    except (OverflowError, ValueError) as exc:
        return f"raised {type(exc).__name__}"
    if f is None:
        return "None"
    try:
        upcoming = repr(f.upcoming)
    except (OverflowError, ValueError) as exc:
        upcoming = f"upcoming raised {type(exc).__name__}"
    return f"{f!r} | {f.projection[1:]!r} {f.projection[:1] == (f.estimate,)} | {upcoming}"


def _stored(case: Case, today: date, rng: random.Random) -> Any:
    readings, sales, visits, interval, prior = case
    try:
        f = forecast_core.forecast_vehicle(
            readings=readings, sales=sales, maintenance=visits, interval=interval, prior_km_per_month=prior,
            today=today,
        )
    except (OverflowError, ValueError):
        return None
    if f is None:
        return None
    stored = {(e.visited_on, e.odometer_km): (e.stamp, e.error_days) for e in f.habit_errors}
    for key in list(stored):
        if rng.random() < 0.2:  # stale: replayed again
            stored[key] = (stored[key][0] + 1, 99)
    return stored


def _estimator(case: Case, today: date) -> str:
    readings, _sales, visits, interval, prior = case
    try:
        est = estimate_mileage(readings, today=today, prior_km_per_month=prior)
        on, km = visits[-1] if visits else (readings[0].read_on, max(0, readings[0].odometer_km))
        due = next_maintenance_due(estimate=est, last_maintenance_on=on, last_maintenance_km=km,
                                   interval_km=interval.km, interval_months=interval.months, today=today,
                                   maintenances_done=len(visits))
    except (OverflowError, ValueError) as exc:
        return f"raised {type(exc).__name__}"
    return f"{est!r} | {due!r}"


def lines(vehicles: int, fleet: int, seeds: list[int]) -> list[str]:
    out: list[str] = []
    base = bench_mileage.TODAY
    for seed in seeds:
        rng = random.Random(seed)
        for case in bench_cases(seed, vehicles) + fleet_cases(seed, fleet):
            for offset in rng.sample(TODAY_OFFSETS, 3):
                today = base + timedelta(days=offset + rng.randint(-3, 3))
                out.append(_call(case, today))
                out.append(_call(case, today, _stored(case, today, rng)))
                out.append(_estimator(case, today))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vehicles", type=int, default=4000, help="bench_mileage vehicles per seed")
    parser.add_argument("--fleet", type=int, default=800, help="forecast_fleet cars per seed")
    parser.add_argument("--seeds", default="3,5,8")
    parser.add_argument("--out", help="also write every line to this file (to diff two runs)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    result = lines(args.vehicles, args.fleet, [int(s) for s in args.seeds.split(",")])
    digest = hashlib.sha256("\n".join(result).encode()).hexdigest()
    if args.out:
        Path(args.out).write_text("\n".join(result) + "\n")
    nones = sum(1 for line in result if line == "None")
    raised = sum(1 for line in result if line.startswith("raised"))
    print(f"{len(result):,} results ({nones} None, {raised} raised) in {time.perf_counter() - t0:.1f} s; sha256 {digest}")


if __name__ == "__main__":
    main()
