"""The backtest: replay each maintenance visit from the data known before it, beside naive baselines.

Pure, stdlib only. docs/forecast.md describes what is replayed and what the figures mean.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from customers.core.calendar import MONTH_DAYS, add_months, advance_months
from customers.core.forecast import (
    BEHAVIOUR_MARGIN_DAYS,
    MaintenanceDue,
    adjust_for_habit,
    maintenance_intervals,
    next_maintenance_due,
)
from customers.core.mileage import Reading, estimate_mileage

__all__ = [
    "BacktestMetrics",
    "BacktestResult",
    "MaintenanceVisit",
    "VehicleHistory",
    "backtest",
    "baseline_last_two_readings",
    "baseline_previous_plus_interval",
    "habit_errors",
]


def baseline_previous_plus_interval(last_maintenance_on: date, interval_months: int) -> date:
    """Naive baseline: the last maintenance plus the time interval."""
    return add_months(last_maintenance_on, interval_months)


def baseline_last_two_readings(
    readings: Sequence[Reading],
    *,
    last_maintenance_on: date,
    last_maintenance_km: int,
    interval_km: int,
    interval_months: int,
) -> date:
    """Naive baseline: rate from the two latest readings only, no cleaning."""
    time_due = add_months(last_maintenance_on, interval_months)
    ordered = sorted(readings, key=lambda r: (r.read_on, r.odometer_km))
    if len(ordered) < 2:
        return time_due
    a, b = ordered[-2], ordered[-1]
    days = (b.read_on - a.read_on).days
    if days <= 0 or b.odometer_km <= a.odometer_km:
        return time_due
    rate = (b.odometer_km - a.odometer_km) * MONTH_DAYS / days
    target = last_maintenance_km + interval_km
    m_anchor = 0.0
    anchor_km = last_maintenance_km
    if b.read_on > last_maintenance_on:
        m_anchor = (b.read_on - last_maintenance_on).days / MONTH_DAYS
        anchor_km = b.odometer_km
    m_km = m_anchor + max(0, target - anchor_km) / rate
    if m_km >= interval_months:
        return time_due
    return advance_months(last_maintenance_on, m_km)


@dataclass(frozen=True, slots=True)
class MaintenanceVisit:
    visited_on: date
    odometer_km: int


@dataclass(frozen=True, slots=True)
class VehicleHistory:
    readings: tuple[Reading, ...]
    maintenances: tuple[MaintenanceVisit, ...]
    interval_km: int
    interval_months: int
    sold_on: date | None = None
    sale_km: int = 0
    first_interval_km: int | None = None
    first_interval_months: int | None = None
    prior_km_per_month: float | None = None


@dataclass(frozen=True, slots=True)
class BacktestMetrics:
    visits: int
    within_14_days: float | None
    within_30_days: float | None
    median_abs_error_days: float | None
    inside_interval: float | None

    def to_dict(self) -> dict[str, object]:
        return {
            "visits": self.visits,
            "within_14_days": self.within_14_days,
            "within_30_days": self.within_30_days,
            "median_abs_error_days": self.median_abs_error_days,
            "inside_interval": self.inside_interval,
        }


@dataclass(frozen=True, slots=True)
class BacktestResult:
    model: BacktestMetrics
    previous_plus_interval: BacktestMetrics
    last_two_readings: BacktestMetrics
    # Median width of the predicted interval, earliest to latest, in days: how useful the interval is.
    median_interval_days: float | None = None

    def to_dict(self) -> dict[str, object]:
        out = self.model.to_dict()
        out["median_interval_days"] = self.median_interval_days
        out["baselines"] = {
            "previous_plus_interval": self.previous_plus_interval.to_dict(),
            "last_two_readings": self.last_two_readings.to_dict(),
        }
        return out


def _metrics(errors: list[int], inside: list[bool] | None) -> BacktestMetrics:
    n = len(errors)
    if n == 0:
        return BacktestMetrics(0, None, None, None, None)
    abs_err = [abs(e) for e in errors]
    return BacktestMetrics(
        n,
        round(sum(1 for e in abs_err if e <= 14) / n, 4),
        round(sum(1 for e in abs_err if e <= 30) / n, 4),
        round(float(statistics.median(abs_err)), 2),
        None if inside is None else round(sum(inside) / n, 4),
    )


@dataclass(frozen=True, slots=True)
class _Replayed:
    visited_on: date
    due: MaintenanceDue
    known: list[Reading]
    anchor_on: date
    anchor_km: int
    done: int


def _replay(h: VehicleHistory, margin_days: int) -> Iterable[_Replayed]:
    """Each maintenance visit with history before it, predicted from the data known before it only."""
    visits = sorted(h.maintenances, key=lambda v: (v.visited_on, v.odometer_km))
    for visit in visits:
        cutoff = visit.visited_on
        before = [v for v in visits if v.visited_on < cutoff]
        if before:
            anchor_on, anchor_km = before[-1].visited_on, before[-1].odometer_km
        elif h.sold_on is not None and h.sold_on < cutoff:
            anchor_on, anchor_km = h.sold_on, h.sale_km
        else:
            continue
        known = [r for r in h.readings if r.read_on < cutoff]
        if not known:
            continue
        seen = {(r.read_on, r.odometer_km) for r in known}
        extra = [(v.visited_on, v.odometer_km) for v in before]
        if h.sold_on is not None and h.sold_on < cutoff:
            extra.append((h.sold_on, h.sale_km))
        for on, km in sorted(extra):
            if (on, km) not in seen:
                seen.add((on, km))
                known.append(Reading(on, km))
        today = max(r.read_on for r in known)
        estimate = estimate_mileage(known, today=today, prior_km_per_month=h.prior_km_per_month)
        due = next_maintenance_due(
            estimate=estimate,
            last_maintenance_on=anchor_on,
            last_maintenance_km=anchor_km,
            interval_km=h.interval_km,
            interval_months=h.interval_months,
            today=today,
            maintenances_done=len(before),
            first_interval_km=h.first_interval_km,
            first_interval_months=h.first_interval_months,
            margin_days=margin_days,
        )
        yield _Replayed(cutoff, due, known, anchor_on, anchor_km, len(before))


def habit_errors(h: VehicleHistory, *, margin_days: int = BEHAVIOUR_MARGIN_DAYS) -> list[int]:
    """Actual minus predicted day of each past maintenance visit: the customer's habit."""
    return [(r.visited_on - r.due.due_on).days for r in _replay(h, margin_days)]


def backtest(
    histories: Iterable[VehicleHistory], *, margin_days: int = BEHAVIOUR_MARGIN_DAYS
) -> BacktestResult:
    """Replay every predictable maintenance visit (see the module docstring)."""
    model_err: list[int] = []
    inside: list[bool] = []
    widths: list[int] = []
    prev_err: list[int] = []
    two_err: list[int] = []
    for h in histories:
        past_errors: list[int] = []  # this vehicle's earlier (actual - predicted): its habit
        for r in _replay(h, margin_days):
            cutoff = r.visited_on
            due = adjust_for_habit(r.due, past_errors, today=max(x.read_on for x in r.known))
            past_errors.append((cutoff - r.due.due_on).days)
            ikm, imon = maintenance_intervals(
                r.done, h.interval_km, h.interval_months, h.first_interval_km, h.first_interval_months
            )
            model_err.append((due.due_on - cutoff).days)
            inside.append(due.earliest_on <= cutoff <= due.latest_on)
            widths.append((due.latest_on - due.earliest_on).days)
            prev_err.append((baseline_previous_plus_interval(r.anchor_on, imon) - cutoff).days)
            two = baseline_last_two_readings(
                r.known,
                last_maintenance_on=r.anchor_on,
                last_maintenance_km=r.anchor_km,
                interval_km=ikm,
                interval_months=imon,
            )
            two_err.append((two - cutoff).days)
    result = BacktestResult(
        _metrics(model_err, inside),
        _metrics(prev_err, None),
        _metrics(two_err, None),
    )
    return replace(result, median_interval_days=float(statistics.median(widths)) if widths else None)
