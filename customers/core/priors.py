"""Mileage priors: the usual km a month of a model at a dealership, for cars with few readings (pure, stdlib only).

docs/forecast.md describes how the estimator leans on the prior; ``customers.forecasting`` counts the
medians (in the database on PostgreSQL) and ``customers.core.mileage`` uses the one that applies.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable

__all__ = ["PRIOR_SETTLE_KM", "median_priors", "prior_for", "priors_from_medians", "settled_priors"]

#: A prior moves only when its new median is this far (km a month) from the one in use.
PRIOR_SETTLE_KM = 100.0


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


def settled_priors(new: dict[str, float], previous: dict[str, float] | None) -> dict[str, float]:
    """The new priors, but each keeps its previous value while the new one is within ``PRIOR_SETTLE_KM``.

    A prior is one of every forecast's inputs (and in every vehicle's plan fingerprint): a median
    that crosses a 50-km rounding step back and forth as a few cars' estimates drift would otherwise
    re-plan all the group's vehicles on each crossing. Only a real move (two steps) changes it."""
    if not previous:
        return dict(new)
    settled = {}
    for key, value in new.items():
        old = previous.get(key)
        settled[key] = old if old is not None and abs(value - old) < PRIOR_SETTLE_KM else value
    return settled
