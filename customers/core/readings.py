"""Odometer readings and their cleaning: which readings the estimator keeps, and why the rest are set aside.

Pure, stdlib only. The readings are sorted on content (the result does not depend on their order);
bad ones (negative, in the future, a rollback, an implausible jump, a typo in the newest reading)
are flagged with a reason and the longest plausible chain is kept. docs/forecast.md describes the
cleaning in plain words; ``customers.core.mileage`` fits the rate to what is kept.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from customers.core.calendar import MONTH_DAYS

__all__ = [
    "CHAIN_WINDOW",
    "MAX_PLAUSIBLE_KM_PER_MONTH",
    "MAX_RATE_PER_DAY",
    "MILE_KM",
    "OWN_RATE_FACTOR",
    "PLAUSIBLE_SLACK_KM",
    "FlaggedReading",
    "FlagReason",
    "Reading",
    "clean",
    "is_clean",
    "max_rate_per_day",
    "newest_typo",
]

FlagReason = Literal[
    "negative", "future", "duplicate", "rollback", "implausible_jump", "swapped_digits", "extra_digit", "miles_for_km"
]

MAX_PLAUSIBLE_KM_PER_MONTH = 15000.0

PLAUSIBLE_SLACK_KM = 1500  # one long day's drive on top of the rate limit

MAX_RATE_PER_DAY = MAX_PLAUSIBLE_KM_PER_MONTH / MONTH_DAYS

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


def _plausible(d_days: int, d_km: int, max_per_day: float) -> bool:
    return d_days > 0 and 0 <= d_km <= max_per_day * d_days + PLAUSIBLE_SLACK_KM


def max_rate_per_day(keyed: Sequence[tuple[int, int, int]], prior: float) -> float:
    """The fastest plausible driving for this car, in km a day: the fixed limit, or more for a car whose
    own readings (the median of its segments of a week or more, when it has three) or whose model's
    prior are that fast (a truck at 20,000 km a month is not a typo)."""
    limit = max(MAX_RATE_PER_DAY, OWN_RATE_FACTOR * prior / MONTH_DAYS)
    rates = []
    prev_o, prev_k = keyed[0][0], keyed[0][1]
    for o, km, *_ in keyed[1:]:
        if o - prev_o >= 7 and km >= prev_k >= 0:
            rates.append((km - prev_k) / (o - prev_o))
            prev_o, prev_k = o, km
    if len(rates) >= 3:
        limit = max(limit, OWN_RATE_FACTOR * statistics.median(rates))
    return limit


def is_clean(keyed: list[tuple[int, int, int]], max_per_day: float) -> bool:
    """Every reading on its own day, none lower than the one before, none faster than the limit."""
    prev_o, prev_k, _ = keyed[0]
    for o, km, _ in keyed[1:]:
        d = o - prev_o
        dk = km - prev_k
        if d <= 0 or dk < 0 or dk > max_per_day * d + PLAUSIBLE_SLACK_KM:
            return False
        prev_o, prev_k = o, km
    return True


def _trend_costs(ordinals: list[int], odometers: list[int]) -> list[float]:
    """Absolute residuals from a Theil-Sen line (zeros for fewer than 4 readings)."""
    n = len(ordinals)
    if n < 4:
        return [0.0] * n
    slopes: list[float] = []
    if n <= 60:
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    else:  # bounded cost for long histories: pairs half the sample apart
        half = n // 2
        pairs = [(i, i + half) for i in range(n - half)]
    for i, j in pairs:
        if ordinals[j] > ordinals[i]:
            slopes.append((odometers[j] - odometers[i]) / (ordinals[j] - ordinals[i]))
    if not slopes:
        return [0.0] * n
    slope = statistics.median(slopes)
    base = ordinals[0]
    intercept = statistics.median([k - slope * (o - base) for o, k in zip(ordinals, odometers, strict=True)])
    return [abs(k - intercept - slope * (o - base)) for o, k in zip(ordinals, odometers, strict=True)]


def _best_chain(ordinals: list[int], odometers: list[int], max_per_day: float) -> list[int]:
    """Indices of the longest plausible chain (ties: trend cost, then earlier readings).

    A link skips at most ``CHAIN_WINDOW`` readings, so the search is O(n x window), not O(n^2): a run
    of more bad readings in a row than that is not a typo to step over."""
    n = len(ordinals)
    costs = _trend_costs(ordinals, odometers)
    length = [1] * n
    cost = costs[:]
    nxt = [-1] * n
    for i in range(n - 2, -1, -1):
        oi, ki = ordinals[i], odometers[i]
        best_len, best_cost, best_next = 1, costs[i], -1
        for j in range(i + 1, min(n, i + 1 + CHAIN_WINDOW)):
            if _plausible(ordinals[j] - oi, odometers[j] - ki, max_per_day):
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


def _reason(o: int, km: int, kept_ordinals: list[int], kept_odometers: list[int]) -> FlagReason:
    pred_km: int | None = None
    for ko, kk in zip(kept_ordinals, kept_odometers, strict=True):
        if ko == o:
            return "duplicate"
        if ko > o:
            break
        pred_km = kk
    if pred_km is not None and km < pred_km:
        return "rollback"
    return "implausible_jump"


def newest_typo(ordinals: list[int], odometers: list[int], dropped: Sequence[int] = ()) -> FlagReason | None:
    """Why the newest kept reading is a typo, judged against the car's own rate; None when it is not.

    ``dropped``: the days (ordinals, sorted) of the readings the chain already dropped. A segment that
    spans one is no evidence of the car's rate (over that gap the readings disagreed, and the dropped
    reading may hide a change of pace): when one lies among the segments the steady rate is read from,
    or in the newest segment, the newest reading is not judged.

    Nothing after the newest reading can contradict it, so the chain keeps a plausible typo there and
    the due date moves by months. When the car drove steadily (its last three to six segments of a week
    or more within a factor of two of each other), the newest segment's rate is more than
    ``OWN_RATE_FACTOR`` times above or 1.5 times below the car's recent rate (their median), and the
    reading with
    two neighbouring digits swapped, without its last digit, or read as miles (x 1.609) lands near
    where the car's rate puts it, it is that typo.
    """
    def spans_dropped(k: int) -> bool:
        i = bisect.bisect_right(dropped, ordinals[k - 1])
        return i < len(dropped) and dropped[i] < ordinals[k]

    if dropped and spans_dropped(len(ordinals) - 1):
        return None
    rates = []
    for k in range(len(ordinals) - 2, 0, -1):
        if dropped and spans_dropped(k):
            return None  # a dropped reading among the recent segments may hide a change of pace
        days = ordinals[k] - ordinals[k - 1]
        if days >= 7:
            rates.append((odometers[k] - odometers[k - 1]) / days)
            if len(rates) == 6:
                break
    if len(rates) < 3:
        return None
    slowest = min(rates)
    if slowest <= 0.0 or max(rates) > 2.0 * slowest:
        return None  # only a steady car's rate says what its next reading should be
    own = statistics.median(rates)
    days = ordinals[-1] - ordinals[-2]
    driven = odometers[-1] - odometers[-2]
    expected = own * days
    if own <= 0.0 or days < 7 or expected < 2000:  # too little driving to tell a typo from a habit
        return None
    if expected / 1.5 <= driven <= expected * OWN_RATE_FACTOR:  # a car may slow down more readily than speed up
        return None
    tolerance = max(0.25 * expected, 500.0)
    km = odometers[-1]
    digits = str(km)
    candidates: list[tuple[FlagReason, int]] = [("extra_digit", km // 10), ("miles_for_km", round(km * MILE_KM))]
    candidates.extend(
        ("swapped_digits", int(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]))
        for i in range(len(digits) - 1)
        if digits[i] != digits[i + 1] and (i > 0 or digits[i + 1] != "0")
    )
    for reason, fixed in candidates:
        if abs(fixed - odometers[-2] - expected) <= tolerance:
            return reason
    return None


def clean(
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
    ordinals: list[int] = []
    odometers: list[int] = []
    rs: list[Reading] = []
    ps: list[int] = []
    for pos, (o, km, _, _, i) in enumerate(keyed):
        r = seq[i]
        if km < 0:
            flagged.append((pos, FlaggedReading(r, "negative")))
        elif o > t_today:
            flagged.append((pos, FlaggedReading(r, "future")))
        else:
            ordinals.append(o)
            odometers.append(km)
            rs.append(r)
            ps.append(pos)
    if ordinals:
        chain = _best_chain(ordinals, odometers, max_per_day)
        kept_ordinals = [ordinals[i] for i in chain]
        kept_odometers = [odometers[i] for i in chain]
        kept = set(chain)
        flagged.extend(
            (ps[i], FlaggedReading(rs[i], _reason(ordinals[i], odometers[i], kept_ordinals, kept_odometers)))
            for i in range(len(ordinals))
            if i not in kept
        )
        flagged.sort(key=lambda item: item[0])
        rs = [rs[i] for i in chain]
        ordinals, odometers = kept_ordinals, kept_odometers
    return ordinals, odometers, tuple(rs), tuple(f for _, f in flagged)
