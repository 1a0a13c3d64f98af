"""Mileage estimation and maintenance due-date prediction (pure core, stdlib only).

Nothing here imports Django or reads the clock: ``today`` is always an argument.
All inputs and outputs are frozen dataclasses; everything is order-invariant.

Public API
==========

Units: km, dates (``datetime.date``), rates in km per month with
``1 month = MONTH_DAYS = 30.4375`` days.

``add_months(day, months) -> date``
    Calendar-month arithmetic with day clamping (2024-01-31 + 1 = 2024-02-29);
    ``months`` may be negative.

``Reading(read_on, odometer_km, reading_id=None)``
    One odometer reading. A reading at sale (0 km for a new car) is a real reading:
    pass it in.

``FlaggedReading(reading, reason)``
    A reading left out of the estimate. ``reason`` is one of ``"negative"``
    (odometer < 0), ``"future"`` (read after ``today``), ``"duplicate"`` (another
    reading on the same day was kept), ``"rollback"`` (lower than an earlier kept
    reading) or ``"implausible_jump"`` (faster than ``MAX_PLAUSIBLE_KM_PER_MONTH``
    plus ``PLAUSIBLE_SLACK_KM`` from/to its kept neighbours, e.g. a digit typo).

``estimate_mileage(readings, *, today, prior_km_per_month=None) -> MileageEstimate``
    Never raises on bad readings (only on a negative / non-finite prior);
    ``today`` only decides which readings are "future". Every input reading ends
    up in exactly one of ``used_readings`` / ``flagged``.
    Cleaning: the kept readings are the longest chain (one per day, dates strictly
    increasing, km non-decreasing, plausible rate between consecutive kept readings);
    ties between equally long chains go to the chain closest to a robust
    (Theil-Sen) trend line (for 4+ readings), then to the chain with the earlier
    readings. So one typo flags only itself, never the good readings after it, and
    of two readings on the same day the one nearer the trend is kept. Clean input
    takes an O(n) fast path; the chain search (O(n^2)) runs only on conflicts.
    Rate: segment rates between consecutive kept readings, weighted by segment
    length x ``0.5 ** (age / HALF_LIFE_DAYS)`` (age measured from the newest data,
    so the estimate does not drift with the clock). The prior
    (``prior_km_per_month``; ``None`` -> ``DEFAULT_PRIOR_KM_PER_MONTH`` = 1,250) is
    a pseudo-segment of ``PRIOR_STRENGTH_DAYS`` = 20 days placed at the first
    reading, decaying like the data: it dominates under ~30 days of history and
    fades as readings accumulate (about 40 % at 30 days, 17 % at 90 days, 4 % at one
    year). A reading on the current trend line leaves the rate unchanged; one above
    it raises the rate.
    Interval (``low_km_per_month`` .. ``high_km_per_month``): a 90 % interval for
    the average rate over the next ``RATE_HORIZON_MONTHS`` = 6 months, from the
    length-weighted spread of segment rates (shrunk towards a 15 %-per-sqrt-month
    volatility while segments are few), the uncertainty of the weighted mean, and
    the prior's width (50 % of the prior) in proportion to ``prior_weight``.
    Always ``0 <= low <= km_per_month <= high``.

``MileageEstimate`` fields: ``km_per_month``, ``low_km_per_month``,
    ``high_km_per_month``, ``last_reading_on: date | None``,
    ``last_odometer_km: int | None`` (``None`` when no usable reading),
    ``used_readings`` (tuple of kept ``Reading``, by date), ``flagged`` (tuple of
    ``FlaggedReading``, by date/km), ``prior_weight`` (0..1), ``source``
    (``"prior"``: no usable segment; ``"readings"``: prior_weight < 0.1;
    else ``"blend"``).
    ``odometer_on(day) -> int``: last kept reading + rate x elapsed months after it,
    linear interpolation between kept readings, extrapolation (floored at 0) before
    the first. Raises ``ValueError`` when there is no usable reading.
    ``MileageEstimate.from_rate(km_per_month, *, low_km_per_month=None,
    high_km_per_month=None)``: an estimate with no readings (tests, fixed rates).

``next_maintenance_due(*, estimate, last_maintenance_on, last_maintenance_km,
        interval_km, interval_months, today, maintenances_done=0,
        first_interval_km=None, first_interval_months=None,
        margin_days=BEHAVIOUR_MARGIN_DAYS) -> MaintenanceDue``
    With no maintenance yet, pass the sale date/km as the last maintenance and
    ``maintenances_done=0``; the first interval then uses ``first_interval_*``
    (default: the regular interval). Due date = earlier of
    ``add_months(last_maintenance_on, months)`` ("time") and the day the odometer
    reaches ``last_maintenance_km + km`` ("km"; ties go to "time").
    Odometer path: from the last maintenance through the kept readings dated after
    it, then ``rate`` km/month. Elapsed time is counted in months since the last
    maintenance (days / 30.4375 up to the last reading, then remaining km / rate);
    a month count ``m`` becomes a date as ``add_months(whole months)`` when ``m``
    is whole (within 1e-9), else whole months by ``add_months`` plus
    ``floor(fraction x 30.4375)`` days, never past the next whole month's date.
    Example: sold 2024-01-15 at 0 km, 15,000 km / 12 months, 2,000 km/month ->
    7.5 months -> 2024-08-30 by "km"; at 1,000 km/month -> 2025-01-15 by "time".
    ``MaintenanceDue``: ``due_on``, ``driver`` ("km" | "time"), ``due_odometer_km``
    (the km limit, or the estimated odometer on a time-driven due day),
    ``interval_number`` (``maintenances_done + 1``), ``earliest_on`` /
    ``latest_on`` (due date at the high / low rate, capped by the time limit,
    -/+ ``margin_days``, default ``BEHAVIOUR_MARGIN_DAYS`` = 14: customers come a
    couple of weeks early or late), ``is_overdue`` (``due_on < today``; an overdue
    date is reported as is, never moved). Always ``earliest_on <= due_on <= latest_on``.
    The tests use ``MileageEstimate.from_rate`` for exact dates; with readings the
    rate is whatever ``estimate_mileage`` gives.
    Raises ``ValueError`` for non-positive intervals, negative ``maintenances_done``
    or negative ``margin_days``.

``project_maintenance_due_dates(*, estimate, start_on, start_km, interval_km,
        interval_months, until, today, maintenances_done=0, first_interval_km=None,
        first_interval_months=None, margin_days=BEHAVIOUR_MARGIN_DAYS)
        -> list[MaintenanceDue]``
    Successive due dates with ``due_on <= until``, assuming each visit happens on
    its predicted day at its predicted km. The first element equals
    ``next_maintenance_due``; later intervals widen by chaining the low / high
    rates. At most ``MAX_PROJECTED`` results. Reference: sold 2025-01-15 at 0 km,
    1,500 km/month, 15,000 km / 12 months -> 2025-11-15, 2026-09-15, 2027-07-15,
    2028-05-15, all by "km".

``adjust_for_habit(due, past_errors, *, today) -> MaintenanceDue``
    Widens a due date's interval towards the customer's own habit: ``past_errors`` are
    actual minus predicted days of the vehicle's earlier maintenance visits
    (``habit_errors(history)`` replays them as the backtest does). The point date stays.

Baselines (for the backtest)
    ``baseline_previous_plus_interval(last_maintenance_on, interval_months) -> date``
    ``baseline_last_two_readings(readings, *, last_maintenance_on,
    last_maintenance_km, interval_km, interval_months) -> date``: rate from the
    two latest readings only (no cleaning), then the same km/time rule; falls back
    to the time limit when that rate is unusable.

``backtest(histories: Iterable[VehicleHistory], *, margin_days=BEHAVIOUR_MARGIN_DAYS)
        -> BacktestResult``
    ``VehicleHistory(readings, maintenances: tuple[MaintenanceVisit, ...],
    interval_km, interval_months, sold_on=None, sale_km=0, first_interval_km=None,
    first_interval_months=None, prior_km_per_month=None)``;
    ``MaintenanceVisit(visited_on, odometer_km)``.
    Every visit with an anchor before it (an earlier visit, else the sale) and at
    least one entry of ``readings`` dated strictly before it is predicted from data
    strictly before the visit day only: those readings plus the sale and earlier
    visits as readings (unless a reading with the same day and km exists).
    ``today`` = the day of the latest such data point (the prediction as it would
    have been made right after the last information known). ``BacktestResult.to_dict()``
    gives ``visits``, ``within_14_days``, ``within_30_days`` (shares 0..1, 4
    decimals), ``median_abs_error_days``, ``inside_interval`` (share of visits in
    ``earliest_on..latest_on``) and ``baselines`` (``"previous_plus_interval"``,
    ``"last_two_readings"`` -> the same keys, ``inside_interval`` null). Shares
    and the median are null when there are no visits. Use ``margin_days`` to
    calibrate the behavioural margin on real data (goal: ``inside_interval`` >= 0.9
    with the narrowest margin). ``BacktestResult`` has ``model``,
    ``previous_plus_interval`` and ``last_two_readings`` (each a ``BacktestMetrics``
    with the same fields as the JSON keys).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

__all__ = [
    "BEHAVIOUR_MARGIN_DAYS",
    "DEFAULT_PRIOR_KM_PER_MONTH",
    "HALF_LIFE_DAYS",
    "MAX_PLAUSIBLE_KM_PER_MONTH",
    "MAX_PROJECTED",
    "MONTH_DAYS",
    "PLAUSIBLE_SLACK_KM",
    "PRIOR_STRENGTH_DAYS",
    "RATE_HORIZON_MONTHS",
    "BacktestMetrics",
    "BacktestResult",
    "Driver",
    "FlaggedReading",
    "FlagReason",
    "MaintenanceDue",
    "MaintenanceVisit",
    "MileageEstimate",
    "Reading",
    "Source",
    "VehicleHistory",
    "add_months",
    "adjust_for_habit",
    "habit_errors",
    "backtest",
    "baseline_last_two_readings",
    "baseline_previous_plus_interval",
    "estimate_mileage",
    "next_maintenance_due",
    "project_maintenance_due_dates",
]

FlagReason = Literal["negative", "future", "duplicate", "rollback", "implausible_jump"]
Source = Literal["readings", "prior", "blend"]
Driver = Literal["km", "time"]

MONTH_DAYS = 30.4375
DEFAULT_PRIOR_KM_PER_MONTH = 1250.0
MAX_PLAUSIBLE_KM_PER_MONTH = 15000.0
PLAUSIBLE_SLACK_KM = 1500  # one long day's drive on top of the rate limit
HALF_LIFE_DAYS = 365.25
PRIOR_STRENGTH_DAYS = 20.0
RATE_HORIZON_MONTHS = 6.0
BEHAVIOUR_MARGIN_DAYS = 14  # "a couple of weeks"; calibrate with backtest(margin_days=...)
MAX_PROJECTED = 1000

_Z90 = 1.6448536269514722  # two-sided 90 %
_PRIOR_REL_SD = 0.5  # between-vehicle spread of the prior
_DEFAULT_VOLATILITY = 0.15  # month-to-month CV used while segments are few
_VOLATILITY_PSEUDO_SEGMENTS = 2.0
_MIN_SD_KM = 50.0
_READINGS_SOURCE_BELOW = 0.1
_WHOLE_EPS = 1e-9
_MAX_RATE_PER_DAY = MAX_PLAUSIBLE_KM_PER_MONTH / MONTH_DAYS
_DECAY_PER_DAY = math.log(2.0) / HALF_LIFE_DAYS
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_ONE_DAY = timedelta(days=1)
_DEFAULT_MARGIN = timedelta(days=BEHAVIOUR_MARGIN_DAYS)


# --------------------------------------------------------------------------- dates


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, the day clamped to the month's end."""
    m0 = day.month - 1 + months
    year = day.year + m0 // 12
    month = m0 % 12 + 1
    dom = day.day
    if dom > 28:
        last = _DAYS_IN_MONTH[month]
        if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
            last = 29
        if dom > last:
            dom = last
    return date(year, month, dom)


def _advance(anchor: date, months: float) -> date:
    """``anchor`` + a (fractional) number of months, see the module docstring."""
    if months <= _WHOLE_EPS:
        return anchor
    whole = int(months)
    frac = months - whole
    if frac <= _WHOLE_EPS:
        return add_months(anchor, whole)
    if frac >= 1.0 - _WHOLE_EPS:
        return add_months(anchor, whole + 1)
    base = add_months(anchor, whole)
    days = int(frac * MONTH_DAYS)
    result = base + timedelta(days=days)
    if days >= 28:  # consecutive whole-month dates are at least 28 days apart
        cap = add_months(anchor, whole + 1)
        if result > cap:
            return cap
    return result


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class Reading:
    read_on: date
    odometer_km: int
    reading_id: int | None = None


@dataclass(frozen=True, slots=True)
class FlaggedReading:
    reading: Reading
    reason: FlagReason


@dataclass(frozen=True, slots=True)
class MileageEstimate:
    km_per_month: float
    low_km_per_month: float
    high_km_per_month: float
    last_reading_on: date | None
    last_odometer_km: int | None
    used_readings: tuple[Reading, ...]
    flagged: tuple[FlaggedReading, ...]
    prior_weight: float
    source: Source

    @classmethod
    def from_rate(
        cls,
        km_per_month: float,
        *,
        low_km_per_month: float | None = None,
        high_km_per_month: float | None = None,
    ) -> MileageEstimate:
        """An estimate with a fixed rate and no readings (source "prior")."""
        low = km_per_month if low_km_per_month is None else low_km_per_month
        high = km_per_month if high_km_per_month is None else high_km_per_month
        if not 0.0 <= low <= km_per_month <= high or not math.isfinite(high):
            raise ValueError("need finite 0 <= low <= km_per_month <= high")
        return cls(float(km_per_month), float(low), float(high), None, None, (), (), 1.0, "prior")

    def odometer_on(self, day: date) -> int:
        """Estimated odometer on ``day`` (see the module docstring)."""
        used = self.used_readings
        if not used:
            raise ValueError("no usable reading to anchor the odometer")
        o = day.toordinal()
        last = used[-1]
        last_o = last.read_on.toordinal()
        if o >= last_o:
            return _round(last.odometer_km + self.km_per_month * (o - last_o) / MONTH_DAYS)
        first = used[0]
        first_o = first.read_on.toordinal()
        if o <= first_o:
            km = first.odometer_km - self.km_per_month * (first_o - o) / MONTH_DAYS
            return max(0, _round(km))
        prev = first
        prev_o = first_o
        for r in used[1:]:
            ro = r.read_on.toordinal()
            if o <= ro:
                share = (o - prev_o) / (ro - prev_o)
                return _round(prev.odometer_km + share * (r.odometer_km - prev.odometer_km))
            prev, prev_o = r, ro
        return last.odometer_km  # pragma: no cover - unreachable


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


def _round(x: float) -> int:
    return math.floor(x + 0.5)


# --------------------------------------------------------------------------- estimator


def _check_prior(prior_km_per_month: float | None) -> float:
    if prior_km_per_month is None:
        return DEFAULT_PRIOR_KM_PER_MONTH
    prior = float(prior_km_per_month)
    if not math.isfinite(prior) or prior < 0.0:
        raise ValueError(f"prior_km_per_month must be finite and >= 0, got {prior_km_per_month!r}")
    return prior


def _plausible(d_days: int, d_km: int) -> bool:
    return d_days > 0 and 0 <= d_km <= _MAX_RATE_PER_DAY * d_days + PLAUSIBLE_SLACK_KM


def _trend_costs(os: list[int], ks: list[int]) -> list[float]:
    """Absolute residuals from a Theil-Sen line (zeros for fewer than 4 readings)."""
    n = len(os)
    if n < 4:
        return [0.0] * n
    slopes: list[float] = []
    if n <= 60:
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    else:  # bounded cost for long histories: pairs half the sample apart
        half = n // 2
        pairs = [(i, i + half) for i in range(n - half)]
    for i, j in pairs:
        if os[j] > os[i]:
            slopes.append((ks[j] - ks[i]) / (os[j] - os[i]))
    if not slopes:
        return [0.0] * n
    slope = statistics.median(slopes)
    base = os[0]
    intercept = statistics.median([k - slope * (o - base) for o, k in zip(os, ks, strict=True)])
    return [abs(k - intercept - slope * (o - base)) for o, k in zip(os, ks, strict=True)]


def _best_chain(os: list[int], ks: list[int]) -> list[int]:
    """Indices of the longest plausible chain (ties: trend cost, then earlier readings)."""
    n = len(os)
    costs = _trend_costs(os, ks)
    length = [1] * n
    cost = costs[:]
    nxt = [-1] * n
    for i in range(n - 2, -1, -1):
        oi, ki = os[i], ks[i]
        best_len, best_cost, best_next = 1, costs[i], -1
        for j in range(i + 1, n):
            if _plausible(os[j] - oi, ks[j] - ki):
                cand_len = length[j] + 1
                cand_cost = costs[i] + cost[j]
                if cand_len > best_len or (cand_len == best_len and cand_cost < best_cost - 1e-9):
                    best_len, best_cost, best_next = cand_len, cand_cost, j
        length[i], cost[i], nxt[i] = best_len, best_cost, best_next
    start = 0
    for i in range(1, n):
        if length[i] > length[start] or (length[i] == length[start] and cost[i] < cost[start] - 1e-9):
            start = i
    chain = []
    i = start
    while i != -1:
        chain.append(i)
        i = nxt[i]
    return chain


def _reason(o: int, km: int, kept_os: list[int], kept_ks: list[int]) -> FlagReason:
    pred_km: int | None = None
    for ko, kk in zip(kept_os, kept_ks, strict=True):
        if ko == o:
            return "duplicate"
        if ko > o:
            break
        pred_km = kk
    if pred_km is not None and km < pred_km:
        return "rollback"
    return "implausible_jump"


def estimate_mileage(
    readings: Iterable[Reading],
    *,
    today: date,
    prior_km_per_month: float | None = None,
) -> MileageEstimate:
    """Estimate average km per month (see the module docstring)."""
    prior = _check_prior(prior_km_per_month)
    seq = readings if isinstance(readings, (list, tuple)) else list(readings)
    t_today = today.toordinal()

    # Fast path: sorted by (day, km), every reading usable and plausible after the previous.
    keyed = sorted([(r.read_on.toordinal(), r.odometer_km, i) for i, r in enumerate(seq)])
    clean = bool(keyed) and keyed[0][1] >= 0 and keyed[-1][0] <= t_today
    if clean:
        prev_o, prev_k, _ = keyed[0]
        for j in range(1, len(keyed)):
            o, km, _ = keyed[j]
            d = o - prev_o
            dk = km - prev_k
            if d <= 0 or dk < 0 or dk > _MAX_RATE_PER_DAY * d + PLAUSIBLE_SLACK_KM:
                clean = False
                break
            prev_o, prev_k = o, km
    if clean:
        os = [t[0] for t in keyed]
        ks = [t[1] for t in keyed]
        used = tuple([seq[t[2]] for t in keyed])
        flags: tuple[FlaggedReading, ...] = ()
    else:
        os, ks, used, flags = _clean(seq, t_today)
    return _fit(os, ks, used, flags, prior)


def _clean(
    seq: Sequence[Reading], t_today: int
) -> tuple[list[int], list[int], tuple[Reading, ...], tuple[FlaggedReading, ...]]:
    """The slow path: flag bad readings and keep the best plausible chain."""
    # Deterministic total order on content (order-invariant); the index only breaks exact ties.
    keyed = sorted(
        [
            (r.read_on.toordinal(), r.odometer_km, r.reading_id is not None, r.reading_id or 0, i)
            for i, r in enumerate(seq)
        ]
    )
    flagged: list[tuple[int, FlaggedReading]] = []  # (position in content order, flag)
    os: list[int] = []
    ks: list[int] = []
    rs: list[Reading] = []
    ps: list[int] = []
    for pos, (o, km, _, _, i) in enumerate(keyed):
        r = seq[i]
        if km < 0:
            flagged.append((pos, FlaggedReading(r, "negative")))
        elif o > t_today:
            flagged.append((pos, FlaggedReading(r, "future")))
        else:
            os.append(o)
            ks.append(km)
            rs.append(r)
            ps.append(pos)
    if os:
        chain = _best_chain(os, ks)
        kept_os = [os[i] for i in chain]
        kept_ks = [ks[i] for i in chain]
        kept = set(chain)
        flagged.extend(
            (ps[i], FlaggedReading(rs[i], _reason(os[i], ks[i], kept_os, kept_ks)))
            for i in range(len(os))
            if i not in kept
        )
        flagged.sort(key=lambda item: item[0])
        rs = [rs[i] for i in chain]
        os, ks = kept_os, kept_ks
    return os, ks, tuple(rs), tuple(f for _, f in flagged)


def _fit(
    os: list[int],
    ks: list[int],
    used: tuple[Reading, ...],
    flags: tuple[FlaggedReading, ...],
    prior: float,
) -> MileageEstimate:
    """Rate, interval and prior weight from the kept readings (strictly increasing days)."""
    n = len(os)
    if n < 2:
        sd = max(_PRIOR_REL_SD * prior, _MIN_SD_KM)
        half = _Z90 * sd
        return MileageEstimate(
            prior,
            max(0.0, prior - half),
            prior + half,
            used[0].read_on if n else None,
            ks[0] if n else None,
            used,
            flags,
            1.0,
            "prior",
        )

    # Segment rates weighted by length x decay; decay measured from the newest segment's
    # midpoint (weight 1 there), so no underflow and no drift with the clock.
    ref2 = os[-2] + os[-1]  # twice the newest midpoint
    half_decay = 0.5 * _DECAY_PER_DAY
    exp = math.exp
    sum_w = sum_wr = sum_w2 = sum_q = 0.0
    sum_wl = sum_wlr = sum_wlr2 = 0.0  # length-weighted moments for the volatility
    prev_o = os[0]
    prev_k = ks[0]
    for k in range(1, n):
        o = os[k]
        km = ks[k]
        d = o - prev_o
        dec = exp(half_decay * (prev_o + o - ref2))
        w = d * dec
        rate = (km - prev_k) * MONTH_DAYS / d
        wl = w * d / MONTH_DAYS
        wr = w * rate
        sum_w += w
        sum_wr += wr
        sum_w2 += w * w
        sum_q += w * dec
        sum_wl += wl
        sum_wlr += wl * rate
        sum_wlr2 += wl * rate * rate
        prev_o = o
        prev_k = km
    mu = sum_wr / sum_w
    prior_w = PRIOR_STRENGTH_DAYS * exp(half_decay * (2 * os[0] - ref2))
    pw = prior_w / (prior_w + sum_w)
    rate_est = pw * prior + (1.0 - pw) * mu

    # Volatility sigma (km/month per sqrt(month)), model rate_k ~ N(mu, sigma^2 / L_k):
    # s2 = sum(w L (rate - mu)^2) / sum(w), shrunk towards a default while segments are few.
    s2 = (sum_wlr2 - 2.0 * mu * sum_wlr + mu * mu * sum_wl) / sum_w
    if s2 < 0.0:
        s2 = 0.0
    n_eff = sum_w * sum_w / sum_w2
    sigma0 = _DEFAULT_VOLATILITY * rate_est
    if sigma0 < _MIN_SD_KM:
        sigma0 = _MIN_SD_KM
    sigma2 = (n_eff * s2 + _VOLATILITY_PSEUDO_SEGMENTS * sigma0 * sigma0) / (
        n_eff - 1.0 + _VOLATILITY_PSEUDO_SEGMENTS
    )
    # variance of the weighted mean + noise of the average over the horizon
    var_data = sigma2 * (MONTH_DAYS * sum_q / (sum_w * sum_w) + 1.0 / RATE_HORIZON_MONTHS)
    sd_prior = _PRIOR_REL_SD * prior
    if sd_prior < _MIN_SD_KM:
        sd_prior = _MIN_SD_KM
    gap = mu - prior
    var = (1.0 - pw) * var_data + pw * sd_prior * sd_prior + pw * (1.0 - pw) * gap * gap
    half = _Z90 * math.sqrt(var)
    low = rate_est - half
    return MileageEstimate(
        rate_est,
        low if low > 0.0 else 0.0,
        rate_est + half,
        used[-1].read_on,
        ks[-1],
        used,
        flags,
        pw,
        "readings" if pw < _READINGS_SOURCE_BELOW else "blend",
    )


# --------------------------------------------------------------------------- due dates


def _intervals(
    maintenances_done: int,
    interval_km: int,
    interval_months: int,
    first_interval_km: int | None,
    first_interval_months: int | None,
) -> tuple[int, int]:
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
    ikm, imon = _intervals(
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
        due_on = _advance(last_maintenance_on, m_km)
        due_km = target
    else:
        driver = "time"
        due_on = add_months(last_maintenance_on, imon)
        if time_km is None:
            time_km = last_km + rate * (fimon - last_m)
        due_km = min(_round(time_km), target)
    earliest = _advance(last_maintenance_on, m_hi) if m_hi < fimon else due_on
    if m_lo == m_km:
        latest = due_on
    elif m_lo < fimon:
        latest = _advance(last_maintenance_on, m_lo)
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


# --------------------------------------------------------------------------- baselines


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
    return _advance(last_maintenance_on, m_km)


# --------------------------------------------------------------------------- backtest


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
            ikm, imon = _intervals(
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
