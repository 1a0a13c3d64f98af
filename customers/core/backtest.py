"""The backtest: replay each maintenance visit as production would have predicted it, beside naive rules.

Pure, stdlib only. The replay is ``customers.core.forecast.replay_maintenance``, which calls the same
``forecast_vehicle`` the re-plan calls. docs/forecast.md describes what is replayed and what the
figures mean.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from customers.core.calendar import MONTH_DAYS, add_months, advance_months
from customers.core.forecast import Interval, Sale, SkippedVisit, replay_maintenance
from customers.core.readings import Reading
from customers.core.seasonality import Profile

__all__ = [
    "INVITATION_DAYS_AFTER",
    "INVITATION_DAYS_BEFORE",
    "BacktestMetrics",
    "BacktestResult",
    "MaintenanceVisit",
    "VehicleHistory",
    "VisitPrediction",
    "backtest",
    "baseline_first_to_last_average",
    "baseline_last_two_readings",
    "baseline_previous_plus_interval",
    "predict_visits",
]

#: The service invitation goes out 21 days before the predicted day and its window closes 7 days
#: after it: a visit inside [predicted - 21, predicted + 7] is one the call was timed for.
INVITATION_DAYS_BEFORE = 21
INVITATION_DAYS_AFTER = 7


# --------------------------------------------------------------------------- baselines


def baseline_previous_plus_interval(last_maintenance_on: date, interval_months: int) -> date:
    """Naive baseline: the last maintenance plus the time interval."""
    return add_months(last_maintenance_on, interval_months)


def _due_at_rate(
    rate: float | None,
    latest: Reading | None,
    *,
    last_maintenance_on: date,
    last_maintenance_km: int,
    interval_km: int,
    interval_months: int,
) -> date:
    """The km-or-time rule at a fixed rate, counted on from ``latest`` when it is after the maintenance."""
    time_due = add_months(last_maintenance_on, interval_months)
    if rate is None or rate <= 0.0 or latest is None:
        return time_due
    target = last_maintenance_km + interval_km
    m_anchor = 0.0
    anchor_km = last_maintenance_km
    if latest.read_on > last_maintenance_on:
        m_anchor = (latest.read_on - last_maintenance_on).days / MONTH_DAYS
        anchor_km = latest.odometer_km
    m_km = m_anchor + max(0, target - anchor_km) / rate
    if m_km >= interval_months:
        return time_due
    return advance_months(last_maintenance_on, m_km)


def _rate_between(a: Reading, b: Reading) -> float | None:
    days = (b.read_on - a.read_on).days
    if days <= 0 or b.odometer_km <= a.odometer_km:
        return None
    return (b.odometer_km - a.odometer_km) * MONTH_DAYS / days


def baseline_last_two_readings(
    readings: Sequence[Reading],
    *,
    last_maintenance_on: date,
    last_maintenance_km: int,
    interval_km: int,
    interval_months: int,
) -> date:
    """Naive baseline: rate from the two latest readings only, no cleaning."""
    ordered = sorted(readings, key=lambda r: (r.read_on, r.odometer_km))
    rate = _rate_between(ordered[-2], ordered[-1]) if len(ordered) >= 2 else None
    return _due_at_rate(
        rate,
        ordered[-1] if ordered else None,
        last_maintenance_on=last_maintenance_on,
        last_maintenance_km=last_maintenance_km,
        interval_km=interval_km,
        interval_months=interval_months,
    )


def baseline_first_to_last_average(
    readings: Sequence[Reading],
    *,
    last_maintenance_on: date,
    last_maintenance_km: int,
    interval_km: int,
    interval_months: int,
) -> date:
    """Naive baseline: the average rate from the first to the latest reading, no cleaning."""
    ordered = sorted(readings, key=lambda r: (r.read_on, r.odometer_km))
    rate = _rate_between(ordered[0], ordered[-1]) if len(ordered) >= 2 else None
    return _due_at_rate(
        rate,
        ordered[-1] if ordered else None,
        last_maintenance_on=last_maintenance_on,
        last_maintenance_km=last_maintenance_km,
        interval_km=interval_km,
        interval_months=interval_months,
    )


# --------------------------------------------------------------------------- histories and predictions


@dataclass(frozen=True, slots=True)
class MaintenanceVisit:
    visited_on: date
    odometer_km: int


@dataclass(frozen=True, slots=True)
class VehicleHistory:
    """One vehicle's facts. ``sales`` (every sale, any kind) wins over ``sold_on``/``sale_km``/``sale_kind``,
    which describe a single sale; ``prior_km_per_month`` is the prior production uses for the vehicle and
    ``seasonality`` its dealership's monthly driving profile (customers.core.seasonality; None: flat)."""

    readings: tuple[Reading, ...]
    maintenances: tuple[MaintenanceVisit, ...]
    interval_km: int
    interval_months: int
    sold_on: date | None = None
    sale_km: int = 0
    first_interval_km: int | None = None
    first_interval_months: int | None = None
    prior_km_per_month: float | None = None
    sale_kind: str = "new"
    sales: tuple[Sale, ...] = ()
    seasonality: Profile | None = None

    def all_sales(self) -> tuple[Sale, ...]:
        if self.sales:
            return self.sales
        if self.sold_on is None:
            return ()
        return (Sale(self.sold_on, self.sale_kind, self.sale_km),)


@dataclass(frozen=True, slots=True)
class VisitPrediction:
    """One replayed visit: the forecast's and the baselines' predicted days."""

    visited_on: date
    is_first_after_sale: bool  # no maintenance before it since the vehicle's latest sale
    predicted_on: date
    earliest_on: date
    latest_on: date
    previous_plus_interval_on: date
    last_two_readings_on: date
    first_to_last_average_on: date


def predict_visits(
    history: VehicleHistory, *, skipped: list[SkippedVisit] | None = None, today: date | None = None
) -> list[VisitPrediction]:
    """Every maintenance visit of ``history`` replayed (see ``replay_maintenance``), with the baselines."""
    sales = history.all_sales()
    interval = Interval(
        history.interval_km, history.interval_months, history.first_interval_km, history.first_interval_months
    )
    maintenance = [(v.visited_on, v.odometer_km) for v in history.maintenances]
    result = []
    for visited_on, _km, forecast in replay_maintenance(
        readings=history.readings,
        sales=sales,
        maintenance=maintenance,
        interval=interval,
        prior_km_per_month=history.prior_km_per_month,
        skipped=skipped,
        today=today,
        seasonality=history.seasonality,
    ):
        known = [*forecast.estimate.used_readings, *(f.reading for f in forecast.estimate.flagged)]
        known = [r for r in known if r.read_on < visited_on]
        rule = {
            "last_maintenance_on": forecast.start_on,
            "last_maintenance_km": forecast.start_km,
            "interval_km": forecast.interval_km,
            "interval_months": forecast.interval_months,
        }
        latest_sale = max((s.sold_on for s in sales if s.sold_on < visited_on), default=None)
        is_first = latest_sale is not None and not any(latest_sale <= day < visited_on for day, _ in maintenance)
        due = forecast.due
        result.append(
            VisitPrediction(
                visited_on=visited_on,
                is_first_after_sale=is_first,
                predicted_on=due.due_on,
                earliest_on=due.earliest_on,
                latest_on=due.latest_on,
                previous_plus_interval_on=baseline_previous_plus_interval(forecast.start_on, forecast.interval_months),
                last_two_readings_on=baseline_last_two_readings(known, **rule),  # type: ignore[arg-type]
                first_to_last_average_on=baseline_first_to_last_average(known, **rule),  # type: ignore[arg-type]
            )
        )
    return result


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True, slots=True)
class BacktestMetrics:
    """Errors are predicted minus actual days; ``mean_bias_days`` > 0: the prediction is late on average."""

    visits: int
    within_14_days: float | None
    within_30_days: float | None
    median_abs_error_days: float | None
    inside_interval: float | None
    invitation_window: float | None = None  # share of visits in [predicted - 21, predicted + 7]
    p90_abs_error_days: float | None = None
    mean_bias_days: float | None = None
    median_interval_days: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "visits": self.visits,
            "invitation_window": self.invitation_window,
            "within_14_days": self.within_14_days,
            "within_30_days": self.within_30_days,
            "median_abs_error_days": self.median_abs_error_days,
            "p90_abs_error_days": self.p90_abs_error_days,
            "mean_bias_days": self.mean_bias_days,
            "inside_interval": self.inside_interval,
            "median_interval_days": self.median_interval_days,
        }


def _share(flags: Iterable[bool], n: int) -> float:
    return round(sum(flags) / n, 4)


def _metrics(errors: Sequence[int], intervals: Sequence[tuple[bool, int]] | None) -> BacktestMetrics:
    n = len(errors)
    if n == 0:
        return BacktestMetrics(0, None, None, None, None)
    abs_err = sorted(abs(e) for e in errors)
    return BacktestMetrics(
        visits=n,
        within_14_days=_share((e <= 14 for e in abs_err), n),
        within_30_days=_share((e <= 30 for e in abs_err), n),
        median_abs_error_days=round(float(statistics.median(abs_err)), 2),
        inside_interval=None if intervals is None else _share((inside for inside, _ in intervals), n),
        # predicted - 21 <= actual <= predicted + 7, i.e. -7 <= predicted - actual <= 21
        invitation_window=_share((-INVITATION_DAYS_AFTER <= e <= INVITATION_DAYS_BEFORE for e in errors), n),
        p90_abs_error_days=float(abs_err[min(n - 1, math.ceil(0.9 * n) - 1)]),
        mean_bias_days=round(sum(errors) / n, 2),
        median_interval_days=None if intervals is None else float(statistics.median(w for _, w in intervals)),
    )


BASELINES = ("previous_plus_interval", "last_two_readings", "first_to_last_average")


@dataclass(frozen=True, slots=True)
class BacktestResult:
    model: BacktestMetrics
    previous_plus_interval: BacktestMetrics
    last_two_readings: BacktestMetrics
    # Median width of the predicted interval, earliest to latest, in days: how useful the interval is.
    median_interval_days: float | None = None
    first_to_last_average: BacktestMetrics = field(default_factory=lambda: BacktestMetrics(0, None, None, None, None))
    # The same figures for first visits after a sale and for later visits: {"first_visits": {...}, ...}
    by_visit: dict[str, dict[str, BacktestMetrics]] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)  # visits not replayed, by reason

    def to_dict(self) -> dict[str, object]:
        out = self.model.to_dict()
        out["median_interval_days"] = self.median_interval_days
        out["baselines"] = {
            "previous_plus_interval": self.previous_plus_interval.to_dict(),
            "last_two_readings": self.last_two_readings.to_dict(),
            "first_to_last_average": self.first_to_last_average.to_dict(),
        }
        for part, figures in self.by_visit.items():
            out[part] = {
                "forecast": figures["forecast"].to_dict(),
                "baselines": {name: figures[name].to_dict() for name in BASELINES},
            }
        out["skipped"] = dict(sorted(self.skipped.items()))
        return out


def _figures(predictions: Sequence[VisitPrediction]) -> dict[str, BacktestMetrics]:
    def errors(attribute: str) -> list[int]:
        return [(getattr(p, attribute) - p.visited_on).days for p in predictions]

    intervals = [(p.earliest_on <= p.visited_on <= p.latest_on, (p.latest_on - p.earliest_on).days) for p in predictions]
    return {
        "forecast": _metrics(errors("predicted_on"), intervals),
        "previous_plus_interval": _metrics(errors("previous_plus_interval_on"), None),
        "last_two_readings": _metrics(errors("last_two_readings_on"), None),
        "first_to_last_average": _metrics(errors("first_to_last_average_on"), None),
    }


def backtest(histories: Iterable[VehicleHistory], *, today: date | None = None) -> BacktestResult:
    """Replay every predictable maintenance visit of every history; count the ones left out by reason.
    Visits after ``today`` (when given) have not happened: they are counted, not replayed."""
    predictions: list[VisitPrediction] = []
    skipped: list[SkippedVisit] = []
    for history in histories:
        predictions.extend(predict_visits(history, skipped=skipped, today=today))
    overall = _figures(predictions)
    by_visit = {
        "first_visits": _figures([p for p in predictions if p.is_first_after_sale]),
        "later_visits": _figures([p for p in predictions if not p.is_first_after_sale]),
    }
    return BacktestResult(
        model=overall["forecast"],
        previous_plus_interval=overall["previous_plus_interval"],
        last_two_readings=overall["last_two_readings"],
        median_interval_days=overall["forecast"].median_interval_days,
        first_to_last_average=overall["first_to_last_average"],
        by_visit=by_visit,
        skipped=dict(Counter(s.reason for s in skipped)),
    )
