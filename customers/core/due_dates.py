"""Maintenance due dates from a mileage estimate (pure, stdlib only).

The next due date is the earlier of the time limit and the day the odometer reaches the km limit;
the projection chains them; the point date is moved to where it catches the most visits.
docs/forecast.md describes the rules in plain words.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, replace
from datetime import date, timedelta
from operator import attrgetter
from typing import Literal

from customers.core.calendar import _WHOLE_EPS, MONTH_DAYS, add_months, advance_months, timedelta_days
from customers.core.mileage import MileageEstimate, round_km
from customers.core.readings import Reading
from customers.core.seasonality import Season

__all__ = [
    "BEHAVIOUR_MARGIN_DAYS",
    "MAX_PROJECTED",
    "POINT_WINDOW_DAYS",
    "Driver",
    "MaintenanceDue",
    "maintenance_intervals",
    "most_likely_due",
    "next_maintenance_due",
    "project_due_days",
    "project_maintenance_due_dates",
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
    season: Season | None = None,
) -> MaintenanceDue:
    """The next maintenance due date (docs/forecast.md); with a ``season``, the odometer runs on from
    the readings by its driving days (customers.core.seasonality)."""
    if margin_days < 0:
        raise ValueError("margin_days must be >= 0")
    margin = _DEFAULT_MARGIN if margin_days == BEHAVIOUR_MARGIN_DAYS else _ONE_DAY * margin_days
    ikm, imon = maintenance_intervals(
        maintenances_done, interval_km, interval_months, first_interval_km, first_interval_months
    )
    return _next_due(
        estimate.km_per_month, estimate.high_km_per_month, estimate.low_km_per_month, estimate.used_readings,
        last_maintenance_on, last_maintenance_km, ikm, imon, maintenances_done, today, margin, season,
    )


def _next_due(
    rate: float, high: float, low: float, used: tuple[Reading, ...], on: date, km: int, ikm: int, imon: int,
    done: int, today: date, margin: timedelta, season: Season | None = None,
) -> MaintenanceDue:
    """``next_maintenance_due`` at these rates, from (``on``, ``km``), for the interval (``ikm``, ``imon``)."""
    target = km + ikm
    fimon = float(imon)
    last_m, last_km, crossing, time_km = _walk_readings(used, on.toordinal(), km, target, fimon)
    if season is None:
        m_km, m_hi, m_lo = _months_to_target(rate, high, low, last_m, last_km, target, crossing)
    else:
        anchor = on.toordinal() + last_m * MONTH_DAYS
        if crossing is not None:
            m_km = m_hi = m_lo = crossing
        else:
            remaining = target - last_km
            m_km = _seasonal_months(rate, remaining, last_m, anchor, fimon, season)
            m_hi = _seasonal_months(high, remaining, last_m, anchor, fimon, season)
            m_lo = _seasonal_months(low, remaining, last_m, anchor, fimon, season)

    if m_km < fimon:
        driver: Driver = "km"
        due_on = advance_months(on, m_km)
        due_km = target
    else:
        driver = "time"
        due_on = add_months(on, imon)
        if time_km is None:
            time_km = last_km + rate * _driving_months(season, on.toordinal() + last_m * MONTH_DAYS, fimon - last_m)
        due_km = min(round_km(time_km), target)
    earliest = advance_months(on, m_hi) if m_hi < fimon else due_on
    if m_lo == m_km:
        latest = due_on
    elif m_lo < fimon:
        latest = advance_months(on, m_lo)
    else:
        latest = add_months(on, imon)
    return MaintenanceDue(
        due_on, driver, due_km, done + 1, min(earliest, due_on) - margin, max(latest, due_on) + margin, due_on < today
    )


def _next_step(
    rate: float, used: tuple[Reading, ...], last_read_o: int, on: date, km: int, ikm: int, imon: int,
    season: Season | None = None,
) -> tuple[date, int, Driver]:
    """The due day, odometer and driver of ``_next_due`` at one rate, without the range: along the
    readings after ``on`` when there are any, else from the rate alone."""
    target = km + ikm
    fimon = float(imon)
    if season is not None:
        return _next_step_seasonal(rate, used, last_read_o, on, km, ikm, imon, season)
    if on.toordinal() >= last_read_o:  # no kept reading after ``on``: the rate alone decides
        if rate > 0.0:
            m_km = ikm / rate
            if m_km < fimon:
                return advance_months(on, m_km), target, "km"
        return add_months(on, imon), min(round_km(km + rate * fimon), target), "time"
    last_m, last_km, crossing, time_km = _walk_readings(used, on.toordinal(), km, target, fimon)
    if crossing is not None:
        m_km = crossing
    else:
        m_km = last_m + (target - last_km) / rate if rate > 0.0 else math.inf
    if m_km < fimon:
        return advance_months(on, m_km), target, "km"
    if time_km is None:
        time_km = last_km + rate * (fimon - last_m)
    return add_months(on, imon), min(round_km(time_km), target), "time"


def _next_step_seasonal(
    rate: float, used: tuple[Reading, ...], last_read_o: int, on: date, km: int, ikm: int, imon: int, season: Season
) -> tuple[date, int, Driver]:
    """``_next_step`` with the odometer running by the season's driving days after the readings."""
    target = km + ikm
    fimon = float(imon)
    on_o = on.toordinal()
    if on_o >= last_read_o:  # no kept reading after ``on``: the rate alone decides, by the day it reaches
        if rate > 0.0 and ikm / rate < fimon * season.fastest:
            end = season.reach(on_o, ikm / rate * MONTH_DAYS)
            if (end - on_o) / MONTH_DAYS < fimon:
                return date.fromordinal(int(end)), target, "km"
        return add_months(on, imon), min(round_km(km + rate * season.months(on_o, fimon)), target), "time"
    last_m, last_km, crossing, time_km = _walk_readings(used, on_o, km, target, fimon)
    anchor = on_o + last_m * MONTH_DAYS
    m_km = crossing if crossing is not None else _seasonal_months(rate, target - last_km, last_m, anchor, fimon, season)
    if m_km < fimon:
        return advance_months(on, m_km), target, "km"
    if time_km is None:
        time_km = last_km + rate * season.months(anchor, fimon - last_m)
    return add_months(on, imon), min(round_km(time_km), target), "time"


def _seasonal_months(
    rate: float, remaining: int, last_m: float, anchor: float, fimon: float, season: Season
) -> float:
    """Months from the start to the km limit, ``remaining`` km after the point ``last_m`` months in
    (ordinal ``anchor``), at ``rate`` a driving month; inf when it is past the time limit ``fimon``."""
    if rate <= 0.0:
        return math.inf
    return last_m + season.real_months(anchor, remaining / rate, within=fimon - last_m)


def _driving_months(season: Season | None, anchor: float, months: float) -> float:
    return months if season is None else season.months(anchor, months)

_READ_ON = attrgetter("read_on")  # bisect's key, in C (a Python key function would cost a call per probe)


def _walk_readings(
    used: tuple[Reading, ...], m_o: int, last_maintenance_km: int, target: int, fimon: float
) -> tuple[float, int, float | None, float | None]:
    """Walk the known odometer path (months since the last maintenance, ordinal ``m_o``): the last
    point reached, and when the readings themselves crossed the km limit and where they were at the
    time limit (None when they did not get there)."""
    last_m = 0.0
    last_km = last_maintenance_km
    crossing: float | None = None
    time_km: float | None = None
    if used:
        # Kept readings are monotone: walk them only if the last one is past a limit.
        tail = used[-1]
        tail_o = tail.read_on.toordinal()
        if tail_o > m_o and tail.odometer_km < target and (tail_o - m_o) / MONTH_DAYS < fimon:
            last_m = (tail_o - m_o) / MONTH_DAYS
            last_km = tail.odometer_km
            used = ()
        elif tail_o <= m_o:
            used = ()
        elif used[0].read_on.toordinal() <= m_o:  # the readings up to the start are not walked
            used = used[bisect_right(used, date.fromordinal(m_o), key=_READ_ON):]
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
        if crossing is not None or time_km is not None:
            # Decided: by the km limit the readings crossed (when the time limit came, the crossing
            # came at or after it: time), or by time (any later reading is past the time limit, so
            # every month count from it is too). The rest of the walk would not change the due date.
            break
    return last_m, last_km, crossing, time_km


def _months_to_target(
    rate: float, high: float, low: float, last_m: float, last_km: int, target: int, crossing: float | None
) -> tuple[float, float, float]:
    """Months from the last maintenance to the km limit at the rate, the high rate and the low rate."""
    if crossing is not None:
        return crossing, crossing, crossing
    remaining = target - last_km
    m_km = last_m + remaining / rate if rate > 0.0 else math.inf
    m_hi = last_m + remaining / high if high > 0.0 else math.inf
    m_lo = last_m + remaining / low if low > 0.0 else math.inf
    return m_km, m_hi, m_lo


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
    beyond: list[MaintenanceDue] | None = None,
    season: Season | None = None,
) -> list[MaintenanceDue]:
    """Successive due dates up to ``until`` (docs/forecast.md); ``beyond``, when given, receives the
    first due date after ``until``."""
    margin = _DEFAULT_MARGIN if margin_days == BEHAVIOUR_MARGIN_DAYS else _ONE_DAY * margin_days
    rate, low, high = estimate.km_per_month, estimate.low_km_per_month, estimate.high_km_per_month
    used = estimate.used_readings
    last_read_o = used[-1].read_on.toordinal() if used else -1
    # Each chain (the rate, its high end, its low end) steps from its own last due date. A step that
    # starts on or after the last kept reading has no readings to walk: the due date is worked out from
    # the rate alone, exactly as ``next_maintenance_due`` would; the range is worked out only for the
    # first due date (each later one's is the high and low chains' due dates).
    rates = (rate, high, low)
    chains = [(rate, start_on, start_km), (high, start_on, start_km), (low, start_on, start_km)]
    results: list[MaintenanceDue] = []
    done = maintenances_done
    while len(results) < MAX_PROJECTED:
        ikm, imon = maintenance_intervals(done, interval_km, interval_months, first_interval_km, first_interval_months)
        first: MaintenanceDue | None = None
        if not results:
            first = _next_due(rate, high, low, used, start_on, start_km, ikm, imon, done, today, margin, season)
            due_on, due_km = first.due_on, first.due_odometer_km
            driver = first.driver
        else:
            due_on, due_km, driver = _next_step(rate, used, last_read_o, chains[0][1], chains[0][2], ikm, imon, season)
        if due_on > until:
            if beyond is not None:
                _, on, km = chains[0]
                beyond.append(first or _next_due(*rates, used, on, km, ikm, imon, done, today, margin, season))
            break
        hi_on, hi_km, _ = _next_step(high, used, last_read_o, chains[1][1], chains[1][2], ikm, imon, season)
        lo_on, lo_km, _ = _next_step(low, used, last_read_o, chains[2][1], chains[2][2], ikm, imon, season)
        if first is not None:
            due = first
        else:
            due = MaintenanceDue(
                due_on, driver, due_km, done + 1, min(hi_on, due_on) - margin, max(lo_on, due_on) + margin,
                due_on < today,
            )
        results.append(due)
        chains = [(rate, due_on, due_km), (high, hi_on, hi_km), (low, lo_on, lo_km)]
        done += 1
    return results


def project_due_days(
    *,
    estimate: MileageEstimate,
    first: MaintenanceDue,
    interval_km: int,
    interval_months: int,
    until: date,
    first_interval_km: int | None = None,
    first_interval_months: int | None = None,
    season: Season | None = None,
) -> tuple[list[tuple[date, Driver]], date | None]:
    """The days and drivers of ``project_maintenance_due_dates`` (same facts, ``first`` being its first
    due date, i.e. ``next_maintenance_due``'s), without their ranges, and the day of the first due date
    after ``until`` (None when ``first`` is after it). The plan reads only these: each step after the
    last kept reading is worked out from the rate alone, with no range chains beside it."""
    if first.due_on > until:
        return [], None
    used = estimate.used_readings
    last_read_o = used[-1].read_on.toordinal() if used else -1
    rate = estimate.km_per_month
    days: list[tuple[date, Driver]] = [(first.due_on, first.driver)]
    on, km, done = first.due_on, first.due_odometer_km, first.interval_number
    while len(days) < MAX_PROJECTED:
        ikm, imon = maintenance_intervals(done, interval_km, interval_months, first_interval_km, first_interval_months)
        if done >= 1 and on.toordinal() >= last_read_o and rate > 0.0:
            if season is None and ikm / rate < imon and ikm / rate > 1.0:
                return _km_driven_days(days, on, ikm / rate, until)
            if season is not None:
                return days, _seasonal_rate_days(days, on, ikm / rate, imon, until, season)
        on, km, driver = _next_step(rate, used, last_read_o, on, km, ikm, imon, season)
        if on > until:
            return days, on
        days.append((on, driver))
        done += 1
    return days, None


def _seasonal_rate_days(
    days: list[tuple[date, Driver]], on: date, months: float, imon: int, until: date, season: Season
) -> date | None:
    """``days`` continued from ``on`` by the rate alone, ``months`` driving months an interval, with no
    reading ahead (``_next_step_seasonal``'s first branch, unrolled: the same days); the first day
    after ``until`` (None: ``MAX_PROJECTED`` reached)."""
    fimon = float(imon)
    time_only = months >= fimon * season.fastest  # no step can be km-driven
    driving = months * MONTH_DAYS
    reach = season.reach
    driver: Driver
    while len(days) < MAX_PROJECTED:
        if time_only:
            on, driver = add_months(on, imon), "time"
        else:
            on_o = on.toordinal()
            end = reach(on_o, driving)
            on, driver = (date.fromordinal(int(end)), "km") if (end - on_o) / MONTH_DAYS < fimon else (
                add_months(on, imon), "time")
        if on > until:
            return on
        days.append((on, driver))
    return None


def _km_driven_days(
    days: list[tuple[date, Driver]], on: date, months: float, until: date
) -> tuple[list[tuple[date, Driver]], date | None]:
    """``days`` continued from ``on`` while every step is ``advance_months(on, months)`` (km-driven at the
    rate, with no reading ahead; 1 < months), unrolled: the same dates, for a fraction of the calls."""
    whole = int(months)
    frac = months - whole
    if frac >= 1.0 - _WHOLE_EPS:
        whole, extra = whole + 1, 0
    else:
        extra = 0 if frac <= _WHOLE_EPS else int(frac * MONTH_DAYS)
    plus = timedelta_days(extra)
    capped = extra >= 28  # consecutive whole-month dates are at least 28 days apart
    while len(days) < MAX_PROJECTED:
        base = add_months(on, whole)
        nxt = base + plus if extra else base
        if capped:
            cap = add_months(on, whole + 1)
            if nxt > cap:
                nxt = cap
        on = nxt
        if on > until:
            return days, on
        days.append((on, "km"))
    return days, None


#: The point date is chosen to catch the most visits within this many days (the ±14-day goal).
POINT_WINDOW_DAYS = 14

_SD_PER_90_HALF_WIDTH = 1.0 / 1.6448536269514722

_POINT_WINDOW = timedelta(days=POINT_WINDOW_DAYS)

_ONE_WEEK = timedelta(days=7)


def most_likely_due(
    due: MaintenanceDue, estimate: MileageEstimate, *, start_on: date, start_km: int, interval_km: int,
    interval_months: int, season: Season | None = None,
) -> MaintenanceDue:
    """The due day most likely to be within ``POINT_WINDOW_DAYS`` of the true one, given the rate's range.

    The true due day is the earlier of the time limit and the km limit, so when the rate is uncertain a
    share of cars (all that drive slower than the limit's pace) are due exactly on the time limit. A
    km-driven point a few weeks before the time limit then misses all of them; moving the point
    towards the time limit, in weekly steps, catches more. The rate is taken as normal with the
    estimate's 90 % range; with an exact rate nothing moves.
    """
    if due.driver != "km":
        return due
    time_limit = add_months(start_on, interval_months)
    if (time_limit - due.due_on).days > 8 * 7:
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

    anchor_o = anchor_on.toordinal()

    def rate_due_on(day: date) -> float:  # the rate that makes the car due on ``day``
        days = (day - anchor_on).days
        if days > 0 and season is not None:
            return remaining * MONTH_DAYS / season.driven(anchor_o, day.toordinal())
        return math.inf if days <= 0 else remaining * MONTH_DAYS / days

    def cdf(rate: float) -> float:
        if rate == math.inf:
            return 1.0
        return 0.5 * (1.0 + math.erf((rate - mean) / (sd * math.sqrt(2.0))))

    window = _POINT_WINDOW

    def chance(day: date) -> float:
        upper = cdf(rate_due_on(day - window))
        lower = 0.0 if day + window >= time_limit else cdf(rate_due_on(day + window))
        return upper - lower

    best, best_chance = due.due_on, chance(due.due_on)
    day = due.due_on + _ONE_WEEK
    while day <= time_limit:
        c = chance(day)
        if c > best_chance + 1e-9:
            best, best_chance = day, c
        day += _ONE_WEEK
    if chance(time_limit) > best_chance + 1e-9:
        best = time_limit
    if best == due.due_on:
        return due
    return replace(due, due_on=best, earliest_on=min(due.earliest_on, best), latest_on=max(due.latest_on, best))
