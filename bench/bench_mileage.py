"""Benchmark for customers.core (mileage estimator and due date) (a script, not a test).

Builds N synthetic vehicles (default 1,000,000) with odometer readings in memory,
then runs ``estimate_mileage`` + ``next_maintenance_due`` over all of them on one
core and prints throughput, per-vehicle latency percentiles (from a sample),
peak RSS and the machine.

    .venv/bin/python bench/bench_mileage.py [--vehicles 1000000] [--seed 20261122]
    .venv/bin/python bench/bench_mileage.py --accuracy [--vehicles 2000] [--seeds 11,23,101]
    .venv/bin/python bench/bench_mileage.py --replan [--vehicles 50000] [--rounds 3]

``--replan`` times ``forecast_vehicle`` as the re-plan runs it (estimate, due date, 37-month projection,
the customer's habit) against the estimator alone (``estimate_mileage`` + ``next_maintenance_due``) on
the same vehicles in the same run, in alternating rounds (best round of each: the machine is shared).

``--accuracy`` measures the forecast instead of timing it: the backtest (customers.core.backtest) over
the demo generator's cars (customers/demo.py, by the customer's service habit) and over the segment
fleet of bench/forecast_fleet.py (where the true due days are known), for each seed, beside the naive
baselines. Priors are learned as production learns them (``learned_priors``: the cars' own rates from
their facts; ``--priors`` picks another way, for comparison), and so is each dealership's seasonal
profile (customers.core.seasonality, from every reading up to today; ``--no-seasonality`` leaves it
flat, as before it existed).

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
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.forecast_fleet import SEGMENTS, Fleet  # noqa: E402
from customers.core import backtest as backtest_core  # noqa: E402
from customers.core import forecast as forecast_core  # noqa: E402
from customers.core.calendar import MONTH_DAYS  # noqa: E402
from customers.core.due_dates import next_maintenance_due  # noqa: E402

HAS_FORECAST_VEHICLE = hasattr(forecast_core, "forecast_vehicle")  # False on the cores before it existed
HAS_STORED_ERRORS = hasattr(forecast_core, "habit_errors")  # False before the errors were stored
Sale = forecast_core.Sale if HAS_FORECAST_VEHICLE else lambda *fields: fields  # noqa: E731
from customers.core.mileage import estimate_mileage  # noqa: E402
from customers.core.priors import car_rate, median_priors, prior_for  # noqa: E402
from customers.core.readings import Reading  # noqa: E402
from customers.demo import DemoGenerator  # noqa: E402

TODAY = date(2026, 11, 22)
INTERVAL_KM = 15_000
INTERVAL_MONTHS = 12

Vehicle = tuple[tuple[Reading, ...], date, int, int, float, tuple[Sale, ...], tuple[tuple[date, int], ...]]


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
            visits: list[tuple[date, int]] = []
        else:
            k = randint(1, count - 1)
            last = readings[k]
            done = 1 + k // 4
            # the re-plan's facts: the earlier maintenance visits, every fourth reading, then the last one
            visits = [(readings[j].read_on, readings[j].odometer_km) for j in range(4, k, 4)]
            visits.append((last.read_on, max(0, last.odometer_km)))
        prior = 1000.0 + 1000.0 * rand() if rand() < 0.9 else -1.0
        sale = Sale(readings[0].read_on, "new" if km0 == 0 else "used", km0)
        rng.shuffle(readings)  # input order must not matter
        vehicles.append((tuple(readings), last.read_on, max(0, last.odometer_km), done, prior, (sale,), tuple(visits)))
    return vehicles


def run_one(v: Vehicle) -> None:
    readings, last_on, last_km, done, prior, *_ = v
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


REPLAN_INTERVAL = forecast_core.Interval(INTERVAL_KM, INTERVAL_MONTHS) if HAS_FORECAST_VEHICLE else None


#: The profile the --replan timing runs with (the demo dealerships' as learned, ± 15 %).
REPLAN_PROFILE = (0.85, 0.87, 0.92, 0.99, 1.07, 1.12, 1.15, 1.13, 1.08, 1.00, 0.93, 0.87)
HAS_SEASONALITY = "seasonality" in getattr(forecast_core.forecast_vehicle, "__kwdefaults__", {}) if HAS_FORECAST_VEHICLE else False


def run_replan(v: Vehicle, stored: Any = None, profile: Any = None) -> Any:
    """What the re-plan computes per vehicle: estimate, due date, 37-month projection, habit (replayed
    for every past visit unless ``stored`` holds the errors a previous run returned), with the seasonal
    ``profile`` when given."""
    readings, _last_on, _last_km, _done, prior, sales, visits = v
    extra: dict[str, Any] = {} if stored is None else {"stored_errors": stored}
    if profile is not None:
        extra["seasonality"] = profile
    return forecast_core.forecast_vehicle(
        readings=readings, sales=sales, maintenance=visits, interval=REPLAN_INTERVAL,
        prior_km_per_month=prior if prior >= 0 else None, today=TODAY, **extra,
    )


def stored_errors(v: Vehicle, profile: Any = None) -> Any:
    """The habit errors a first run returns, as the re-plan stores them with the visits."""
    forecast = run_replan(v, profile=profile)
    if forecast is None or not hasattr(forecast, "habit_errors"):
        return None
    return {(e.visited_on, e.odometer_km): (e.stamp, e.error_days) for e in forecast.habit_errors}


# --------------------------------------------------------------------------- accuracy

DEMO_DEALERSHIPS = {"msk": 1, "ekb": 2}


@dataclass
class Car:
    """One car's facts as the backtest sees them, from either generator."""

    segment: str
    dealership_id: int
    make: str
    model: str
    interval_km: int
    interval_months: int
    sold_on: date
    sale_kind: str
    sale_km: int
    readings: list[tuple[date, int, str]]
    visits: list[tuple[date, int]]
    true_due: list[date] = field(default_factory=list)  # the fleet's: each visit's true due day


def demo_cars(seed: int, vehicles: int) -> list[Car]:
    cars = []
    for customer in DemoGenerator(seed=seed, today=TODAY).customers(vehicles):
        for v in customer.vehicles:
            cars.append(Car(
                customer.habit, DEMO_DEALERSHIPS[customer.dealership_code], v.make, v.model, v.interval_km or INTERVAL_KM,
                INTERVAL_MONTHS, v.sale.sold_on, v.sale.kind, v.sale.odometer_km,
                [(r.read_on, r.odometer_km, r.source) for r in v.readings],
                [(x.visited_on, x.odometer_km) for x in v.visits if x.kind == "maintenance"],
            ))
    return cars


def fleet_cars(seed: int, vehicles: int) -> list[Car]:
    return [
        Car(c.segment, c.dealership_id, c.make, c.model, c.interval_km, c.interval_months, c.sold_on, c.sale_kind,
            c.sale_km, c.readings, c.visits, c.true_due)
        for c in Fleet(seed=seed, today=TODAY).cars(vehicles)
    ]


def learned_priors(cars: list[Car], way: str = "facts") -> dict[str, float]:
    """The priors as production learns them (``way`` "facts"): the median of each observed car's own
    rate (customers.core.priors.car_rate over its facts up to today) by dealership, model and sale kind.
    "first-interval": the same from each car's facts up to its first maintenance visit only (what a
    car drives before its first service); "estimates": the medians of the cars' estimates that rest on
    readings (the observations until 2026-12-02, what a second re-plan used, grouped as here); "none": no priors
    (the 1,250 km default, what a fresh database's first re-plan used until then)."""
    if way == "none":
        return {}
    observed = []
    for car in cars:
        facts = [(d, km) for d, km, _ in car.readings if d <= TODAY]
        if way == "estimates":
            estimate = estimate_mileage([Reading(d, km) for d, km, _ in car.readings], today=TODAY)
            rate = estimate.km_per_month if estimate.source == "readings" else None
        elif way == "first-interval":
            first = min((d for d, _km in car.visits if d >= car.sold_on), default=None)
            rate = None if first is None else car_rate([(d, km) for d, km in facts if car.sold_on <= d <= first])
        else:
            rate = car_rate(facts)
        if rate is not None:
            observed.append((car.dealership_id, car.make, car.model, car.sale_kind, rate))
    return median_priors(observed)


def learned_profiles(cars: list[Car]) -> dict[int, Any]:
    """Each dealership's seasonal profile, as production learns it: from every reading dated up to today."""
    from customers.core.seasonality import SeasonSums, profile_from_sums

    sums: dict[int, SeasonSums] = {}
    for car in cars:
        sums.setdefault(car.dealership_id, SeasonSums()).add_car(
            (d.toordinal(), km) for d, km, _ in car.readings if d <= TODAY
        )
    return {dealership_id: profile_from_sums(s) for dealership_id, s in sums.items()}


def history(car: Car, priors: dict[str, float], profiles: dict[int, Any] | None = None) -> backtest_core.VehicleHistory:
    fields = backtest_core.VehicleHistory.__dataclass_fields__
    extra: dict[str, object] = {}
    if "sale_kind" in fields:  # the production rules: first interval only after a new-car sale
        extra["sale_kind"] = car.sale_kind
    if profiles:
        extra["seasonality"] = profiles.get(car.dealership_id)
    return backtest_core.VehicleHistory(
        readings=tuple(Reading(d, km) for d, km, _ in car.readings),
        maintenances=tuple(backtest_core.MaintenanceVisit(d, km) for d, km in car.visits),
        interval_km=car.interval_km,
        interval_months=car.interval_months,
        sold_on=car.sold_on,
        sale_km=car.sale_km,
        prior_km_per_month=prior_for(priors, dealership_id=car.dealership_id, make=car.make, model=car.model,
                                     kind=car.sale_kind),
        **extra,  # type: ignore[arg-type]
    )


def _fmt(share: Any) -> str:
    return "-" if share is None else f"{float(share) * 100:.1f}%"


def accuracy(args: argparse.Namespace) -> None:
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"forecast accuracy; today {TODAY}; {args.vehicles:,} cars per fleet and seed; seeds {seeds}; priors {args.priors}")
    print(
        f"{'fleet':<6}{'seed':>5} {'segment':<13}{'visits':>7} | {'invite':>6}{'±14':>7}{'±30':>7}{'median':>7}{'p90':>6}"
        f"{'bias':>7}{'inside':>7}{'width':>6} | {'prev+int ±14':>12}{'med':>6} | {'last two ±14':>12}{'med':>6} | "
        f"{'avg ±14':>7}{'med':>6} | {'first n':>7}{'invite':>7}{'±14':>7}{'med':>6} | {'later ±14':>9}{'med':>6}"
        f" | {'true ±14':>10}{'med':>6}"
    )
    for name, make in (("demo", demo_cars), ("fleet", fleet_cars)):
        for seed in seeds:
            cars = make(seed, args.vehicles)
            priors = learned_priors(cars, args.priors)
            profiles = {} if args.no_seasonality else learned_profiles(cars)
            if profiles:
                for dealership_id, profile in sorted(profiles.items()):
                    print(f"{name:<6}{seed:>5} dealership {dealership_id} profile: {' '.join(f'{m:.2f}' for m in profile)}")
            segments = sorted({c.segment for c in cars}, key=lambda s: (SEGMENTS + (s,)).index(s))
            for segment in [*segments, "all"]:
                chosen = [c for c in cars if segment in ("all", c.segment)]
                report = backtest_core.backtest(history(c, priors, profiles) for c in chosen).to_dict()
                print(f"{name:<6}{seed:>5} {segment:<13}{report['visits']:>7} | " + _row(report) + _best_possible(chosen))


def _row(report: dict[str, Any]) -> str:
    base = report["baselines"]
    empty: dict[str, Any] = {}
    first = report.get("first_visits", {}).get("forecast", empty)
    later = report.get("later_visits", {}).get("forecast", empty)
    average = base.get("first_to_last_average", empty)
    return (
        f"{_fmt(report.get('invitation_window')):>6}{_fmt(report['within_14_days']):>7}{_fmt(report['within_30_days']):>7}"
        f"{_num(report['median_abs_error_days']):>7}{_num(report.get('p90_abs_error_days')):>6}"
        f"{_num(report.get('mean_bias_days')):>7}{_fmt(report['inside_interval']):>7}{_num(report['median_interval_days']):>6} | "
        f"{_fmt(base['previous_plus_interval']['within_14_days']):>12}{_num(base['previous_plus_interval']['median_abs_error_days']):>6} | "
        f"{_fmt(base['last_two_readings']['within_14_days']):>12}{_num(base['last_two_readings']['median_abs_error_days']):>6} | "
        f"{_fmt(average.get('within_14_days')):>7}{_num(average.get('median_abs_error_days')):>6} | "
        f"{first.get('visits', '-'):>7}{_fmt(first.get('invitation_window')):>7}{_fmt(first.get('within_14_days')):>7}"
        f"{_num(first.get('median_abs_error_days')):>6} | "
        f"{_fmt(later.get('within_14_days')):>9}{_num(later.get('median_abs_error_days')):>6}"
    )


def _best_possible(cars: list[Car]) -> str:
    """The true due day as the prediction (the fleet knows it): ±14 days and the median error. What is
    left is the customer's own timing (early, on time, late), which only the habit can learn."""
    errors = sorted(abs((due - visited_on).days) for c in cars for (visited_on, _km), due in zip(c.visits, c.true_due, strict=False))
    if not errors:
        return ""
    within = sum(1 for e in errors if e <= 14) / len(errors)
    return f" | {within * 100:>9.1f}%{errors[len(errors) // 2]:>6}"


def _cpu_rate(vehicles: list[Vehicle], run: Any) -> float:
    c0 = time.process_time()
    for v in vehicles:
        run(v)
    return len(vehicles) / (time.process_time() - c0)


def replan_rate(args: argparse.Namespace) -> None:
    """forecast_vehicle as the re-plan runs it, and the estimator alone as the reference, same run."""
    vehicles = build(args.vehicles, args.seed)
    gc.collect()
    gc.freeze()
    n_readings = sum(len(v[0]) for v in vehicles)
    n_visits = sum(len(v[6]) for v in vehicles)
    print(
        f"vehicles: {len(vehicles):,}; readings {n_readings / len(vehicles):.2f}/vehicle; "
        f"maintenance visits {n_visits / len(vehicles):.2f}/vehicle; {args.rounds} rounds, best of each"
    )
    modes: list[tuple[str, Any]] = [("estimate_mileage + next_maintenance_due (the estimator alone)", run_one),
                                    ("forecast_vehicle, every past visit replayed (a first run)", run_replan)]
    stored = [stored_errors(v) for v in vehicles] if HAS_STORED_ERRORS else []
    if HAS_STORED_ERRORS:
        by_vehicle = dict(zip(map(id, vehicles), stored, strict=True))
        modes.append(("forecast_vehicle as the re-plan runs it (the visits' errors stored by the run before)",
                      lambda v: run_replan(v, by_vehicle[id(v)])))
    if HAS_STORED_ERRORS and HAS_SEASONALITY:
        seasonal = {id(v): stored_errors(v, REPLAN_PROFILE) for v in vehicles}
        modes.append(("the same with a seasonal profile (± 15 %)",
                      lambda v: run_replan(v, seasonal[id(v)], REPLAN_PROFILE)))
    best = {name: 0.0 for name, _ in modes}
    for _ in range(args.rounds):
        for name, run in modes:
            best[name] = max(best[name], _cpu_rate(vehicles, run))
    reference = best[modes[0][0]]
    for name, _ in modes:
        print(f"{name}: {best[name]:,.0f} vehicles per CPU-second ({best[name] / reference:.2f} x the estimator alone)")
    load = os.getloadavg()
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {platform.python_version()}")


def _num(value: Any) -> str:
    return "-" if value is None else f"{float(value):.0f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vehicles", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--sample", type=int, default=50_000)
    parser.add_argument("--accuracy", action="store_true", help="Measure the forecast's accuracy instead.")
    parser.add_argument("--seeds", default="11,23,101", help="Seeds of the accuracy fleets.")
    parser.add_argument("--priors", choices=("facts", "first-interval", "estimates", "none"), default="facts",
                        help="How the accuracy run learns the priors (learned_priors).")
    parser.add_argument("--no-seasonality", action="store_true", help="Accuracy with flat seasonal profiles.")
    parser.add_argument("--replan", action="store_true", help="Time forecast_vehicle beside the estimator alone.")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.accuracy:
        accuracy(args)
        return
    if args.replan:
        replan_rate(args)
        return

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
    if HAS_FORECAST_VEHICLE:
        t0 = time.perf_counter()
        c0 = time.process_time()
        for v in vehicles:
            run_replan(v)
        cpu = time.process_time() - c0
        elapsed = time.perf_counter() - t0
        print(
            f"forecast_vehicle (estimate + due + 37-month projection + habit replay, as the re-plan runs it): "
            f"{elapsed:.2f} s -> {len(vehicles) / elapsed:,.0f} vehicles/s wall-clock, "
            f"{len(vehicles) / cpu:,.0f} vehicles/s of process CPU time"
        )
    print(f"peak RSS: {rss_kb / 1024:,.0f} MiB (includes the synthetic data set)")
    load = os.getloadavg()
    print(f"load average during the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
