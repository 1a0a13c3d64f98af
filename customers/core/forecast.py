"""One vehicle's forecast from its facts, as production runs it, and its replay over past visits (pure, stdlib only).

The estimate (``customers.core.mileage``) gives the rate, the due dates follow from it
(``customers.core.due_dates``) and the customer's habit moves them (``customers.core.habit``).
docs/forecast.md describes the rules in plain words.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal, Protocol

from customers.core.calendar import MONTH_DAYS, add_months, first_day_when_months_reach
from customers.core.due_dates import (
    Driver,
    MaintenanceDue,
    maintenance_intervals,
    most_likely_due,
    next_maintenance_due,
    project_due_days,
    project_maintenance_due_dates,
)
from customers.core.habit import adjust_for_habit, habit_shift_days
from customers.core.mileage import MileageEstimate, estimate_mileage, round_km
from customers.core.readings import Reading
from customers.core.seasonality import Profile, Season, season_for

__all__ = [
    "PROJECTION_MONTHS",
    "Forecast",
    "Interval",
    "Sale",
    "SaleLike",
    "HABIT_STAMP_VERSION",
    "SkippedVisit",
    "StoredErrors",
    "VisitError",
    "forecast_vehicle",
    "habit_errors",
    "habit_stamps",
    "next_fact_day",
    "odometer_on_day",
    "replay_maintenance",
]

#: The plan needs due dates up to the end of the current cycle (at most 36 months after today) or,
#: after the cycle, 12 months ahead; one more month covers the reminders' windows.
PROJECTION_MONTHS = 37

_ONE_DAY = timedelta(days=1)


class SaleLike(Protocol):
    """A sale as the forecast needs it (customers.forecasting.SaleRow, or ``Sale`` below)."""

    @property
    def sold_on(self) -> date: ...
    @property
    def kind(self) -> str: ...
    @property
    def odometer_km(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Sale:
    sold_on: date
    kind: str  # "new", "used", "trade_in"
    odometer_km: int


@dataclass(frozen=True, slots=True)
class Interval:
    """A vehicle's maintenance interval; the first one's own applies only after a new-car sale."""

    km: int
    months: int
    first_km: int | None = None
    first_months: int | None = None


@dataclass(frozen=True, slots=True)
class Forecast:
    estimate: MileageEstimate
    due: MaintenanceDue  # with the customer's habit
    odometer_today_km: int
    is_first_after_sale: bool  # the next maintenance is the first after a new-car sale
    habit_shift_days: int
    start_on: date  # the latest maintenance, else the latest sale
    start_km: int
    interval_km: int  # the interval of the next maintenance (the first one's own after a new-car sale)
    interval_months: int
    # The odometer is ``odometer_km`` on ``odometer_on`` and grows at the rate after it: the odometer on
    # any later day is computed on read (``odometer_on_day``), so the forecast does not change daily.
    odometer_on: date = date.min
    odometer_km: int = 0
    # The first day after ``today`` on which the same facts may forecast differently (a fact dated after
    # today comes into view, the next due date becomes overdue, the projection reaches one more).
    valid_until: date = date.max
    # The days and drivers of the due dates ahead (``upcoming``'s), the first being ``due``'s: what the
    # plan reads, worked out without the later due dates' ranges.
    upcoming_due_dates: tuple[date, ...] = ()
    upcoming_due_drivers: tuple[Driver, ...] = ()
    # What ``upcoming`` is computed from, on read (its ranges cost twice the days and nothing plans from them).
    projection: tuple[object, ...] = field(default=(), compare=False, repr=False)
    # Each past maintenance visit's error (what the habit is read from), to store with the visit.
    habit_errors: tuple[VisitError, ...] = ()

    @property
    def upcoming(self) -> tuple[MaintenanceDue, ...]:
        """The due dates ahead with their ranges, the first being ``due`` (empty with no projection)."""
        if not self.projection:
            return ()
        estimate, interval, done, first_km, first_months, today, projection_months, *seasonal = self.projection
        assert isinstance(estimate, MileageEstimate) and isinstance(interval, Interval)
        season = seasonal[0] if seasonal else None  # only there with a profile (the same tuple without one)
        assert season is None or isinstance(season, Season)
        projected = project_maintenance_due_dates(
            estimate=estimate, start_on=self.start_on, start_km=self.start_km, interval_km=interval.km,
            interval_months=interval.months, until=add_months(today, projection_months),  # type: ignore[arg-type]
            today=today, maintenances_done=done, first_interval_km=first_km,  # type: ignore[arg-type]
            first_interval_months=first_months, season=season,  # type: ignore[arg-type]
        )
        if not projected:
            return ()
        step = timedelta(days=self.habit_shift_days)
        # Each later visit starts from a visit that came ``shift`` days off, so the shifts add up.
        moved = [self.due]
        for k in range(1, len(projected)):
            d, by = projected[k], step * (k + 1)
            moved.append(MaintenanceDue(d.due_on + by, d.driver, d.due_odometer_km, d.interval_number,
                                        d.earliest_on + by, d.latest_on + by, d.is_overdue))
        return tuple(moved)


def odometer_on_day(km_per_month: float, odometer_on: date, odometer_km: int, day: date) -> int:
    """The estimated odometer on ``day`` (on or after ``odometer_on``), from a stored forecast."""
    return max(0, round_km(odometer_km + km_per_month * (day - odometer_on).days / MONTH_DAYS))


def forecast_vehicle(
    *,
    readings: Sequence[Reading],
    sales: Sequence[SaleLike],
    maintenance: Sequence[tuple[date, int]],
    interval: Interval,
    prior_km_per_month: float | None,
    today: date,
    projection_months: int = PROJECTION_MONTHS,
    with_habit: bool = True,
    stored_errors: StoredErrors | None = None,
    seasonality: Profile | None = None,
) -> Forecast | None:
    """One vehicle's forecast from its facts; None when no sale and no maintenance came before ``today``.

    The re-plan (customers.forecasting) and the backtest both call this, so the backtest replays what
    production computes. Facts dated after ``today`` are left out (readings are flagged "future").
    The sale's odometer (a new car's, or a used car's when known) and each maintenance visit's are
    readings too, unless a reading with that day and km is there already. The starting point is the
    latest maintenance, else the latest sale; when the estimator set the starting odometer aside (a
    typo at the visit), the estimate's odometer on that day is used instead. ``projection_months`` = 0
    gives the next due date only (``upcoming`` is empty). ``stored_errors``: the past visits' errors as
    a previous run returned them (``Forecast.habit_errors``); those whose facts did not change are not
    replayed again. ``seasonality``: the dealership's monthly driving profile (customers.core.seasonality;
    None or flat: none, and the same results as without it).
    """
    season = season_for(seasonality)
    # The facts up to today, and the first day a later one comes into view (readings: below).
    next_fact_on = date.max
    past_maintenance = []
    for visit in maintenance:
        if visit[0] <= today:
            past_maintenance.append(visit)
        elif visit[0] < next_fact_on:
            next_fact_on = visit[0]
    past_maintenance.sort()
    past_sales = []
    for sale in sales:
        if sale.sold_on <= today:
            past_sales.append(sale)
        elif sale.sold_on < next_fact_on:
            next_fact_on = sale.sold_on
    if len(past_sales) > 1:
        past_sales.sort(key=_sold_on)
    cycle_sale = past_sales[-1] if past_sales else None
    if past_maintenance:
        start_on, start_km = past_maintenance[-1]
    elif cycle_sale is not None:
        start_on, start_km = cycle_sale.sold_on, cycle_sale.odometer_km
    else:
        return None
    known = _with_fact_readings(readings, past_sales, past_maintenance)
    estimate = estimate_mileage(known, today=today, prior_km_per_month=prior_km_per_month, season=season)
    if estimate.flagged:
        # Every reading dated after today is flagged (future, or negative): the next one to come into view.
        for f in estimate.flagged:
            if today < f.reading.read_on < next_fact_on:
                next_fact_on = f.reading.read_on
        if estimate.used_readings and any(
            f.reading.read_on == start_on and f.reading.odometer_km == start_km for f in estimate.flagged
        ):
            start_km = estimate.odometer_on(start_on, season)
    if cycle_sale is None:
        done = len(past_maintenance)
    else:
        sold_on = cycle_sale.sold_on
        done = 0
        for day, _km in past_maintenance:
            if day >= sold_on:
                done += 1
    is_first = not past_maintenance and cycle_sale is not None and cycle_sale.kind == "new"
    first_km = interval.first_km if is_first else None
    first_months = interval.first_months if is_first else None
    next_km, next_months = maintenance_intervals(done, interval.km, interval.months, first_km, first_months)
    raw = next_maintenance_due(
        estimate=estimate, last_maintenance_on=start_on, last_maintenance_km=start_km, interval_km=interval.km,
        interval_months=interval.months, today=today, maintenances_done=done, first_interval_km=first_km,
        first_interval_months=first_months, season=season,
    )
    if projection_months > 0:
        days, beyond_on = project_due_days(
            estimate=estimate, first=raw, interval_km=interval.km, interval_months=interval.months,
            until=add_months(today, projection_months), first_interval_km=first_km, first_interval_months=first_months,
            season=season,
        )
        if not days:  # the next due date is past the horizon already
            beyond_on = raw.due_on
    else:
        days, beyond_on = [], None
    due = most_likely_due(
        raw, estimate, start_on=start_on, start_km=start_km, interval_km=next_km, interval_months=next_months,
        season=season,
    )
    shift = 0
    habit: tuple[VisitError, ...] = ()
    if with_habit and past_maintenance:
        habit = habit_errors(readings=known, sales=past_sales, maintenance=past_maintenance, interval=interval,
                             prior_km_per_month=prior_km_per_month, stored=stored_errors, seasonality=seasonality)
        errors = [e.error_days for e in habit if e.error_days is not None]
        if errors:
            shift = habit_shift_days(errors)
            due = adjust_for_habit(due, errors, today=today, shift=shift)
    due_dates, drivers = _upcoming_days(due.due_on, days, shift)
    odometer_today = _odometer_today(estimate, start_on, start_km, today, season)
    if estimate.last_odometer_km is None or estimate.last_reading_on is None:
        base_on, base_km = start_on, start_km
    else:
        base_on, base_km = estimate.last_reading_on, estimate.last_odometer_km
    valid_until = _valid_until(next_fact_on, due, raw, beyond_on, today=today, projection_months=projection_months)
    return Forecast(
        estimate, due, max(0, odometer_today), is_first, shift, start_on, start_km, next_km, next_months, base_on,
        base_km, valid_until, due_dates, drivers,
        (estimate, interval, done, first_km, first_months, today, projection_months,
         *(() if season is None else (season,))) if projection_months > 0 else (),
        habit,
    )


def _upcoming_days(
    first_on: date, days: list[tuple[date, Driver]], shift: int
) -> tuple[tuple[date, ...], tuple[Driver, ...]]:
    """The plan's due days and drivers: the first day is ``first_on`` (the habit's), each later one is
    moved by the habit's shift once more per step (each visit starts from one that came ``shift`` off)."""
    if not days:
        return (), ()
    ons, drivers = zip(*days, strict=True)
    if shift:
        step = timedelta(days=shift)
        return (first_on, *[day + step * (k + 1) for k, day in enumerate(ons[1:], start=1)]), drivers
    return (first_on, *ons[1:]), drivers


def _sold_on(sale: SaleLike) -> date:
    return sale.sold_on


def _valid_until(
    next_fact_on: date, due: MaintenanceDue, raw_due: MaintenanceDue, beyond_on: date | None, *, today: date,
    projection_months: int,
) -> date:
    """The first day after ``today`` on which these facts may forecast differently (``next_fact_on``: the
    first day a fact dated after today comes into view, ``next_fact_day``)."""
    later = [next_fact_on]
    if due.due_on >= today:
        later.append(due.due_on + _ONE_DAY)  # overdue from then on
    if raw_due.due_on >= today:
        later.append(raw_due.due_on + _ONE_DAY)
    if beyond_on is not None:  # the projection's horizon reaches one more due date
        later.append(first_day_when_months_reach(beyond_on, projection_months, after=today))
    return min(later, default=date.max)


def _odometer_today(estimate: MileageEstimate, start_on: date, start_km: int, today: date, season: Season | None) -> int:
    if estimate.last_odometer_km is None:  # no usable reading: count from the start
        days = (today - start_on).days if season is None else season.driven(start_on.toordinal(), today.toordinal())
        return start_km + round_km(estimate.km_per_month * days / MONTH_DAYS)
    return estimate.odometer_on(today, season)


def _with_fact_readings(
    readings: Sequence[Reading], sales: Sequence[SaleLike], maintenance: Sequence[tuple[date, int]]
) -> list[Reading]:
    """The readings plus the sales' and maintenance visits' odometers not already among them."""
    known = list(readings)
    extra = [(day, km) for day, km in maintenance]
    for s in sales:
        if s.kind == "new" or s.odometer_km > 0:  # a used car's sale at 0 km means "not recorded", not a reading
            extra.append((s.sold_on, s.odometer_km))
    if not extra:
        return known
    days = {day for day, _km in extra}
    seen = {(r.read_on, r.odometer_km) for r in known if r.read_on in days}
    for key in extra:
        if key not in seen:
            seen.add(key)
            known.append(Reading(*key))
    return known


def next_fact_day(
    readings: Sequence[Reading], sales: Sequence[SaleLike], maintenance: Sequence[tuple[date, int]], *, today: date
) -> date:
    """The first day after ``today`` on which one of these facts comes into view (``date.max``: none)."""
    later = [r.read_on for r in readings if r.read_on > today]
    later.extend(s.sold_on for s in sales if s.sold_on > today)
    later.extend(day for day, _km in maintenance if day > today)
    return min(later, default=date.max)


@dataclass(frozen=True, slots=True)
class SkippedVisit:
    visited_on: date
    reason: Literal["nothing_before", "date_out_of_range", "after_today"]


def replay_maintenance(
    *,
    readings: Sequence[Reading],
    sales: Sequence[SaleLike],
    maintenance: Sequence[tuple[date, int]],
    interval: Interval,
    prior_km_per_month: float | None,
    with_habit: bool = True,
    skipped: list[SkippedVisit] | None = None,
    today: date | None = None,
    seasonality: Profile | None = None,
) -> list[tuple[date, int, Forecast]]:
    """Each maintenance visit as ``forecast_vehicle`` would have predicted it the day before it came.

    For a visit on day D: the facts dated before D only, and "today" the day before D (the nightly
    re-plan's last run before the visit). The customer's habit is replayed too: each visit's forecast
    knows the errors of the visits before it. A visit with no sale and no visit before it, or one the
    calendar cannot hold (a date near year 9999), or one after ``today`` (when given), is left out and
    listed in ``skipped`` with why.
    """
    visits = sorted(maintenance)
    results: list[tuple[date, int, Forecast]] = []
    errors: list[int] = []
    for index, (visited_on, visited_km) in enumerate(visits):
        if today is not None and visited_on > today:
            if skipped is not None:
                skipped.append(SkippedVisit(visited_on, "after_today"))
            continue
        before = [v for v in visits[:index] if v[0] < visited_on]
        try:
            day_before = visited_on - timedelta(days=1)
            forecast = _replayed(readings, sales, before, visited_on, interval, prior_km_per_month, seasonality)
        except (OverflowError, ValueError):  # a due date past year 9999: no calendar to hold it
            if skipped is not None:
                skipped.append(SkippedVisit(visited_on, "date_out_of_range"))
            continue
        if forecast is None:
            if skipped is not None:
                skipped.append(SkippedVisit(visited_on, "nothing_before"))
            continue
        raw_error = (visited_on - forecast.due.due_on).days
        if with_habit and errors:
            due = adjust_for_habit(forecast.due, errors, today=day_before)
            forecast = replace(forecast, due=due, habit_shift_days=habit_shift_days(errors))
        errors.append(raw_error)
        results.append((visited_on, visited_km, forecast))
    return results


def _replayed(
    readings: Sequence[Reading], sales: Sequence[SaleLike], before: Sequence[tuple[date, int]], visited_on: date,
    interval: Interval, prior_km_per_month: float | None, seasonality: Profile | None = None,
) -> Forecast | None:
    """``forecast_vehicle`` as the re-plan ran it the day before ``visited_on``: the facts dated before it."""
    return forecast_vehicle(
        readings=[r for r in readings if r.read_on < visited_on],
        sales=[s for s in sales if s.sold_on < visited_on],
        maintenance=before,
        interval=interval,
        prior_km_per_month=prior_km_per_month,
        today=visited_on - timedelta(days=1),
        projection_months=0,  # the next due date is all a replay needs
        with_habit=False,
        seasonality=seasonality,
    )


#: Bump when a visit's replayed error is computed differently from the same facts: every stored
#: error's stamp then differs and the error is recomputed.
HABIT_STAMP_VERSION = 1


@dataclass(frozen=True, slots=True)
class VisitError:
    """How far a maintenance visit fell from the day the forecast predicted the day before it."""

    visited_on: date
    odometer_km: int
    stamp: int  # a digest of every fact the error is computed from (``habit_stamps``)
    error_days: int | None  # actual minus predicted day; None: the visit could not be replayed


StoredErrors = Mapping[tuple[date, int], tuple[int, int | None]]  # (day, km) -> (stamp, error days)


def habit_stamps(
    *, readings: Sequence[Reading], sales: Sequence[SaleLike], maintenance: Sequence[tuple[date, int]],
    interval: Interval, prior_km_per_month: float | None, seasonality: Profile | None = None,
) -> list[int]:
    """For each visit of ``maintenance`` (sorted), a 64-bit digest of what its replayed error depends
    on: the readings, sales and visits dated before it, the interval, the prior and the seasonal
    profile (only when it is not flat: a flat one changes nothing, and no stored error).

    Chained (each visit's digest includes the one before it), so all of them cost one pass. Only ints
    and floats are hashed, whose hash() is the same in every process (unlike str's or None's); a Python
    whose tuple hash differs would only recompute every error once."""
    prior = -1.0 if prior_km_per_month is None else float(prior_km_per_month)
    stamp = hash((HABIT_STAMP_VERSION, prior, interval.km, interval.months, interval.first_km or 0,
                  interval.first_months or 0))
    season = season_for(seasonality)
    if season is not None:
        stamp = hash((stamp, season.profile))
    read = [(r.read_on.toordinal(), r.odometer_km) for r in readings]
    read.sort()
    sold = [(s.sold_on.toordinal(), int(s.kind == "new"), s.odometer_km) for s in sales]
    sold.sort()
    came = [(day.toordinal(), km) for day, km in maintenance]
    stamps = []
    r0 = s0 = v0 = 0
    for o, _km in came:
        r1, s1, v1 = bisect_left(read, (o,), r0), bisect_left(sold, (o,), s0), bisect_left(came, (o,), v0)
        stamp = hash((stamp, tuple(read[r0:r1]), tuple(sold[s0:s1]), tuple(came[v0:v1])))
        r0, s0, v0 = r1, s1, v1
        stamps.append(stamp)
    return stamps


def habit_errors(
    *, readings: Sequence[Reading], sales: Sequence[SaleLike], maintenance: Sequence[tuple[date, int]],
    interval: Interval, prior_km_per_month: float | None, stored: StoredErrors | None = None,
    seasonality: Profile | None = None,
) -> tuple[VisitError, ...]:
    """Each maintenance visit's error as ``replay_maintenance`` replays it (``readings`` holding the
    sales' and visits' odometers already), reusing a stored error whose stamp still matches: a visit's
    error changes only when a fact dated before it, the interval or the prior does, so the nightly
    re-plan replays only visits that are new or whose past changed."""
    visits = sorted(maintenance)
    stamps = habit_stamps(readings=readings, sales=sales, maintenance=visits, interval=interval,
                          prior_km_per_month=prior_km_per_month, seasonality=seasonality)
    result = []
    for index, ((visited_on, visited_km), stamp) in enumerate(zip(visits, stamps, strict=True)):
        kept = stored.get((visited_on, visited_km)) if stored else None
        if kept is not None and kept[0] == stamp:
            result.append(VisitError(visited_on, visited_km, stamp, kept[1]))
            continue
        before = [v for v in visits[:index] if v[0] < visited_on]
        try:
            replayed = _replayed(readings, sales, before, visited_on, interval, prior_km_per_month, seasonality)
        except (OverflowError, ValueError):  # a due date past year 9999
            replayed = None
        error = None if replayed is None else (visited_on - replayed.due.due_on).days
        result.append(VisitError(visited_on, visited_km, stamp, error))
    return tuple(result)
