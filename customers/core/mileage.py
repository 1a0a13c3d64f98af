"""The mileage estimator: readings in, a cleaned rate with its interval out (pure, stdlib only).

Nothing here imports Django or reads the clock: ``today`` is always an argument. Inputs and outputs
are frozen dataclasses and the result does not depend on the readings' order. The readings are
cleaned first (``customers.core.readings``); the rate is fitted to the kept ones, leaning on the
prior (``customers.core.priors``) while they are few. docs/forecast.md describes the cleaning, the
rate, the prior and the interval in plain words.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal, NamedTuple

from customers.core.calendar import MONTH_DAYS
from customers.core.readings import (
    MAX_RATE_PER_DAY,
    OWN_RATE_FACTOR,
    FlaggedReading,
    Reading,
    clean,
    is_clean,
    max_rate_per_day,
    newest_typo,
)
from customers.core.seasonality import Season

__all__ = [
    "DEFAULT_PRIOR_KM_PER_MONTH",
    "HALF_LIFE_DAYS",
    "PRIOR_STRENGTH_DAYS",
    "RATE_HORIZON_MONTHS",
    "MileageEstimate",
    "Source",
    "estimate_mileage",
    "round_km",
]

Source = Literal["readings", "prior", "blend"]

DEFAULT_PRIOR_KM_PER_MONTH = 1250.0

HALF_LIFE_DAYS = 365.25

#: The prior counts as this many days of driving (tuned on bench_mileage --accuracy seed 7: 20 -> 8;
#: 4 was a little better still there, with a narrower range that held fewer visits).
PRIOR_STRENGTH_DAYS = 8.0

RATE_HORIZON_MONTHS = 6.0

_Z90 = 1.6448536269514722  # two-sided 90 %

_PRIOR_REL_SD = 0.5  # between-vehicle spread of the prior

_DEFAULT_VOLATILITY = 0.15  # month-to-month CV used while segments are few

_VOLATILITY_PSEUDO_SEGMENTS = 2.0

_MIN_SD_KM = 50.0

_READINGS_SOURCE_BELOW = 0.1

_DECAY_PER_DAY = math.log(2.0) / HALF_LIFE_DAYS


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

    def odometer_on(self, day: date, season: Season | None = None) -> int:
        """Estimated odometer on ``day`` (docs/forecast.md); with a ``season``, the rate runs by its
        driving days before the first reading and after the last."""
        used = self.used_readings
        if not used:
            raise ValueError("no usable reading to anchor the odometer")
        o = day.toordinal()
        last = used[-1]
        last_o = last.read_on.toordinal()
        if o >= last_o:
            days = o - last_o if season is None else season.driven(last_o, o)
            return round_km(last.odometer_km + self.km_per_month * days / MONTH_DAYS)
        first = used[0]
        first_o = first.read_on.toordinal()
        if o <= first_o:
            days = first_o - o if season is None else season.driven(o, first_o)
            km = first.odometer_km - self.km_per_month * days / MONTH_DAYS
            return max(0, round_km(km))
        prev = first
        prev_o = first_o
        for r in used[1:]:
            ro = r.read_on.toordinal()
            if o <= ro:
                share = (o - prev_o) / (ro - prev_o)
                return round_km(prev.odometer_km + share * (r.odometer_km - prev.odometer_km))
            prev, prev_o = r, ro
        return last.odometer_km  # pragma: no cover - unreachable


def round_km(x: float) -> int:
    """Round half up (km are whole numbers)."""
    return math.floor(x + 0.5)


def _check_prior(prior_km_per_month: float | None) -> float:
    if prior_km_per_month is None:
        return DEFAULT_PRIOR_KM_PER_MONTH
    prior = float(prior_km_per_month)
    if not math.isfinite(prior) or prior < 0.0:
        raise ValueError(f"prior_km_per_month must be finite and >= 0, got {prior_km_per_month!r}")
    return prior


def estimate_mileage(
    readings: Iterable[Reading],
    *,
    today: date,
    prior_km_per_month: float | None = None,
    season: Season | None = None,
) -> MileageEstimate:
    """Estimate average km per month (docs/forecast.md); with a ``season``, each segment's km are
    divided by the driving days it covers (the rate is the annual mean, customers.core.seasonality)."""
    prior = _check_prior(prior_km_per_month)
    seq = readings if isinstance(readings, (list, tuple)) else list(readings)
    t_today = today.toordinal()

    # Fast path: sorted by (day, km), every reading usable and plausible after the previous. The car's
    # own rate can only raise the limit, so it is worked out only when the model's limit is exceeded.
    keyed = [(r.read_on.toordinal(), r.odometer_km, i) for i, r in enumerate(seq)]
    keyed.sort()
    max_per_day = max(MAX_RATE_PER_DAY, OWN_RATE_FACTOR * prior / MONTH_DAYS)
    fast = bool(keyed) and keyed[0][1] >= 0 and keyed[-1][0] <= t_today
    if fast:
        fast = is_clean(keyed, max_per_day)
        if not fast:
            max_per_day = max_rate_per_day(keyed, prior)
            fast = is_clean(keyed, max_per_day)
    elif keyed:
        max_per_day = max_rate_per_day(keyed, prior)
    if fast:
        ordinals = [t[0] for t in keyed]
        odometers = [t[1] for t in keyed]
        used = tuple([seq[t[2]] for t in keyed])
        flags: tuple[FlaggedReading, ...] = ()
    else:
        ordinals, odometers, used, flags = clean(seq, t_today, max_per_day)
    # The newest reading is checked against the car's steady rate, leaving out the segments that span a
    # reading the chain already dropped: over such a gap the readings disagreed (readings.newest_typo).
    if len(ordinals) >= 4:
        dropped = sorted([f.reading.read_on.toordinal() for f in flags]) if flags else ()
        reason = newest_typo(ordinals, odometers, dropped)
        if reason is not None:
            flags = tuple(sorted([*flags, FlaggedReading(used[-1], reason)], key=lambda f: f.reading.read_on))
            ordinals, odometers, used = ordinals[:-1], odometers[:-1], used[:-1]
    return _fit(ordinals, odometers, used, flags, prior, season)


def _fit(
    ordinals: list[int],
    odometers: list[int],
    used: tuple[Reading, ...],
    flags: tuple[FlaggedReading, ...],
    prior: float,
    season: Season | None = None,
) -> MileageEstimate:
    """Rate, interval and prior weight from the kept readings (strictly increasing days)."""
    n = len(ordinals)
    if n < 2:
        sd = max(_PRIOR_REL_SD * prior, _MIN_SD_KM)
        half = _Z90 * sd
        return MileageEstimate(
            prior,
            max(0.0, prior - half),
            prior + half,
            used[0].read_on if n else None,
            odometers[0] if n else None,
            used,
            flags,
            1.0,
            "prior",
        )

    m = _segment_moments(ordinals, odometers, season)
    mu = m.sum_wr / m.sum_w
    prior_w = PRIOR_STRENGTH_DAYS * math.exp(m.half_decay * (2 * ordinals[0] - m.ref2))
    prior_share = prior_w / (prior_w + m.sum_w)
    rate_est = prior_share * prior + (1.0 - prior_share) * mu
    half = _Z90 * math.sqrt(_variance(m, mu=mu, prior_share=prior_share, rate_est=rate_est, prior=prior))
    low = rate_est - half
    return MileageEstimate(
        rate_est,
        low if low > 0.0 else 0.0,
        rate_est + half,
        used[-1].read_on,
        odometers[-1],
        used,
        flags,
        prior_share,
        "readings" if prior_share < _READINGS_SOURCE_BELOW else "blend",
    )


class _Moments(NamedTuple):
    """The weighted sums of the segment rates that the rate and its interval are computed from."""

    sum_w: float
    sum_wr: float
    sum_w2: float
    sum_q: float
    sum_wl: float
    sum_wlr: float
    sum_wlr2: float
    ref2: int  # twice the newest segment's midpoint
    half_decay: float


def _segment_moments(ordinals: list[int], odometers: list[int], season: Season | None = None) -> _Moments:
    """Segment rates weighted by length x decay; decay measured from the newest segment's
    midpoint (weight 1 there), so no underflow and no drift with the clock. With a ``season`` a
    segment's rate is its km over the driving days it covers (its weight stays its days)."""
    if season is not None:
        at = season.at_days(ordinals)
        driving = [b - a for a, b in zip(at, at[1:], strict=False)]
    else:
        driving = None
    ref2 = ordinals[-2] + ordinals[-1]  # twice the newest midpoint
    half_decay = 0.5 * _DECAY_PER_DAY
    exp = math.exp
    sum_w = sum_wr = sum_w2 = sum_q = 0.0
    sum_wl = sum_wlr = sum_wlr2 = 0.0  # length-weighted moments for the volatility
    prev_o = ordinals[0]
    prev_k = odometers[0]
    for k in range(1, len(ordinals)):
        o = ordinals[k]
        km = odometers[k]
        d = o - prev_o
        dec = exp(half_decay * (prev_o + o - ref2))
        w = d * dec
        rate = (km - prev_k) * MONTH_DAYS / (d if driving is None else driving[k - 1])
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
    return _Moments(sum_w, sum_wr, sum_w2, sum_q, sum_wl, sum_wlr, sum_wlr2, ref2, half_decay)


def _variance(m: _Moments, *, mu: float, prior_share: float, rate_est: float, prior: float) -> float:
    """The variance of the rate: the data's (volatility and horizon), the prior's, and their gap."""
    # Volatility sigma (km/month per sqrt(month)), model rate_k ~ N(mu, sigma^2 / L_k):
    # s2 = sum(w L (rate - mu)^2) / sum(w), shrunk towards a default while segments are few.
    s2 = (m.sum_wlr2 - 2.0 * mu * m.sum_wlr + mu * mu * m.sum_wl) / m.sum_w
    if s2 < 0.0:
        s2 = 0.0
    n_eff = m.sum_w * m.sum_w / m.sum_w2
    sigma0 = _DEFAULT_VOLATILITY * rate_est
    if sigma0 < _MIN_SD_KM:
        sigma0 = _MIN_SD_KM
    sigma2 = (n_eff * s2 + _VOLATILITY_PSEUDO_SEGMENTS * sigma0 * sigma0) / (
        n_eff - 1.0 + _VOLATILITY_PSEUDO_SEGMENTS
    )
    # variance of the weighted mean + noise of the average over the horizon
    var_data = sigma2 * (MONTH_DAYS * m.sum_q / (m.sum_w * m.sum_w) + 1.0 / RATE_HORIZON_MONTHS)
    sd_prior = _PRIOR_REL_SD * prior
    if sd_prior < _MIN_SD_KM:
        sd_prior = _MIN_SD_KM
    gap = mu - prior
    var = (1.0 - prior_share) * var_data + prior_share * sd_prior * sd_prior + prior_share * (1.0 - prior_share) * gap * gap
    return var
