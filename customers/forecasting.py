"""Forecast workflows: load vehicles' readings in bulk, call the pure estimator, store the forecasts.

Called by the re-plan (contacts.planning) for each chunk of vehicles, so a new reading or visit, and
the nightly sweep, refresh the forecast and the plan together.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any, NamedTuple, Protocol

from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from psycopg.types.json import Jsonb

from customers import bulk
from customers.core import forecast, seasonality
from customers.core import priors as priors_core
from customers.core.calendar import MONTH_DAYS
from customers.core.forecast import Interval
from customers.core.readings import Reading
from customers.core.seasonality import Profile
from customers.models import (
    ForecastSnapshot,
    MaintenanceSchedule,
    OdometerReading,
    Sale,
    ServiceVisit,
    Vehicle,
    VehicleForecast,
)

DEFAULT_INTERVAL_KM = 15000
DEFAULT_INTERVAL_MONTHS = 12
PRIORS_CACHE_KEY = "forecast:priors:v2"  # v2: learned from the facts, with the sale kind
# Priors move slowly; recomputing them once every few hours keeps a 1M-vehicle sweep cheap.
PRIORS_CACHE_SECONDS = 6 * 3600
STORED_FIELDS = (
    "computed_on",
    "km_per_month",
    "km_per_month_low",
    "km_per_month_high",
    "source",
    "odometer_km",
    "odometer_on",
    "next_due_on",
    "due_earliest_on",
    "due_latest_on",
    "due_driver",
    "due_odometer_km",
    "interval_number",
    "is_overdue",
    "flagged_readings",
)


class VehicleRow(NamedTuple):
    """What the forecast needs of a vehicle (a plain tuple: a chunk loads thousands)."""

    id: int
    dealership_id: int
    make: str
    model: str
    maintenance_interval_km: int | None
    maintenance_interval_months: int | None


class SaleRow(NamedTuple):
    customer_id: int
    sold_on: dt.date
    kind: str
    odometer_km: int


class HasModel(Protocol):
    """A vehicle's make, model and own maintenance interval: a Vehicle row or a VehicleRow."""

    @property
    def id(self) -> int: ...
    @property
    def dealership_id(self) -> int: ...
    @property
    def make(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def maintenance_interval_km(self) -> int | None: ...
    @property
    def maintenance_interval_months(self) -> int | None: ...


@dataclass(frozen=True)
class VehicleForecastInput:
    """One vehicle's facts for the forecast, loaded by the caller (contacts.planning loads a chunk)."""

    vehicle: VehicleRow
    sales: tuple[SaleRow, ...]
    readings: tuple[Reading, ...]
    maintenance: tuple[tuple[dt.date, int], ...]  # (visited on, km) of maintenance visits, by date
    today: dt.date
    # The maintenance visits' stored forecast errors: (visit id, day, km, stamp, error days); a visit
    # whose stamp still matches its facts is not replayed, and changed errors are written back.
    habit_errors: tuple[tuple[int, dt.date, int, int | None, int | None], ...] = ()


@dataclass(frozen=True)
class PlanningForecast:
    km_per_month: float
    upcoming_due_dates: tuple[dt.date, ...]
    upcoming_due_drivers: tuple[str, ...]
    valid_until: dt.date = dt.date.max  # the first day the same facts may forecast differently


@dataclass
class ForecastBatch:
    by_vehicle: dict[int, PlanningForecast]
    written: int
    # The first day each vehicle's facts may forecast differently (also those with no forecast yet:
    # a sale or visit dated after today).
    valid_until: dict[int, dt.date] = field(default_factory=dict)
    habit_errors_written: int = 0  # maintenance visits whose stored forecast error was (re)computed


def schedules() -> dict[tuple[str, str], Interval]:
    return {
        (s.make.lower(), s.model.lower()): Interval(
            s.interval_km, s.interval_months, s.first_interval_km, s.first_interval_months
        )
        for s in MaintenanceSchedule.objects.all()
    }


def interval_for(vehicle: HasModel, table: dict[tuple[str, str], Interval]) -> Interval:
    """The vehicle's own interval, else its model's, else its make's, else the global default."""
    base = (
        table.get((vehicle.make.lower(), vehicle.model.lower()))
        or table.get((vehicle.make.lower(), ""))
        or Interval(DEFAULT_INTERVAL_KM, DEFAULT_INTERVAL_MONTHS, None, None)
    )
    return Interval(
        vehicle.maintenance_interval_km or base.km,
        vehicle.maintenance_interval_months or base.months,
        base.first_km,
        base.first_months,
    )


def mileage_priors(*, refresh: bool = False) -> dict[str, float]:
    """The usual km a month of well-observed cars, learned from their facts (``priors_core.car_rate``):
    per dealership + make + model + sale kind, dealership + make + model, dealership + sale kind and
    dealership (``priors_core.median_priors``). From the facts, not from stored forecasts, so a fresh
    database's first re-plan plans with the priors its second does.

    Computed once for every worker: the first process to find the cache cold computes and stores them
    (``PRIORS_LOCK_KEY``) while the others keep planning with the priors in use (``PRIORS_IN_USE_KEY``)
    or, on a fresh database, wait for the result, instead of each re-reading the whole fleet at once. On PostgreSQL they are counted in the database (``_PRIORS_SQL``: window and
    ``percentile_cont``, sorts that spill to disk), elsewhere streamed a vehicle at a time
    (``_priors_streamed``). The nightly sweep computes them once before its chunks
    (contacts.tasks.replan_all_vehicles)."""
    cached = None if refresh else cache.get(PRIORS_CACHE_KEY)
    if cached is not None:
        return dict(cached)
    if not refresh and not _lock_priors():
        # Another process is computing them (minutes at 10,000,000 vehicles): the priors in use until
        # it is done, else its result.
        waited = _cache_get(PRIORS_IN_USE_KEY) or _wait_for_priors()
        if waited is not None:
            return waited
    try:
        today = timezone.localdate()
        priors = _priors_in_database(today) if connection.vendor == "postgresql" else _priors_streamed(today)
        priors = priors_core.settled_priors(priors, _cache_get(PRIORS_IN_USE_KEY))
        cache.set(PRIORS_CACHE_KEY, priors, PRIORS_CACHE_SECONDS)
        cache.set(PRIORS_IN_USE_KEY, priors, None)  # kept: the next computation settles against it
    finally:
        _unlock_priors()
    return priors


#: The nightly sweep learns the priors and the seasonal profiles again after this many days, or sooner
#: when the fleet grew by ``PRIORS_RELEARN_GROWTH`` (an import of a new dealership's cars): learning
#: them reads every odometer of the fleet (the priors alone 27 s in PostgreSQL at 1,000,000 vehicles,
#: bench/README.md), and medians of thousands of cars barely move from one night to the next (they
#: are settled anyway: the priors within 100 km, the profiles within 0.03).
PRIORS_RELEARN_DAYS = 7
PRIORS_RELEARN_GROWTH = 0.05
PRIORS_LEARNED_KEY = "forecast:priors:learned"  # (the local day, the vehicles then), without expiry


def learn_for_sweep(today: dt.date) -> bool:
    """Before a nightly sweep's chunks: learn the mileage priors and the seasonal profiles again when
    they are due (none in use, learned ``PRIORS_RELEARN_DAYS`` or more days before ``today``, or the
    fleet grew by ``PRIORS_RELEARN_GROWTH`` since), else put the ones in use in the chunks' caches.
    Returns whether they were learned."""
    learned = cache.get(PRIORS_LEARNED_KEY)
    in_use = _cache_get(PRIORS_IN_USE_KEY)
    profiles_in_use = _cached_profiles(SEASONS_IN_USE_KEY)
    vehicles = Vehicle.objects.count()
    if in_use is not None and profiles_in_use is not None and learned is not None:
        learned_on, then = dt.date.fromisoformat(learned[0]), learned[1]
        if (today - learned_on).days < PRIORS_RELEARN_DAYS and vehicles < then * (1 + PRIORS_RELEARN_GROWTH):
            cache.set(PRIORS_CACHE_KEY, in_use, PRIORS_CACHE_SECONDS)
            cache.set(SEASONS_CACHE_KEY, profiles_in_use, SEASONS_CACHE_SECONDS)
            return False
    mileage_priors(refresh=True)
    seasonal_profiles(refresh=True, today=today)
    cache.set(PRIORS_LEARNED_KEY, (today.isoformat(), vehicles), None)
    return True


PRIORS_LOCK_KEY = "forecast:priors:computing"
# The priors last put in use, without expiry: a new computation keeps each one that barely moved
# (customers.core.priors.settled_priors), so a median wobbling across a rounding step re-plans nothing.
PRIORS_IN_USE_KEY = "forecast:priors:in-use"


def _cache_get(key: str) -> dict[str, float] | None:
    try:
        value = cache.get(key)
    except Exception:  # noqa: BLE001 - no cache (Redis down): nothing to settle against
        return None
    return dict(value) if value else None
# How long the others wait for the process computing the priors when none are in use yet (a fresh
# database), and how long the lock outlives a process killed while computing them (5-8 s at 100,000
# vehicles at load 5, bench/README.md: about ten minutes at 10,000,000).
PRIORS_WAIT_SECONDS = 120
PRIORS_LOCK_SECONDS = 30 * 60


def _lock_priors() -> bool:
    try:
        return bool(cache.add(PRIORS_LOCK_KEY, 1, PRIORS_LOCK_SECONDS))
    except Exception:  # noqa: BLE001 - no cache (Redis down): every process computes its own
        return True


def _unlock_priors() -> None:
    try:
        cache.delete(PRIORS_LOCK_KEY)
    except Exception:  # noqa: BLE001
        pass


def _wait_for_priors() -> dict[str, float] | None:
    deadline = time.monotonic() + PRIORS_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.5)
        cached = cache.get(PRIORS_CACHE_KEY)
        if cached is not None:
            return dict(cached)
        if cache.get(PRIORS_LOCK_KEY) is None:
            return None  # the computing process gave up: compute here
    return None


# Every fact with an odometer, dated up to today (%(today)s): readings, service visits of every kind,
# and sales (a new car's, or a used car's when its km was recorded: 0 km then means "not recorded").
_FACTS_SQL = """
    SELECT vehicle_id, read_on AS day, odometer_km AS km FROM customers_odometerreading WHERE read_on <= %(today)s
    UNION ALL
    SELECT vehicle_id, visited_on, odometer_km FROM customers_servicevisit WHERE visited_on <= %(today)s
    UNION ALL
    SELECT vehicle_id, sold_on, odometer_km FROM customers_sale
     WHERE sold_on <= %(today)s AND (kind = 'new' OR odometer_km > 0)
"""

# The kind of a vehicle's latest sale up to today ("" when none); of two on one day, the later id.
_KIND_SQL = """
    COALESCE((SELECT s.kind FROM customers_sale s WHERE s.vehicle_id = v.id AND s.sold_on <= %(today)s
               ORDER BY s.sold_on DESC, s.id DESC LIMIT 1), '')
"""

# customers.core.priors.car_rate per vehicle (its days' lowest km; from each day, the segment to the
# first day 7 or more days later; the median of the segments' rates, when the days span 60 or more),
# then the medians of those rates per group, in one pass of sorts that spill to disk, not to memory.
_PRIORS_SQL = f"""
    WITH days AS (
        SELECT vehicle_id, day - DATE '1970-01-01' AS o, min(km) AS km FROM ({_FACTS_SQL}) f
         GROUP BY vehicle_id, day
    ), segments AS (
        SELECT vehicle_id, o, km, first_value(o) OVER w AS o2, first_value(km) OVER w AS km2 FROM days
        WINDOW w AS (PARTITION BY vehicle_id ORDER BY o
                     RANGE BETWEEN {priors_core.MIN_SEGMENT_DAYS} FOLLOWING AND UNBOUNDED FOLLOWING)
    ), cars AS (
        SELECT vehicle_id,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY (km2 - km)::float8 * {MONTH_DAYS} / (o2 - o)) AS rate
          FROM segments GROUP BY vehicle_id HAVING max(o) - min(o) >= {priors_core.MIN_SPAN_DAYS}
    ), observed AS (
        SELECT v.dealership_id, v.make, v.model, {_KIND_SQL} AS kind, c.rate
          FROM cars c JOIN customers_vehicle v ON v.id = c.vehicle_id
    )
    SELECT GROUPING(make, model, kind), dealership_id, make, model, kind, count(*),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY rate)
      FROM observed
     GROUP BY GROUPING SETS ((dealership_id, make, model, kind), (dealership_id, make, model),
                             (dealership_id, kind), (dealership_id))
"""


def _priors_in_database(today: dt.date) -> dict[str, float]:
    with connection.cursor() as cursor:
        cursor.execute(_PRIORS_SQL, {"today": today})
        groups = []
        for level, dealership_id, make, model, kind, cars, median in cursor.fetchall():
            if level & 1 == 0 and not kind:
                continue  # the cars with no sale have no kind's groups
            groups.append((priors_core.group_key(
                dealership_id, None if level & 4 else make, None if level & 2 else model, None if level & 1 else kind,
            ), cars, float(median)))
        return priors_core.priors_from_medians(groups)


# Each vehicle's days with their lowest km, in order, with what it is grouped by (SQLite's way).
_CAR_DAYS_SQL = f"""
    SELECT v.id, v.dealership_id, v.make, v.model, {_KIND_SQL}, f.day, min(f.km)
      FROM ({_FACTS_SQL}) f JOIN customers_vehicle v ON v.id = f.vehicle_id
     GROUP BY v.id, f.day ORDER BY v.id, f.day
"""


def _priors_streamed(today: dt.date) -> dict[str, float]:
    """The priors where the database has no ``percentile_cont`` (SQLite): each vehicle's days streamed
    in order (a server-side cursor on PostgreSQL), its rate by ``priors_core.car_rate``, the medians by
    ``priors_core.median_priors`` (which keeps 8 bytes per observed car and group, no row per vehicle)."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(_CAR_DAYS_SQL, {"today": today})
        return priors_core.median_priors(_observed_cars(cursor))


def _observed_cars(rows: Iterable[Sequence[Any]]) -> Iterator[tuple[int, str, str, str, float]]:
    for (_vehicle_id, dealership_id, make, model, kind), days in groupby(rows, key=lambda row: tuple(row[:5])):
        rate = priors_core.car_rate((_as_date(day), km) for *_key, day, km in days)
        if rate is not None:
            yield dealership_id, make, model, kind, rate


def _as_date(value: dt.date | str) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def prior_for(
    vehicle: HasModel, priors: dict[str, float], *, sales: Sequence[forecast.SaleLike], today: dt.date
) -> float | None:
    """The vehicle's prior: by its model and the kind of its latest sale up to ``today`` (the re-plan's
    fingerprint and its forecast both ask here, so they agree)."""
    return priors_core.prior_for(
        priors, dealership_id=vehicle.dealership_id, make=vehicle.make, model=vehicle.model,
        kind=priors_core.latest_sale_kind(((s.sold_on, s.kind) for s in sales), today),
    )


def _stored_values(computed: forecast.Forecast, today: dt.date) -> dict[str, Any]:
    estimate, due = computed.estimate, computed.due
    return {
        "computed_on": today,
        "km_per_month": round(estimate.km_per_month, 1),
        "km_per_month_low": round(estimate.low_km_per_month, 1),
        "km_per_month_high": round(estimate.high_km_per_month, 1),
        "source": estimate.source,
        "odometer_km": max(0, computed.odometer_km),
        "odometer_on": computed.odometer_on,
        "next_due_on": due.due_on,
        "due_earliest_on": min(due.earliest_on, due.due_on),
        "due_latest_on": max(due.latest_on, due.due_on),
        "due_driver": due.driver,
        "due_odometer_km": max(0, due.due_odometer_km),
        "interval_number": due.interval_number,
        "is_overdue": due.is_overdue,
        "flagged_readings": [
            {
                "read_on": flag.reading.read_on.isoformat(),
                "odometer_km": flag.reading.odometer_km,
                "reason": flag.reason,
                "reading_id": flag.reading.reading_id,
            }
            for flag in estimate.flagged
        ],
    }


def forecast_vehicles(
    *,
    inputs: Sequence[VehicleForecastInput],
    store: bool = True,
    table: dict[tuple[str, str], Interval] | None = None,
    priors: dict[str, float] | None = None,
    profiles: dict[int, Profile] | None = None,
) -> ForecastBatch:
    """Compute (and store, unless ``store`` is off) forecasts for a chunk of vehicles; writes only changes.
    The maintenance schedules, mileage priors and seasonal profiles (by dealership, ``seasonal_profiles``)
    are read here unless the caller has them already."""
    ids = [item.vehicle.id for item in inputs]
    table = schedules() if table is None else table
    priors = mileage_priors() if priors is None else priors
    profiles = seasonal_profiles() if profiles is None else profiles
    existing = {f.vehicle_id: f for f in VehicleForecast.objects.filter(vehicle_id__in=ids)} if store else {}
    by_vehicle: dict[int, PlanningForecast] = {}
    to_create: list[VehicleForecast] = []
    to_update: list[VehicleForecast] = []
    snapshots: list[ForecastSnapshot] = []
    valid_until: dict[int, dt.date] = {}
    errors_changed: list[tuple[int, int, int | None]] = []  # (visit id, stamp, error days)
    for item in inputs:
        vehicle = item.vehicle
        computed = forecast.forecast_vehicle(
            readings=item.readings,
            sales=item.sales,
            maintenance=item.maintenance,
            interval=interval_for(vehicle, table),
            prior_km_per_month=prior_for(vehicle, priors, sales=item.sales, today=item.today),
            today=item.today,
            stored_errors={
                (day, km): (stamp, error) for _pk, day, km, stamp, error in item.habit_errors if stamp is not None
            },
            seasonality=profiles.get(vehicle.dealership_id),
        )
        if computed is not None and computed.habit_errors:
            fresh = {(e.visited_on, e.odometer_km): (e.stamp, e.error_days) for e in computed.habit_errors}
            for pk, day, km, stamp, error in item.habit_errors:
                now = fresh.get((day, km))
                if now is not None and now != (stamp, error):
                    errors_changed.append((pk, *now))
        if computed is None:
            valid_until[vehicle.id] = forecast.next_fact_day(item.readings, item.sales, item.maintenance, today=item.today)
            continue
        valid_until[vehicle.id] = computed.valid_until
        by_vehicle[vehicle.id] = PlanningForecast(
            km_per_month=computed.estimate.km_per_month,
            upcoming_due_dates=computed.upcoming_due_dates,
            upcoming_due_drivers=computed.upcoming_due_drivers,
            valid_until=computed.valid_until,
        )
        values = _stored_values(computed, item.today)
        row = existing.get(vehicle.id)
        if row is None:
            to_create.append(VehicleForecast(vehicle_id=vehicle.id, **values))
        elif any(getattr(row, name) != values[name] for name in STORED_FIELDS if name != "computed_on"):
            for name, value in values.items():
                setattr(row, name, value)
            to_update.append(row)
        else:
            continue
        snapshots.append(
            ForecastSnapshot(
                vehicle_id=vehicle.id,
                taken_on=item.today,
                km_per_month=values["km_per_month"],
                next_due_on=values["next_due_on"],
                due_earliest_on=values["due_earliest_on"],
                due_latest_on=values["due_latest_on"],
                due_driver=values["due_driver"],
                interval_number=values["interval_number"],
            )
        )
    if not store:
        return ForecastBatch(by_vehicle=by_vehicle, written=0, valid_until=valid_until)
    _write_forecasts(to_create, to_update, snapshots)
    _write_habit_errors(errors_changed)
    return ForecastBatch(
        by_vehicle=by_vehicle, written=len(to_create) + len(to_update), valid_until=valid_until,
        habit_errors_written=len(errors_changed),
    )


def _write_habit_errors(changed: list[tuple[int, int, int | None]]) -> None:
    """The maintenance visits' recomputed forecast errors (COPY on PostgreSQL for many, else the ORM)."""
    if not changed:
        return
    columns = ("id", "habit_error_stamp", "habit_error_days")
    if bulk.uses_copy(len(changed), update=True):
        bulk.update("customers_servicevisit", columns, changed, key="id")
        return
    ServiceVisit.objects.bulk_update(
        [ServiceVisit(id=pk, habit_error_stamp=stamp, habit_error_days=error) for pk, stamp, error in changed],
        ["habit_error_stamp", "habit_error_days"],
        batch_size=2000,
    )


SNAPSHOT_COLUMNS = (
    "vehicle_id", "taken_on", "km_per_month", "next_due_on", "due_earliest_on", "due_latest_on", "due_driver",
    "interval_number",
)


def _write_forecasts(
    to_create: list[VehicleForecast], to_update: list[VehicleForecast], snapshots: list[ForecastSnapshot]
) -> None:
    """New and changed forecasts and their snapshots: COPY on PostgreSQL for a chunk, else the ORM."""
    columns = ("vehicle_id", *STORED_FIELDS)

    def values(forecast: VehicleForecast) -> tuple[Any, ...]:
        return (forecast.vehicle_id, *(getattr(forecast, name) for name in STORED_FIELDS[:-1]),
                Jsonb(forecast.flagged_readings))

    if bulk.uses_copy(len(to_create)):
        bulk.insert("customers_vehicleforecast", columns, map(values, to_create), on_conflict="ON CONFLICT (vehicle_id) DO NOTHING")
    else:
        VehicleForecast.objects.bulk_create(to_create, batch_size=2000, ignore_conflicts=True)
    if bulk.uses_copy(len(to_update), update=True):
        bulk.update("customers_vehicleforecast", columns, map(values, to_update), key="vehicle_id")
    else:
        VehicleForecast.objects.bulk_update(to_update, STORED_FIELDS, batch_size=2000)
    if bulk.uses_copy(len(snapshots)):
        bulk.insert(
            "customers_forecastsnapshot",
            SNAPSHOT_COLUMNS,
            ((*(getattr(s, name) for name in SNAPSHOT_COLUMNS),) for s in snapshots),
            on_conflict="ON CONFLICT DO NOTHING",
        )
    else:
        ForecastSnapshot.objects.bulk_create(snapshots, batch_size=2000, ignore_conflicts=True)


def forecast_view_data(*, vehicle: Vehicle, readings: list[OdometerReading], today: dt.date) -> dict[str, Any]:
    """The vehicle page: stored forecast, flagged readings by id, and the chart's points."""
    forecast = VehicleForecast.objects.filter(vehicle=vehicle).first()
    flags = {f["reading_id"]: f["reason"] for f in (forecast.flagged_readings if forecast else [])}
    chart: dict[str, Any] = {
        "readings": [
            {"x": r.read_on.isoformat(), "y": r.odometer_km, "flagged": r.id in flags} for r in readings
        ],
        "projection": [],
    }
    if forecast is not None:
        chart["projection"] = [
            {"x": today.isoformat(), "y": forecast.odometer_on_day(today)},
            {"x": forecast.next_due_on.isoformat(), "y": forecast.due_odometer_km},
        ]
    return {"forecast": forecast, "flags": flags, "chart": chart, "today": today}


# --------------------------------------------------------------------------- seasonality

SEASONS_CACHE_KEY = "forecast:seasons:v1"
# The profiles last put in use, without expiry: a new computation keeps each one that barely moved
# (customers.core.seasonality.settled_profile), so a wobble of 0.01 re-plans nothing.
SEASONS_IN_USE_KEY = "forecast:seasons:in-use"
SEASONS_LOCK_KEY = "forecast:seasons:computing"
# The sweep refreshes them nightly; they outlive a day so that no chunk finds the cache cold between.
SEASONS_CACHE_SECONDS = 26 * 3600
# How long the others wait for the process computing them (1.8 minutes at about 1,000,000 vehicles and
# 4.5 million readings, bench/README.md), before computing their own.
SEASONS_WAIT_SECONDS = 600


def seasonal_profiles(*, refresh: bool = False, today: dt.date | None = None) -> dict[int, Profile]:
    """Each dealership's monthly driving profile (customers.core.seasonality), flat ones left out.

    Learned from every odometer the forecast reads (the readings, the maintenance visits', the sales')
    dated up to ``today``; computed and cached like the priors (``mileage_priors``, but for 26 hours): once per sweep
    (contacts.tasks.replan_all_vehicles), by one process while the others wait, the sums counted in
    the database on PostgreSQL (``_season_sums_in_database``), else streamed a chunk of vehicles at a
    time (``_season_sums_streamed``), so no process holds a row per reading."""
    cached = None if refresh else _cached_profiles(SEASONS_CACHE_KEY)
    if cached is not None:
        return cached
    if not refresh and not _add_lock(SEASONS_LOCK_KEY):
        waited = _wait_for_profiles()
        if waited is not None:
            return waited
    try:
        day = today or timezone.localdate()
        sums = _season_sums_in_database(day) if connection.vendor == "postgresql" else _season_sums_streamed(day)
        previous = _cached_profiles(SEASONS_IN_USE_KEY) or {}
        profiles = {}
        for dealership_id, dealer_sums in sums.items():
            profile = seasonality.settled_profile(seasonality.profile_from_sums(dealer_sums), previous.get(dealership_id))
            if profile != seasonality.FLAT:
                profiles[dealership_id] = profile
        try:
            cache.set(SEASONS_CACHE_KEY, profiles, SEASONS_CACHE_SECONDS)
            cache.set(SEASONS_IN_USE_KEY, profiles, None)
        except Exception:  # noqa: BLE001 - no cache (Redis down): every chunk computes its own
            pass
    finally:
        try:
            cache.delete(SEASONS_LOCK_KEY)
        except Exception:  # noqa: BLE001
            pass
    return profiles


def _cached_profiles(key: str) -> dict[int, Profile] | None:
    try:
        value = cache.get(key)
    except Exception:  # noqa: BLE001 - no cache (Redis down)
        return None
    return None if value is None else {int(k): tuple(v) for k, v in value.items()}


def _add_lock(key: str) -> bool:
    try:
        return bool(cache.add(key, 1, SEASONS_WAIT_SECONDS))
    except Exception:  # noqa: BLE001 - no cache (Redis down): every process computes its own
        return True


def _wait_for_profiles() -> dict[int, Profile] | None:
    deadline = time.monotonic() + SEASONS_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.5)
        cached = _cached_profiles(SEASONS_CACHE_KEY)
        if cached is not None:
            return cached
        if cache.get(SEASONS_LOCK_KEY) is None:
            return None  # the computing process gave up: compute here
    return None


# Every odometer the forecast reads, one a day per vehicle (the lowest, as SeasonSums.add_car keeps it).
_SEASON_POINTS_SQL = """
    SELECT v.dealership_id AS dealer, p.vehicle_id AS car, p.day, min(p.km) AS km
      FROM (SELECT vehicle_id, read_on AS day, odometer_km AS km FROM customers_odometerreading
            UNION ALL
            SELECT vehicle_id, visited_on, odometer_km FROM customers_servicevisit WHERE kind = 'maintenance'
            UNION ALL
            SELECT vehicle_id, sold_on, odometer_km FROM customers_sale WHERE kind = 'new' OR odometer_km > 0) p
      JOIN customers_vehicle v ON v.id = p.vehicle_id
     WHERE p.day <= %(today)s
     GROUP BY v.dealership_id, p.vehicle_id, p.day
"""


def _season_sums_sql() -> str:
    """SeasonSums.add_car for every car at once, summed by dealership: segments between neighbouring
    points, their days in each calendar month (generate_series over the months they cover), the car's
    totals (window sums), then, for the cars that count, Σ s_j s_k / d - T_j T_k / (D n) per segment
    (so that a car's rows add up to Σ d x_j x_k) and Σ s_j (ratio - 1)."""
    months = range(1, 13)
    split = ", ".join(f"coalesce(sum(m.days) FILTER (WHERE m.month = {j}), 0)::float AS s{j}" for j in months)
    totals = ", ".join(f"sum(s{j}) OVER car AS t{j}" for j in months)
    xx = ", ".join(
        f"sum(s{j} * s{k} / d - t{j} * t{k} / (car_days * n))" for j in months for k in months if k >= j
    )
    xy = ", ".join(f"sum(s{j} * (km / d / (car_km / car_days) - 1))" for j in months)
    observed = ", ".join(f"sum(s{j})" for j in months)
    return f"""
    WITH points AS ({_SEASON_POINTS_SQL}),
    pairs AS (
        SELECT dealer, car, lag(day) OVER w AS a, day AS b, km - lag(km) OVER w AS km
          FROM points WINDOW w AS (PARTITION BY car ORDER BY day)
    ),
    segments AS (
        SELECT dealer, car, a, b, (b - a)::float AS d, km::float AS km FROM pairs
         WHERE a IS NOT NULL AND (b - a >= {seasonality.MIN_SEGMENT_DAYS} OR km < 0)
    ),
    split AS (
        SELECT s.dealer, s.car, s.d, s.km, sp.*
          FROM segments s
         CROSS JOIN LATERAL (
               SELECT {split}
                 FROM (SELECT extract(month FROM m.start)::int AS month,
                              least(s.b, (m.start + interval '1 month')::date) - greatest(s.a, m.start::date) AS days
                         FROM generate_series(date_trunc('month', s.a), s.b - 1, interval '1 month') AS m(start)
                        WHERE s.km >= 0) m
               ) sp
    ),
    cars AS (
        SELECT *, sum(d) OVER car AS car_days, sum(km) OVER car AS car_km, count(*) OVER car AS n,
               bool_or(km < 0 OR km > {seasonality.MAX_KM_PER_DAY} * d) OVER car AS spoilt,
               max(km / d) OVER car AS fastest, {totals}
          FROM split WINDOW car AS (PARTITION BY car)
    ),
    counted AS (
        SELECT * FROM cars
         WHERE NOT spoilt AND n >= 2 AND car_days >= {seasonality.MIN_CAR_DAYS} AND car_km > 0
           AND fastest <= {seasonality.MAX_RATIO} * car_km / car_days
    )
    SELECT dealer, count(DISTINCT car), {xx}, {xy}, {observed} FROM counted GROUP BY dealer
    """


def _season_sums_in_database(today: dt.date) -> dict[int, seasonality.SeasonSums]:
    with connection.cursor() as cursor:
        # Without JIT: the planner prices generate_series at 1,000 rows a segment, and compiling this
        # statement's hundred sums took 4 of its 5 seconds at 4,000 vehicles (clm_small).
        cursor.execute("SET jit = off")
        cursor.execute(_season_sums_sql(), {"today": today})
        rows = cursor.fetchall()
        cursor.execute("RESET jit")  # (left off when the statement failed: harmless for the session)
    result = {}
    upper = [(j, k) for j in range(12) for k in range(12) if k >= j]
    for dealer, cars, *values in rows:
        sums = seasonality.SeasonSums(cars=cars)
        for (j, k), value in zip(upper, values[: len(upper)], strict=True):
            sums.xx[12 * j + k] = sums.xx[12 * k + j] = float(value)
        sums.xy = [float(v) for v in values[len(upper) : len(upper) + 12]]
        sums.car_days = [float(v) for v in values[len(upper) + 12 :]]
        result[dealer] = sums
    return result


def _season_sums_streamed(today: dt.date, chunk: int = 2_000) -> dict[int, seasonality.SeasonSums]:
    """The sums where the database is not PostgreSQL, a chunk of vehicles at a time (bounded memory)."""
    result: dict[int, seasonality.SeasonSums] = {}
    vehicles = Vehicle.objects.order_by("id").values_list("id", "dealership_id")
    last_id = 0
    while True:
        batch = list(vehicles.filter(id__gt=last_id)[:chunk])
        if not batch:
            return result
        last_id = batch[-1][0]
        ids = [pk for pk, _ in batch]
        points: dict[int, list[tuple[int, int]]] = {pk: [] for pk in ids}
        for pk, day, km in OdometerReading.objects.filter(vehicle_id__in=ids, read_on__lte=today).values_list(
            "vehicle_id", "read_on", "odometer_km"
        ):
            points[pk].append((day.toordinal(), km))
        for pk, day, km in ServiceVisit.objects.filter(
            vehicle_id__in=ids, kind=ServiceVisit.Kind.MAINTENANCE, visited_on__lte=today
        ).values_list("vehicle_id", "visited_on", "odometer_km"):
            points[pk].append((day.toordinal(), km))
        for pk, day, km, kind in Sale.objects.filter(vehicle_id__in=ids, sold_on__lte=today).values_list(
            "vehicle_id", "sold_on", "odometer_km", "kind"
        ):
            if kind == "new" or km > 0:
                points[pk].append((day.toordinal(), km))
        for pk, dealership_id in batch:
            result.setdefault(dealership_id, seasonality.SeasonSums()).add_car(points[pk])
