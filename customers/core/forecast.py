"""Maintenance due dates from a mileage estimate (pure, stdlib only).

The next due date is the earlier of the time limit and the day the odometer reaches the km limit;
the projection chains them; the customer's habit widens the interval. docs/forecast.md describes
the rules in plain words.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal, Protocol

from customers.core.calendar import MONTH_DAYS, add_months, advance_months
from customers.core.mileage import MileageEstimate, Reading, estimate_mileage, round_km

__all__ = [
    "BEHAVIOUR_MARGIN_DAYS",
    "HABIT_MAX_SHIFT_DAYS",
    "MAX_PROJECTED",
    "PROJECTION_MONTHS",
    "Driver",
    "Forecast",
    "Interval",
    "Sale",
    "SaleLike",
    "SkippedVisit",
    "MaintenanceDue",
    "adjust_for_habit",
    "forecast_vehicle",
    "habit_shift_days",
    "maintenance_intervals",
    "next_maintenance_due",
    "project_maintenance_due_dates",
    "replay_maintenance",
]

Driver = Literal["km", "time"]

BEHAVIOUR_MARGIN_DAYS = 14  # "a couple of weeks"; calibrate with backtest(margin_days=...)
MAX_PROJECTED = 1000

_ONE_DAY = timedelta(days=1)
_DEFAULT_MARGIN = timedelta(days=BEHAVIOUR_MARGIN_DAYS)


@dataclass(frozen=True, slots=True)
class MaintenanceDue:
    due_on: date
    driver: Driver
    due_odometer_km: int
    interval_number: int
    earliest_on: date
    latest_on: date
    is_overdue: bool


HABIT_MAX_SHIFT_DAYS = 60
#: The habit moves the point date only when this many of the latest visits were off the same way.
HABIT_CONSISTENT_VISITS = 3
#: A habit smaller than this is within the forecast's own error: the point stays.
HABIT_MIN_SHIFT_DAYS = 10
#: The habit is read from this many latest visits (older ones describe an older habit).
HABIT_RECENT_VISITS = 5
#: Past visits widen the interval by at most this many days beyond the rate's own range.
HABIT_MAX_WIDENING_DAYS = 45


def habit_shift_days(past_errors: Sequence[int]) -> int:
    """How many days this customer comes after (+) or before (-) the predicted day, when consistent.

    ``past_errors``: actual minus predicted day of the vehicle's earlier maintenance visits, oldest
    first. The shift is the median of the latest ``HABIT_RECENT_VISITS`` when the latest
    ``HABIT_CONSISTENT_VISITS`` were all late or all early; else 0 (one late visit is not a habit,
    and part of an earlier error is the rate estimate's, not the customer's).
    """
    latest = list(past_errors[-HABIT_CONSISTENT_VISITS:])
    if len(latest) < HABIT_CONSISTENT_VISITS:
        return 0
    if not (all(e > 0 for e in latest) or all(e < 0 for e in latest)):
        return 0
    shift = round(statistics.median(past_errors[-HABIT_RECENT_VISITS:]))
    if abs(shift) < HABIT_MIN_SHIFT_DAYS:
        return 0
    return max(-HABIT_MAX_SHIFT_DAYS, min(HABIT_MAX_SHIFT_DAYS, shift))


def adjust_for_habit(due: MaintenanceDue, past_errors: Sequence[int], *, today: date) -> MaintenanceDue:
    """Move a predicted due date by the customer's consistent habit and widen its interval honestly.

    The point moves by ``habit_shift_days`` (0 unless the latest visits were consistently off one
    way). The interval is the rate's range moved with the point, widened to cover how far the latest
    visits fell from the shifted point, by at most ``HABIT_MAX_WIDENING_DAYS``: it follows the
    customer's recent behaviour and does not grow with every past error.
    """
    if not past_errors:
        return due
    shift = habit_shift_days(past_errors)
    residuals = [e - shift for e in past_errors[-HABIT_RECENT_VISITS:]]
    early = max(-HABIT_MAX_WIDENING_DAYS, min(0, min(residuals)))
    late = min(HABIT_MAX_WIDENING_DAYS, max(0, max(residuals)))
    moved = timedelta(days=shift)
    due_on = due.due_on + moved
    return replace(
        due,
        due_on=due_on,
        earliest_on=min(due.earliest_on + moved, due_on + timedelta(days=early)),
        latest_on=max(due.latest_on + moved, due_on + timedelta(days=late)),
        is_overdue=due_on < today,
    )


def maintenance_intervals(
    maintenances_done: int,
    interval_km: int,
    interval_months: int,
    first_interval_km: int | None,
    first_interval_months: int | None,
) -> tuple[int, int]:
    """The (km, months) interval of the next maintenance: the first one's own, when given, else the regular."""
    if maintenances_done < 0:
        raise ValueError("maintenances_done must be >= 0")
    ikm, imon = interval_km, interval_months
    if maintenances_done == 0:
        if first_interval_km is not None:
            ikm = first_interval_km
        if first_interval_months is not None:
            imon = first_interval_months
    if ikm <= 0 or imon <= 0:
        raise ValueError("maintenance intervals must be positive")
    return ikm, imon


def next_maintenance_due(
    *,
    estimate: MileageEstimate,
    last_maintenance_on: date,
    last_maintenance_km: int,
    interval_km: int,
    interval_months: int,
    today: date,
    maintenances_done: int = 0,
    first_interval_km: int | None = None,
    first_interval_months: int | None = None,
    margin_days: int = BEHAVIOUR_MARGIN_DAYS,
) -> MaintenanceDue:
    """The next maintenance due date (docs/forecast.md)."""
    if margin_days < 0:
        raise ValueError("margin_days must be >= 0")
    margin = _DEFAULT_MARGIN if margin_days == BEHAVIOUR_MARGIN_DAYS else _ONE_DAY * margin_days
    ikm, imon = maintenance_intervals(
        maintenances_done, interval_km, interval_months, first_interval_km, first_interval_months
    )
    target = last_maintenance_km + ikm
    m_o = last_maintenance_on.toordinal()

    # Walk the known odometer path (months since the last maintenance).
    last_m = 0.0
    last_km = last_maintenance_km
    crossing: float | None = None
    time_km: float | None = None
    fimon = float(imon)
    used = estimate.used_readings
    if used:
        # Kept readings are monotone: walk them only if the last one is past a limit.
        tail = used[-1]
        tail_o = tail.read_on.toordinal()
        if tail_o > m_o and tail.odometer_km < target and (tail_o - m_o) / MONTH_DAYS < fimon:
            last_m = (tail_o - m_o) / MONTH_DAYS
            last_km = tail.odometer_km
            used = ()
    for r in used:
        o = r.read_on.toordinal()
        if o <= m_o:
            continue
        m = (o - m_o) / MONTH_DAYS
        km = r.odometer_km
        if crossing is None and km >= target > last_km:
            crossing = last_m + (target - last_km) / (km - last_km) * (m - last_m)
        if time_km is None and m >= fimon:
            time_km = last_km + (km - last_km) * (fimon - last_m) / (m - last_m)
        last_m, last_km = m, km

    rate = estimate.km_per_month
    if crossing is not None:
        m_km = m_hi = m_lo = crossing
    else:
        remaining = target - last_km
        m_km = last_m + remaining / rate if rate > 0.0 else math.inf
        high = estimate.high_km_per_month
        low = estimate.low_km_per_month
        m_hi = last_m + remaining / high if high > 0.0 else math.inf
        m_lo = last_m + remaining / low if low > 0.0 else math.inf

    if m_km < fimon:
        driver: Driver = "km"
        due_on = advance_months(last_maintenance_on, m_km)
        due_km = target
    else:
        driver = "time"
        due_on = add_months(last_maintenance_on, imon)
        if time_km is None:
            time_km = last_km + rate * (fimon - last_m)
        due_km = min(round_km(time_km), target)
    earliest = advance_months(last_maintenance_on, m_hi) if m_hi < fimon else due_on
    if m_lo == m_km:
        latest = due_on
    elif m_lo < fimon:
        latest = advance_months(last_maintenance_on, m_lo)
    else:
        latest = add_months(last_maintenance_on, imon)
    return MaintenanceDue(
        due_on,
        driver,
        due_km,
        maintenances_done + 1,
        min(earliest, due_on) - margin,
        max(latest, due_on) + margin,
        due_on < today,
    )


def project_maintenance_due_dates(
    *,
    estimate: MileageEstimate,
    start_on: date,
    start_km: int,
    interval_km: int,
    interval_months: int,
    until: date,
    today: date,
    maintenances_done: int = 0,
    first_interval_km: int | None = None,
    first_interval_months: int | None = None,
    margin_days: int = BEHAVIOUR_MARGIN_DAYS,
) -> list[MaintenanceDue]:
    """Successive due dates up to ``until`` (docs/forecast.md)."""
    margin = _DEFAULT_MARGIN if margin_days == BEHAVIOUR_MARGIN_DAYS else _ONE_DAY * margin_days
    est_hi = replace(
        estimate,
        km_per_month=estimate.high_km_per_month,
        low_km_per_month=estimate.high_km_per_month,
    )
    est_lo = replace(
        estimate,
        km_per_month=estimate.low_km_per_month,
        high_km_per_month=estimate.low_km_per_month,
    )
    chains = [(estimate, start_on, start_km), (est_hi, start_on, start_km), (est_lo, start_on, start_km)]
    results: list[MaintenanceDue] = []
    done = maintenances_done
    while len(results) < MAX_PROJECTED:
        dues = [
            next_maintenance_due(
                estimate=est,
                last_maintenance_on=on,
                last_maintenance_km=km,
                interval_km=interval_km,
                interval_months=interval_months,
                today=today,
                maintenances_done=done,
                first_interval_km=first_interval_km,
                first_interval_months=first_interval_months,
                margin_days=margin_days,
            )
            for est, on, km in chains
        ]
        due, due_hi, due_lo = dues
        if due.due_on > until:
            break
        if results:
            due = replace(
                due,
                earliest_on=min(due_hi.due_on, due.due_on) - margin,
                latest_on=max(due_lo.due_on, due.due_on) + margin,
            )
        results.append(due)
        chains = [(est, d.due_on, d.due_odometer_km) for (est, _, _), d in zip(chains, dues, strict=True)]
        done += 1
    return results


# --------------------------------------------------------------------------- one vehicle, as production runs it

#: The plan needs due dates up to the end of the current cycle (at most 36 months after today) or,
#: after the cycle, 12 months ahead; one more month covers the reminders' windows.
PROJECTION_MONTHS = 37


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
    upcoming: tuple[MaintenanceDue, ...]  # the due dates ahead, the first being ``due``
    odometer_today_km: int
    is_first_after_sale: bool  # the next maintenance is the first after a new-car sale
    habit_shift_days: int
    start_on: date  # the latest maintenance, else the latest sale
    start_km: int
    interval_km: int  # the interval of the next maintenance (the first one's own after a new-car sale)
    interval_months: int


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
) -> Forecast | None:
    """One vehicle's forecast from its facts; None when no sale and no maintenance came before ``today``.

    The re-plan (customers.forecasting) and the backtest both call this, so the backtest replays what
    production computes. Facts dated after ``today`` are left out (readings are flagged "future").
    The sale's odometer (a new car's, or a used car's when known) and each maintenance visit's are
    readings too, unless a reading with that day and km is there already. The starting point is the
    latest maintenance, else the latest sale; when the estimator set the starting odometer aside (a
    typo at the visit), the estimate's odometer on that day is used instead. ``projection_months`` = 0
    gives the next due date only (``upcoming`` is empty).
    """
    past_maintenance = sorted((day, km) for day, km in maintenance if day <= today)
    past_sales = sorted((s for s in sales if s.sold_on <= today), key=lambda s: s.sold_on)
    cycle_sale = past_sales[-1] if past_sales else None
    if past_maintenance:
        start_on, start_km = past_maintenance[-1]
    elif cycle_sale is not None:
        start_on, start_km = cycle_sale.sold_on, cycle_sale.odometer_km
    else:
        return None
    known = _with_fact_readings(readings, past_sales, past_maintenance)
    estimate = estimate_mileage(known, today=today, prior_km_per_month=prior_km_per_month)
    if estimate.flagged and estimate.used_readings and any(
        f.reading.read_on == start_on and f.reading.odometer_km == start_km for f in estimate.flagged
    ):
        start_km = estimate.odometer_on(start_on)
    done = sum(1 for day, _km in past_maintenance if cycle_sale is None or day >= cycle_sale.sold_on)
    is_first = not past_maintenance and cycle_sale is not None and cycle_sale.kind == "new"
    first_km = interval.first_km if is_first else None
    first_months = interval.first_months if is_first else None
    upcoming = project_maintenance_due_dates(
        estimate=estimate,
        start_on=start_on,
        start_km=start_km,
        interval_km=interval.km,
        interval_months=interval.months,
        until=add_months(today, projection_months),
        today=today,
        maintenances_done=done,
        first_interval_km=first_km,
        first_interval_months=first_months,
    ) if projection_months > 0 else []
    due = (
        upcoming[0]
        if upcoming
        else next_maintenance_due(
            estimate=estimate,
            last_maintenance_on=start_on,
            last_maintenance_km=start_km,
            interval_km=interval.km,
            interval_months=interval.months,
            today=today,
            maintenances_done=done,
            first_interval_km=first_km,
            first_interval_months=first_months,
        )
    )
    next_km, next_months = maintenance_intervals(done, interval.km, interval.months, first_km, first_months)
    due = _most_likely_due(
        due, estimate, start_on=start_on, start_km=start_km, interval_km=next_km, interval_months=next_months
    )
    if upcoming:
        upcoming[0] = due
    shift = 0
    if with_habit and past_maintenance:
        errors = [
            (visited_on - replayed.due.due_on).days
            for visited_on, _km, replayed in replay_maintenance(
                readings=known, sales=past_sales, maintenance=past_maintenance, interval=interval,
                prior_km_per_month=prior_km_per_month, with_habit=False,
            )
        ]
        if errors:
            shift = habit_shift_days(errors)
            due = adjust_for_habit(due, errors, today=today)
            step = timedelta(days=shift)
            # Each later visit starts from a visit that came ``shift`` days off, so the shifts add up.
            upcoming = [due] + [
                replace(d, due_on=d.due_on + step * (k + 1), earliest_on=d.earliest_on + step * (k + 1),
                        latest_on=d.latest_on + step * (k + 1))
                for k, d in enumerate(upcoming[1:], start=1)
            ] if upcoming else []
    if estimate.last_odometer_km is None:  # no usable reading: count from the start
        odometer_today = start_km + round_km(estimate.km_per_month * (today - start_on).days / MONTH_DAYS)
    else:
        odometer_today = estimate.odometer_on(today)
    return Forecast(
        estimate, due, tuple(upcoming), max(0, odometer_today), is_first, shift, start_on, start_km, next_km, next_months
    )


#: The point date is chosen to catch the most visits within this many days (the ±14-day goal).
POINT_WINDOW_DAYS = 14
_SD_PER_90_HALF_WIDTH = 1.0 / 1.6448536269514722


def _most_likely_due(
    due: MaintenanceDue, estimate: MileageEstimate, *, start_on: date, start_km: int, interval_km: int,
    interval_months: int,
) -> MaintenanceDue:
    """The due day most likely to be within ``POINT_WINDOW_DAYS`` of the true one, given the rate's range.

    The true due day is the earlier of the time limit and the km limit, so when the rate is uncertain a
    share of cars (all that drive slower than the limit's pace) are due exactly on the time limit. A
    km-driven point a few weeks before the time limit then misses all of them; moving the point
    towards the time limit, in weekly steps, catches more. The rate is taken as normal with the
    estimate's 90 % range; with an exact rate nothing moves.
    """
    time_limit = add_months(start_on, interval_months)
    if due.driver != "km" or (time_limit - due.due_on).days > 8 * 7:
        return due
    mean = estimate.km_per_month
    sd = (estimate.high_km_per_month - estimate.low_km_per_month) * 0.5 * _SD_PER_90_HALF_WIDTH
    if sd <= 0.0 or mean <= 0.0:
        return due
    target = start_km + interval_km
    anchor_on, anchor_km = start_on, start_km
    for r in estimate.used_readings:
        if r.read_on > anchor_on and r.odometer_km < target:
            anchor_on, anchor_km = r.read_on, r.odometer_km
    remaining = target - anchor_km
    if remaining <= 0:
        return due

    def rate_due_on(day: date) -> float:  # the rate that makes the car due on ``day``
        days = (day - anchor_on).days
        return math.inf if days <= 0 else remaining * MONTH_DAYS / days

    def cdf(rate: float) -> float:
        if rate == math.inf:
            return 1.0
        return 0.5 * (1.0 + math.erf((rate - mean) / (sd * math.sqrt(2.0))))

    window = timedelta(days=POINT_WINDOW_DAYS)

    def chance(day: date) -> float:
        upper = cdf(rate_due_on(day - window))
        lower = 0.0 if day + window >= time_limit else cdf(rate_due_on(day + window))
        return upper - lower

    best, best_chance = due.due_on, chance(due.due_on)
    day = due.due_on + timedelta(days=7)
    while day <= time_limit:
        c = chance(day)
        if c > best_chance + 1e-9:
            best, best_chance = day, c
        day += timedelta(days=7)
    if chance(time_limit) > best_chance + 1e-9:
        best = time_limit
    if best == due.due_on:
        return due
    return replace(due, due_on=best, earliest_on=min(due.earliest_on, best), latest_on=max(due.latest_on, best))


def _with_fact_readings(
    readings: Sequence[Reading], sales: Sequence[SaleLike], maintenance: Sequence[tuple[date, int]]
) -> list[Reading]:
    """The readings plus the sales' and maintenance visits' odometers not already among them."""
    known = list(readings)
    seen = {(r.read_on, r.odometer_km) for r in known}
    extra = [(day, km) for day, km in maintenance]
    # A used car's sale at 0 km means "not recorded", not a reading.
    extra.extend((s.sold_on, s.odometer_km) for s in sales if s.kind == "new" or s.odometer_km > 0)
    for key in extra:
        if key not in seen:
            seen.add(key)
            known.append(Reading(*key))
    return known


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
            forecast = forecast_vehicle(
                readings=[r for r in readings if r.read_on < visited_on],
                sales=[s for s in sales if s.sold_on < visited_on],
                maintenance=before,
                interval=interval,
                prior_km_per_month=prior_km_per_month,
                today=day_before,
                projection_months=0,  # the next due date is all a replay needs
                with_habit=False,
            )
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
