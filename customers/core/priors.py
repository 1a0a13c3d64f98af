"""Mileage priors: the usual km a month of a model at a dealership, for cars with few readings (pure, stdlib only).

docs/forecast.md describes how the priors are learned and how the estimator leans on them. They are
learned from the facts themselves (odometer readings, service visits' and sales' odometers), never
from stored forecasts, so a fresh database's first re-plan plans with the same priors as its second.
``customers.forecasting`` counts them (in the database on PostgreSQL, streamed elsewhere) and
``customers.core.mileage`` uses the one that applies.
"""

from __future__ import annotations

import statistics
from array import array
from collections.abc import Iterable
from datetime import date

from customers.core.calendar import MONTH_DAYS

__all__ = [
    "MIN_CARS",
    "MIN_SEGMENT_DAYS",
    "MIN_SPAN_DAYS",
    "PRIOR_SETTLE_KM",
    "SHRINK_CARS",
    "car_rate",
    "group_key",
    "latest_sale_kind",
    "median_priors",
    "prior_for",
    "priors_from_medians",
    "settled_priors",
]

#: A prior moves only when its new median is this far (km a month) from the one in use.
PRIOR_SETTLE_KM = 100.0

#: A car counts towards the priors when its facts (up to today) span this many days.
MIN_SPAN_DAYS = 60

#: A segment runs from a day with a fact to the first day at least this many days later.
MIN_SEGMENT_DAYS = 7

#: A group needs this many observed cars.
MIN_CARS = 5

#: A group's median leans towards its parent group's by this many cars' worth (``priors_from_medians``).
SHRINK_CARS = 20


def car_rate(facts: Iterable[tuple[date, int]]) -> float | None:
    """One car's own km a month from its facts (day, km): None when they span under ``MIN_SPAN_DAYS``.

    The lowest km of each day counts (a same-day duplicate typed with more km is left out). Each day
    with a fact starts a segment to the first day ``MIN_SEGMENT_DAYS`` or more later; the car's rate
    is the median of the segments' rates, so one mistyped reading (an extra digit, a rollback) moves
    it by one or two segments' places at most, not by its size. The caller passes only facts dated up
    to today (a reading dated years ahead says nothing about how the car drives)."""
    lowest: dict[int, int] = {}
    for day, km in facts:
        o = day.toordinal()
        if o not in lowest or km < lowest[o]:
            lowest[o] = km
    days = sorted(lowest.items())
    if len(days) < 2 or days[-1][0] - days[0][0] < MIN_SPAN_DAYS:
        return None
    rates = []
    j = 0
    for i, (o, km) in enumerate(days):
        j = max(j, i + 1)
        while j < len(days) and days[j][0] - o < MIN_SEGMENT_DAYS:
            j += 1
        if j == len(days):
            break
        o2, km2 = days[j]
        rates.append((km2 - km) * MONTH_DAYS / (o2 - o))
    return statistics.median(rates)


def latest_sale_kind(sales: Iterable[tuple[date, str]], today: date) -> str:
    """The kind of the latest sale (sold on, kind) on or before ``today`` ("new", "used", "trade_in"),
    "" when there is none. Of two sales on one day, the one given last counts (as the forecast's)."""
    latest: tuple[date, str] | None = None
    for sold_on, kind in sales:
        if sold_on <= today and (latest is None or sold_on >= latest[0]):
            latest = (sold_on, kind)
    return "" if latest is None else latest[1]


def group_key(dealership_id: int, make: str | None = None, model: str | None = None, kind: str | None = None) -> str:
    """A prior's key: ``"<dealership>|<make>|<model>|<kind>"``, ``"<dealership>|<make>|<model>"``,
    ``"<dealership>|<kind>"`` or ``"<dealership>"``."""
    if make is not None and model is not None:
        return f"{dealership_id}|{make}|{model}" + ("" if kind is None else f"|{kind}")
    return f"{dealership_id}" + ("" if kind is None else f"|{kind}")


def _keys(dealership_id: int, make: str, model: str, kind: str) -> tuple[str, ...]:
    """The groups a car counts in and the order a prior is looked for: model and kind, model, kind,
    dealership (a car with no sale, kind "", has no kind's groups)."""
    if not kind:
        return (group_key(dealership_id, make, model), group_key(dealership_id))
    return (group_key(dealership_id, make, model, kind), group_key(dealership_id, make, model),
            group_key(dealership_id, kind=kind), group_key(dealership_id))


def median_priors(observed: Iterable[tuple[int, str, str, str, float]], *, min_cars: int = MIN_CARS) -> dict[str, float]:
    """The median km a month per dealership + make + model + sale kind, dealership + make + model,
    dealership + sale kind and dealership, from (dealership id, make, model, kind of the latest sale,
    ``car_rate``) of each observed car. A group needs ``min_cars`` cars. Rounded to 50 km."""
    groups: dict[str, array[float]] = {}  # 8 bytes a car and group
    for dealership_id, make, model, kind, rate in observed:
        for key in _keys(dealership_id, make, model, kind):
            groups.setdefault(key, array("d")).append(rate)
    return priors_from_medians(
        [(key, len(values), statistics.median(values)) for key, values in groups.items()], min_cars=min_cars
    )


def priors_from_medians(groups: Iterable[tuple[str, int, float]], *, min_cars: int = MIN_CARS) -> dict[str, float]:
    """The priors from (key, cars, median km a month) per group, the key as ``group_key`` makes it. For
    medians counted in the database.

    A group's median leans towards its parent's (model and kind → model → dealership; kind →
    dealership) by ``SHRINK_CARS`` cars' worth: a small group's median is mostly noise (25 cars of a
    model bought used), a large one's stands on its own."""
    counted = {key: (cars, median) for key, cars, median in groups if cars >= min_cars}
    shrunk: dict[str, float] = {}

    def value(key: str) -> float:
        if key not in shrunk:
            cars, median = counted[key]
            parent = _parent(key)
            if parent is not None and parent in counted:
                median = (cars * median + SHRINK_CARS * value(parent)) / (cars + SHRINK_CARS)
            shrunk[key] = median
        return shrunk[key]

    return {key: _round50(value(key)) for key in counted}


def _parent(key: str) -> str | None:
    parts = key.split("|")
    if len(parts) == 4:
        return "|".join(parts[:3])
    if len(parts) in (2, 3):
        return parts[0]
    return None


def prior_for(priors: dict[str, float], *, dealership_id: int, make: str, model: str, kind: str = "") -> float | None:
    """The prior of the car's model and sale kind at the dealership, else of its model, else of its sale
    kind, else the dealership's, else None (the default applies)."""
    for key in _keys(dealership_id, make, model, kind):
        value = priors.get(key)
        if value:
            return value
    return None


def _round50(value: float) -> float:
    return float(round(value / 50) * 50)


def settled_priors(new: dict[str, float], previous: dict[str, float] | None) -> dict[str, float]:
    """The new priors, but each keeps its previous value while the new one is within ``PRIOR_SETTLE_KM``.

    A prior is one of every forecast's inputs (and in every vehicle's plan fingerprint): a median
    that crosses a 50-km rounding step back and forth as a few cars' new readings come in would
    otherwise re-plan all the group's vehicles on each crossing. Only a real move (two steps) changes it."""
    if not previous:
        return dict(new)
    settled = {}
    for key, value in new.items():
        old = previous.get(key)
        settled[key] = old if old is not None and abs(value - old) < PRIOR_SETTLE_KM else value
    return settled
