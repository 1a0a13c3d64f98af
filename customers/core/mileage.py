"""The mileage estimator: readings in, a cleaned rate with its interval out (pure, stdlib only).

Nothing here imports Django or reads the clock: ``today`` is always an argument. Inputs and outputs
are frozen dataclasses and the result does not depend on the readings' order. docs/forecast.md
describes the cleaning, the rate, the prior and the interval in plain words.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from customers.core.calendar import MONTH_DAYS

__all__ = [
    "DEFAULT_PRIOR_KM_PER_MONTH",
    "HALF_LIFE_DAYS",
    "MAX_PLAUSIBLE_KM_PER_MONTH",
    "MONTH_DAYS",
    "PLAUSIBLE_SLACK_KM",
    "PRIOR_STRENGTH_DAYS",
    "RATE_HORIZON_MONTHS",
    "FlaggedReading",
    "FlagReason",
    "MileageEstimate",
    "Reading",
    "Source",
    "estimate_mileage",
    "median_priors",
    "prior_for",
    "round_km",
]

FlagReason = Literal[
    "negative", "future", "duplicate", "rollback", "implausible_jump", "swapped_digits", "extra_digit", "miles_for_km"
]
Source = Literal["readings", "prior", "blend"]

DEFAULT_PRIOR_KM_PER_MONTH = 1250.0
MAX_PLAUSIBLE_KM_PER_MONTH = 15000.0
PLAUSIBLE_SLACK_KM = 1500  # one long day's drive on top of the rate limit
HALF_LIFE_DAYS = 365.25
PRIOR_STRENGTH_DAYS = 20.0
RATE_HORIZON_MONTHS = 6.0

_Z90 = 1.6448536269514722  # two-sided 90 %
_PRIOR_REL_SD = 0.5  # between-vehicle spread of the prior
_DEFAULT_VOLATILITY = 0.15  # month-to-month CV used while segments are few
_VOLATILITY_PSEUDO_SEGMENTS = 2.0
_MIN_SD_KM = 50.0
_READINGS_SOURCE_BELOW = 0.1
_MAX_RATE_PER_DAY = MAX_PLAUSIBLE_KM_PER_MONTH / MONTH_DAYS
_DECAY_PER_DAY = math.log(2.0) / HALF_LIFE_DAYS
#: A car may drive up to this many times its own (or its model's) usual rate before a jump is a typo.
OWN_RATE_FACTOR = 2.5
#: The chain search links a reading to one of the next CHAIN_WINDOW readings at most.
CHAIN_WINDOW = 64
MILE_KM = 1.609344


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
        """Estimated odometer on ``day`` (docs/forecast.md)."""
        used = self.used_readings
        if not used:
            raise ValueError("no usable reading to anchor the odometer")
        o = day.toordinal()
        last = used[-1]
        last_o = last.read_on.toordinal()
        if o >= last_o:
            return round_km(last.odometer_km + self.km_per_month * (o - last_o) / MONTH_DAYS)
        first = used[0]
        first_o = first.read_on.toordinal()
        if o <= first_o:
            km = first.odometer_km - self.km_per_month * (first_o - o) / MONTH_DAYS
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


# --------------------------------------------------------------------------- estimator


def _check_prior(prior_km_per_month: float | None) -> float:
    if prior_km_per_month is None:
        return DEFAULT_PRIOR_KM_PER_MONTH
    prior = float(prior_km_per_month)
    if not math.isfinite(prior) or prior < 0.0:
        raise ValueError(f"prior_km_per_month must be finite and >= 0, got {prior_km_per_month!r}")
    return prior


def _plausible(d_days: int, d_km: int, max_per_day: float) -> bool:
    return d_days > 0 and 0 <= d_km <= max_per_day * d_days + PLAUSIBLE_SLACK_KM


def _max_rate_per_day(keyed: Sequence[tuple[int, int, int]], prior: float) -> float:
    """The fastest plausible driving for this car, in km a day: the fixed limit, or more for a car whose
    own readings (the median of its segments of a week or more, when it has three) or whose model's
    prior are that fast (a truck at 20,000 km a month is not a typo)."""
    limit = max(_MAX_RATE_PER_DAY, OWN_RATE_FACTOR * prior / MONTH_DAYS)
    rates = []
    prev_o, prev_k = keyed[0][0], keyed[0][1]
    for o, km, *_ in keyed[1:]:
        if o - prev_o >= 7 and km >= prev_k >= 0:
            rates.append((km - prev_k) / (o - prev_o))
            prev_o, prev_k = o, km
    if len(rates) >= 3:
        limit = max(limit, OWN_RATE_FACTOR * statistics.median(rates))
    return limit


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


def _best_chain(os: list[int], ks: list[int], max_per_day: float) -> list[int]:
    """Indices of the longest plausible chain (ties: trend cost, then earlier readings).

    A link skips at most ``CHAIN_WINDOW`` readings, so the search is O(n x window), not O(n^2): a run
    of more bad readings in a row than that is not a typo to step over."""
    n = len(os)
    costs = _trend_costs(os, ks)
    length = [1] * n
    cost = costs[:]
    nxt = [-1] * n
    for i in range(n - 2, -1, -1):
        oi, ki = os[i], ks[i]
        best_len, best_cost, best_next = 1, costs[i], -1
        for j in range(i + 1, min(n, i + 1 + CHAIN_WINDOW)):
            if _plausible(os[j] - oi, ks[j] - ki, max_per_day):
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
    """Estimate average km per month (docs/forecast.md)."""
    prior = _check_prior(prior_km_per_month)
    seq = readings if isinstance(readings, (list, tuple)) else list(readings)
    t_today = today.toordinal()

    # Fast path: sorted by (day, km), every reading usable and plausible after the previous. The car's
    # own rate can only raise the limit, so it is worked out only when the model's limit is exceeded.
    keyed = sorted([(r.read_on.toordinal(), r.odometer_km, i) for i, r in enumerate(seq)])
    max_per_day = max(_MAX_RATE_PER_DAY, OWN_RATE_FACTOR * prior / MONTH_DAYS)
    clean = bool(keyed) and keyed[0][1] >= 0 and keyed[-1][0] <= t_today
    if clean:
        clean = _is_clean(keyed, max_per_day)
        if not clean:
            max_per_day = _max_rate_per_day(keyed, prior)
            clean = _is_clean(keyed, max_per_day)
    elif keyed:
        max_per_day = _max_rate_per_day(keyed, prior)
    if clean:
        os = [t[0] for t in keyed]
        ks = [t[1] for t in keyed]
        used = tuple([seq[t[2]] for t in keyed])
        flags: tuple[FlaggedReading, ...] = ()
    else:
        os, ks, used, flags = _clean(seq, t_today, max_per_day)
    if len(os) >= 4:
        reason = _newest_typo(os, ks)
        if reason is not None:
            flags = tuple(sorted([*flags, FlaggedReading(used[-1], reason)], key=lambda f: f.reading.read_on))
            os, ks, used = os[:-1], ks[:-1], used[:-1]
    return _fit(os, ks, used, flags, prior)


def _is_clean(keyed: list[tuple[int, int, int]], max_per_day: float) -> bool:
    """Every reading on its own day, none lower than the one before, none faster than the limit."""
    prev_o, prev_k, _ = keyed[0]
    for o, km, _ in keyed[1:]:
        d = o - prev_o
        dk = km - prev_k
        if d <= 0 or dk < 0 or dk > max_per_day * d + PLAUSIBLE_SLACK_KM:
            return False
        prev_o, prev_k = o, km
    return True


def _newest_typo(os: list[int], ks: list[int]) -> FlagReason | None:
    """Why the newest kept reading is a typo, judged against the car's own rate; None when it is not.

    Nothing after the newest reading can contradict it, so the chain keeps a plausible typo there and
    the due date moves by months. When the car drove steadily (its last three to six segments of a week
    or more within a factor of two of each other), the newest segment's rate is more than
    ``OWN_RATE_FACTOR`` times above or 1.5 times below the car's recent rate (their median), and the
    reading with
    two neighbouring digits swapped, without its last digit, or read as miles (x 1.609) lands near
    where the car's rate puts it, it is that typo.
    """
    rates = []
    for k in range(len(os) - 2, 0, -1):
        days = os[k] - os[k - 1]
        if days >= 7:
            rates.append((ks[k] - ks[k - 1]) / days)
        if len(rates) == 6:
            break
    if len(rates) < 3 or min(rates) <= 0.0 or max(rates) > 2.0 * min(rates):
        return None  # only a steady car's rate says what its next reading should be
    own = statistics.median(rates)
    days = os[-1] - os[-2]
    driven = ks[-1] - ks[-2]
    expected = own * days
    if own <= 0.0 or days < 7 or expected < 2000:  # too little driving to tell a typo from a habit
        return None
    if expected / 1.5 <= driven <= expected * OWN_RATE_FACTOR:  # a car may slow down more readily than speed up
        return None
    tolerance = max(0.25 * expected, 500.0)
    km = ks[-1]
    digits = str(km)
    candidates: list[tuple[FlagReason, int]] = [("extra_digit", km // 10), ("miles_for_km", round(km * MILE_KM))]
    candidates.extend(
        ("swapped_digits", int(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]))
        for i in range(len(digits) - 1)
        if digits[i] != digits[i + 1] and (i > 0 or digits[i + 1] != "0")
    )
    for reason, fixed in candidates:
        if abs(fixed - ks[-2] - expected) <= tolerance:
            return reason
    return None


def _clean(
    seq: Sequence[Reading], t_today: int, max_per_day: float
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
        chain = _best_chain(os, ks, max_per_day)
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


# --------------------------------------------------------------------------- priors


def median_priors(observed: Iterable[tuple[int, str, str, float]], *, min_cars: int = 5) -> dict[str, float]:
    """Median km a month per dealership + make + model and per dealership, from well-observed cars.

    ``observed``: (dealership id, make, model, km a month) of cars whose estimate rests on readings.
    A group needs ``min_cars`` cars. Medians are rounded to 50 km: they come from estimates that lean
    (a little) on the priors themselves, and rounding stops that feedback from moving every forecast
    by 0.1 km each night (so a rerun writes nothing).
    """
    by_model: dict[str, list[float]] = {}
    by_dealership: dict[str, list[float]] = {}
    for dealership_id, make, model, rate in observed:
        by_model.setdefault(f"{dealership_id}|{make}|{model}", []).append(rate)
        by_dealership.setdefault(f"{dealership_id}", []).append(rate)
    return priors_from_medians(
        [(key, len(values), statistics.median(values)) for key, values in (by_model | by_dealership).items()],
        min_cars=min_cars,
    )


def priors_from_medians(groups: Iterable[tuple[str, int, float]], *, min_cars: int = 5) -> dict[str, float]:
    """The priors from (key, cars, median km a month) per group, the key as ``median_priors`` makes it:
    ``"<dealership id>|<make>|<model>"`` or ``"<dealership id>"``. For medians counted in the database."""
    return {key: _round50(median) for key, cars, median in groups if cars >= min_cars}


def prior_for(priors: dict[str, float], *, dealership_id: int, make: str, model: str) -> float | None:
    """The model's prior at the dealership, else the dealership's, else None (the default applies)."""
    return priors.get(f"{dealership_id}|{make}|{model}") or priors.get(f"{dealership_id}")


def _round50(value: float) -> float:
    return float(round(value / 50) * 50)
