"""The managers' formulas (README "Figures"): retention and churn from counts, the first-year CLM
profit estimate, and the 95 % intervals the hold-out comparison shows. Pure: counts in, numbers out."""

from __future__ import annotations

import math

__all__ = ["churn_rate", "difference_interval", "is_proven", "profit_estimate", "retention_rate", "wilson_interval"]


def retention_rate(*, start_count: int, new_count: int, end_count: int) -> float | None:
    """CRR = (E − N) / S."""
    return None if start_count == 0 else (end_count - new_count) / start_count


def churn_rate(*, start_count: int, new_count: int, end_count: int) -> float | None:
    """Churn = (S + N − E) / S."""
    return None if start_count == 0 else (start_count + new_count - end_count) / start_count


def profit_estimate(*, customers: float, margin_service: float, margin_car: float,
                    live: float = 0.7, service_conversion: float = 0.07, repeat_conversion: float = 0.02) -> float:
    """First-year CLM profit Π = X · (a · b · Y + a · c · Z)."""
    return customers * (live * service_conversion * margin_service + live * repeat_conversion * margin_car)


def wilson_interval(successes: int, total: int, z: float = 1.959964) -> tuple[float, float] | None:
    """95 % Wilson score interval of a proportion."""
    if total == 0:
        return None
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def difference_interval(a: tuple[int, int], b: tuple[int, int]) -> tuple[float, float] | None:
    """Newcombe's hybrid score interval for p_a − p_b from the two Wilson intervals."""
    wa, wb = wilson_interval(*a), wilson_interval(*b)
    if wa is None or wb is None:
        return None
    pa, pb = a[0] / a[1], b[0] / b[1]
    low = (pa - pb) - math.sqrt((pa - wa[0]) ** 2 + (wb[1] - pb) ** 2)
    high = (pa - pb) + math.sqrt((wa[1] - pa) ** 2 + (pb - wb[0]) ** 2)
    return low, high


def is_proven(interval: tuple[float, float] | list[float] | None) -> bool:
    """A difference is proven (at 95 %) when its interval leaves out zero, on either side."""
    return interval is not None and (interval[0] > 0 or interval[1] < 0)
