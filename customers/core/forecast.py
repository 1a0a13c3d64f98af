"""Maintenance due dates from a mileage estimate (pure, stdlib only).

The next due date is the earlier of the time limit and the day the odometer reaches the km limit;
the projection chains them; the customer's habit widens the interval. docs/forecast.md describes
the rules in plain words.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

from customers.core.calendar import MONTH_DAYS, add_months, advance_months
from customers.core.mileage import MileageEstimate, round_km

__all__ = [
    "BEHAVIOUR_MARGIN_DAYS",
    "HABIT_MAX_SHIFT_DAYS",
    "MAX_PROJECTED",
    "Driver",
    "MaintenanceDue",
    "adjust_for_habit",
    "maintenance_intervals",
    "next_maintenance_due",
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


HABIT_MAX_SHIFT_DAYS = 60


def adjust_for_habit(due: MaintenanceDue, past_errors: Sequence[int], *, today: date) -> MaintenanceDue:
    """Widen a predicted interval towards this customer's own habit.

    ``past_errors``: for each earlier maintenance visit of the vehicle, actual minus predicted day (as
    the backtest replays them). A customer who came 40 days late before may do so again, so the
    interval's end moves out to cover that; one who came early, its start. The point itself stays:
    shifting it by past errors made the backtest's median error worse (12 → 15 days), because an
    earlier prediction's error is partly the rate estimate's, not the customer's.
    """
    if not past_errors:
        return due
    early = timedelta(days=max(-HABIT_MAX_SHIFT_DAYS, min(0, min(past_errors))))
    late = timedelta(days=min(HABIT_MAX_SHIFT_DAYS, max(0, max(past_errors))))
    return replace(
        due,
        earliest_on=min(due.earliest_on, due.due_on + early),
        latest_on=max(due.latest_on, due.due_on + late),
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
    """The next maintenance due date (see the module docstring)."""
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
    """Successive due dates up to ``until`` (see the module docstring)."""
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
