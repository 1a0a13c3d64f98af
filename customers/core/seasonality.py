"""Seasonality: a dealership's monthly driving profile, learned from its own readings (pure, stdlib only).

A profile is twelve multipliers, January to December: how much more (or less) than its annual mean a
car of the dealership drives in that month. They average 1.0 over the year, each month weighted by its
days. The forecast uses it twice (``Season``): a segment's km are divided by the profile's days it
covers rather than by its calendar days (a summer segment says less about the annual mean than its
raw rate), and the odometer is projected forward by the same days (a km limit reached in summer comes
sooner). A flat profile (all 1.0) is no profile: ``season_for`` gives None and the forecast computes
exactly what it computes without one. docs/forecast.md ("Seasonality") says it in plain words.

Learning (``SeasonSums``, ``profile_from_sums``). Each car's readings, one a day (the lowest), give
segments between neighbours; a segment shorter than ``MIN_SEGMENT_DAYS`` is left out. A car counts
when it has two segments or more covering ``MIN_CAR_DAYS`` days, never goes down and no segment is
over ``MAX_RATIO`` times its own average or over ``MAX_KM_PER_DAY`` (a typo, not a season). A
segment's rate relative to its car's average (minus 1) is fitted by least squares, weighted by the
segment's days, on how the segment's share of days in each calendar month differs from the car's
whole share: the car's own average is then compared with the same months, so a car seen only from
March to October still says how its summer differed from its spring. The fit is shrunk towards flat
by ``SHRINK_CAR_MONTHS`` car-months of flat driving in each month (a month seen for n car-months
lying wholly inside it moves about n / (n + 20) of the way), and a dealership with fewer than
``MIN_CARS`` counted cars is flat. The profile is rounded to 0.01 and is flat when no month is
``FLAT_WITHIN`` from 1.0; it settles (``settled_profile``) as the priors do: a profile that moved by
less than ``SETTLE_WITHIN`` in every month stays as it was. Everything is a sum, so the order of the
cars and of their readings does not matter, and the sums can be counted in the database
(customers.forecasting).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from customers.core.calendar import MONTH_DAYS

__all__ = [
    "FLAT",
    "FLAT_WITHIN",
    "MAX_KM_PER_DAY",
    "MAX_RATIO",
    "MIN_CARS",
    "MIN_CAR_DAYS",
    "MIN_SEGMENT_DAYS",
    "SETTLE_WITHIN",
    "SHRINK_CAR_MONTHS",
    "Profile",
    "Season",
    "SeasonSums",
    "learn_profile",
    "month_days",
    "profile_from_sums",
    "season_for",
    "settled_profile",
]

Profile = tuple[float, ...]  # twelve multipliers, January first

FLAT: Profile = (1.0,) * 12

#: Segments shorter than this say more about one week than about a month.
MIN_SEGMENT_DAYS = 7
#: A car is compared with its own average over at least this many days.
MIN_CAR_DAYS = 180
#: A segment this many times faster than its car's average, or faster than this many km a day (30,000
#: km a month), is a typo, not a season, and the car is left out.
MAX_RATIO = 3.0
MAX_KM_PER_DAY = 1000.0
#: A dealership learns a profile from this many counted cars (fewer: flat). A few cars' changes of
#: habit would otherwise pass for a season.
MIN_CARS = 30
#: Each month is shrunk towards 1.0 by this many car-months of flat driving.
SHRINK_CAR_MONTHS = 20.0
#: A profile whose every month is within this of 1.0 is flat.
FLAT_WITHIN = 0.03
#: A new profile within this of the one in use, in every month, leaves the one in use.
SETTLE_WITHIN = 0.03
#: No month's multiplier goes below this (the odometer always moves forward).
MIN_MULTIPLIER = 0.2

_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_AVERAGE_MONTH_DAYS = 30.436875  # 365.2425 / 12
_YEAR_DAYS = 365.2425
_TABLE_FIRST, _TABLE_END = 1900, 2200  # the years Season tabulates by month


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def month_days(start: int, end: int) -> list[int]:
    """Days of [``start``, ``end``) (ordinals) in each calendar month, January first, over all years."""
    days = [0] * 12
    if end <= start:
        return days
    d = date.fromordinal(start)
    year, month = d.year, d.month
    cursor = start
    while cursor < end:
        length = 29 if month == 2 and _is_leap(year) else _MONTH_DAYS[month - 1]
        month_end = date(year, month, 1).toordinal() + length
        stop = month_end if month_end < end else end
        days[month - 1] += stop - cursor
        cursor = stop
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return days


@dataclass
class SeasonSums:
    """The least-squares sums of a dealership's segments (``add_car``), added up in any order."""

    xx: list[float] = field(default_factory=lambda: [0.0] * 144)  # sum of days * x_j * x_k, row-major
    xy: list[float] = field(default_factory=lambda: [0.0] * 12)  # sum of days * x_j * (ratio - 1)
    cars: int = 0
    car_days: list[float] = field(default_factory=lambda: [0.0] * 12)  # days observed in each month

    def add_car(self, readings: Iterable[tuple[int, int]]) -> bool:
        """Add one car's readings (day ordinal, km), any order; False when the car does not count."""
        by_day: dict[int, int] = {}
        for o, km in readings:
            kept = by_day.get(o)
            if kept is None or km < kept:
                by_day[o] = km
        points = sorted(by_day.items())
        segments = []
        for (prev_o, prev_km), (o, km) in zip(points, points[1:], strict=False):
            if km < prev_km:
                return False
            if o - prev_o < MIN_SEGMENT_DAYS:
                continue  # too short to count
            if km - prev_km > MAX_KM_PER_DAY * (o - prev_o):
                return False
            segments.append((prev_o, o, km - prev_km))
        if len(segments) < 2:
            return False
        total_days = sum(b - a for a, b, _ in segments)
        total_km = sum(km for _, _, km in segments)
        if total_days < MIN_CAR_DAYS or total_km <= 0:
            return False
        average = total_km / total_days
        rows = []
        car_share = [0.0] * 12
        for a, b, km in segments:
            ratio = km / (b - a) / average
            if ratio > MAX_RATIO:
                return False
            split = month_days(a, b)
            rows.append((b - a, split, ratio - 1.0))
            for j in range(12):
                car_share[j] += split[j]
        car_share = [c / total_days for c in car_share]
        xx, xy = self.xx, self.xy
        for days, split, y in rows:
            x = [split[j] / days - car_share[j] for j in range(12)]
            for j in range(12):
                wx = days * x[j]
                if wx == 0.0:
                    continue
                xy[j] += wx * y
                row = 12 * j
                for k in range(12):
                    xx[row + k] += wx * x[k]
            for j in range(12):
                self.car_days[j] += split[j]
        self.cars += 1
        return True


def learn_profile(cars: Iterable[Iterable[tuple[int, int]]], *, previous: Profile | None = None) -> Profile:
    """The profile of these cars' readings ((day ordinal, km) each), settled against ``previous``."""
    sums = SeasonSums()
    for readings in cars:
        sums.add_car(readings)
    return settled_profile(profile_from_sums(sums), previous)


def profile_from_sums(sums: SeasonSums) -> Profile:
    """The shrunk least-squares profile (the module's docstring), rounded, flat when it barely moves or
    fewer than ``MIN_CARS`` cars count."""
    if sums.cars < MIN_CARS:
        return FLAT
    ridge = SHRINK_CAR_MONTHS * _AVERAGE_MONTH_DAYS
    matrix = [[sums.xx[12 * j + k] + (ridge if j == k else 0.0) for k in range(12)] + [sums.xy[j]] for j in range(12)]
    deviation = _solve(matrix)
    # Only the differences between months are measured: the day-weighted mean is put at 1.0.
    multipliers = [1.0 + d for d in deviation]
    return _normalised(multipliers)


def _normalised(multipliers: Sequence[float]) -> Profile:
    floored = [max(MIN_MULTIPLIER, m) for m in multipliers]
    mean = sum(m * n for m, n in zip(floored, _MONTH_DAYS, strict=True)) / 365.0
    profile = tuple(round(m / mean, 2) for m in floored)
    if all(abs(m - 1.0) < FLAT_WITHIN for m in profile):
        return FLAT
    return profile


def _solve(matrix: list[list[float]]) -> list[float]:
    """Gaussian elimination with partial pivoting of an augmented n x (n + 1) system (positive definite)."""
    n = len(matrix)
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(matrix[r][col]))
        matrix[col], matrix[pivot] = matrix[pivot], matrix[col]
        head = matrix[col]
        for r in range(col + 1, n):
            factor = matrix[r][col] / head[col]
            if factor:
                row = matrix[r]
                for c in range(col, n + 1):
                    row[c] -= factor * head[c]
    result = [0.0] * n
    for r in range(n - 1, -1, -1):
        row = matrix[r]
        result[r] = (row[n] - sum(row[c] * result[c] for c in range(r + 1, n))) / row[r]
    return result


def settled_profile(new: Profile, previous: Profile | None) -> Profile:
    """``new``, unless every month is within ``SETTLE_WITHIN`` of ``previous`` (then ``previous``): a
    profile is one of every forecast's inputs, and one wobbling by 0.01 would re-plan the whole
    dealership each night."""
    if previous is None or len(previous) != 12:
        return new
    if all(abs(a - b) < SETTLE_WITHIN for a, b in zip(new, previous, strict=True)):
        return tuple(previous)
    return new


@lru_cache(maxsize=256)
def season_for(profile: Profile | None) -> Season | None:
    """The forecast's view of a profile; None for no profile or a flat one (the forecast then runs as
    without seasonality)."""
    if profile is None or all(m == 1.0 for m in profile):
        return None
    if len(profile) != 12 or not all(math.isfinite(m) and m > 0.0 for m in profile):
        raise ValueError("a seasonal profile is twelve positive multipliers")
    return Season(tuple(float(m) for m in profile))


class Season:
    """A profile as a clock of "driving days": ``driven(a, b)`` is how many average days of driving pass
    between ordinals ``a`` and ``b`` (floats: a fraction of a day counts at its month's multiplier), and
    ``reach(a, driving)`` the ordinal at which that many have passed after ``a``. Both are exact inverses
    and cost a bisection in a table of the months from 1900 to 2199 (a walk by month outside it)."""

    __slots__ = ("_cum", "_cum_leap", "_max", "_memo", "_mult", "_table_c", "_table_m", "_table_o", "_year", "profile")

    def __init__(self, profile: Profile) -> None:
        # Normalised so that a 400-year cycle has exactly as many driving days as days: a rate in km a
        # month stays the annual mean.
        leap_share = 97 / 400
        total = sum(m * n for m, n in zip(profile, _MONTH_DAYS, strict=True)) + leap_share * profile[1]
        scale = _YEAR_DAYS / total
        self.profile = profile
        self._mult = tuple(m * scale for m in profile)
        self._max = max(self._mult)
        self._cum = self._cumulative(False)
        self._cum_leap = self._cumulative(True)
        self._year = sum(m * n for m, n in zip(self._mult, _MONTH_DAYS, strict=True))  # a common year's days
        # Each month's first ordinal, driving days at its start, and multiplier, 1900 to 2199, plus the
        # ordinal closing the table.
        starts = [date(year, month, 1).toordinal() for year in range(_TABLE_FIRST, _TABLE_END) for month in range(1, 13)]
        starts.append(date(_TABLE_END, 1, 1).toordinal())
        self._table_o = starts
        self._table_c = [self._walked(o) for o in starts]
        self._table_m = [self._mult[k % 12] for k in range(len(starts))]
        self._memo: dict[int, float] = {}  # ``at`` of whole days, as asked for (at most one per day)

    def _cumulative(self, leap: bool) -> tuple[float, ...]:
        cum = [0.0]
        for j, m in enumerate(self._mult):
            cum.append(cum[-1] + m * (29 if leap and j == 1 else _MONTH_DAYS[j]))
        return tuple(cum)

    def _walked(self, t: float) -> float:
        """Driving days from 1 January of year 1 to ordinal ``t`` (ordinal 1 being that day)."""
        whole = math.floor(t)
        d = date.fromordinal(whole)
        y = d.year - 1
        leaps = y // 4 - y // 100 + y // 400
        cum = self._cum_leap if _is_leap(d.year) else self._cum
        m = self._mult[d.month - 1]
        return y * self._year + leaps * self._mult[1] + cum[d.month - 1] + (d.day - 1 + (t - whole)) * m

    @property
    def fastest(self) -> float:
        """The highest multiplier (as normalised): no span drives more than this many days a day."""
        return self._max

    def at(self, t: float) -> float:
        """Driving days from 1 January of year 1 to ordinal ``t``: ``driven(a, b)`` is ``at(b) - at(a)``."""
        if t.__class__ is int:
            c = self._memo.get(t)  # type: ignore[call-overload]
            if c is None:
                c = self._memo[t] = self._at(t)  # type: ignore[index]
            return c
        return self._at(t)

    def _at(self, t: float) -> float:
        starts = self._table_o
        if starts[0] <= t < starts[-1]:
            k = bisect_right(starts, t) - 1
            return self._table_c[k] + (t - starts[k]) * self._table_m[k]
        return self._walked(t)

    def at_days(self, ordinals: Iterable[int]) -> list[float]:
        """``at`` of each of these whole days."""
        memo = self._memo
        get = memo.get
        out = []
        for o in ordinals:
            c = get(o)
            if c is None:
                c = memo[o] = self._at(o)
            out.append(c)
        return out

    def driven(self, start: float, end: float) -> float:
        """Driving days from ``start`` to ``end`` (negative when ``end`` is before ``start``)."""
        return self.at(end) - self.at(start)

    def reach(self, start: float, driving: float) -> float:
        """The ordinal at which ``driving`` driving days have passed since ``start``."""
        if driving <= 0.0:
            return start
        c = self._memo.get(start)  # type: ignore[call-overload]  # a whole day's, as ``at`` stored it
        goal = (self.at(start) if c is None else c) + driving
        table = self._table_c
        if table[0] <= goal < table[-1]:
            k = bisect_right(table, goal) - 1
            end = self._table_o[k] + (goal - table[k]) / self._table_m[k]
            return end if end > start else start  # rounding, a few millionths of a day
        t = start + driving  # within a few weeks of the answer: start from its month
        d = date.fromordinal(max(1, min(date.max.toordinal(), math.floor(t))))
        year, month = d.year, d.month
        while True:
            first = date(year, month, 1).toordinal()
            base = self._walked(first)
            length = 29 if month == 2 and _is_leap(year) else _MONTH_DAYS[month - 1]
            m = self._mult[month - 1]
            if goal < base:
                month -= 1
                if month == 0:
                    year, month = year - 1, 12
                continue
            if goal >= base + length * m:
                month += 1
                if month == 13:
                    year, month = year + 1, 1
                continue
            end = first + (goal - base) / m
            return end if end > start else start

    def months(self, start: float, real_months: float) -> float:
        """Driving months in ``real_months`` months (of 30.4375 days) after ``start``."""
        return self.driven(start, start + real_months * MONTH_DAYS) / MONTH_DAYS

    def real_months(self, start: float, driving_months: float, within: float = math.inf) -> float:
        """Months (of 30.4375 days) after ``start`` in which ``driving_months`` of driving pass; inf when
        that is ``within`` months or more (never computed: a date past year 9999 is no error)."""
        if driving_months >= within * self._max:
            return math.inf
        return (self.reach(start, driving_months * MONTH_DAYS) - start) / MONTH_DAYS

