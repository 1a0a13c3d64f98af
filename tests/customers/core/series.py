"""Reading series shared by the pure tests of the estimator and of the cleaning."""

from __future__ import annotations

from datetime import date

from customers.core.readings import Reading


def good_series() -> list[Reading]:
    return [
        Reading(date(2025, 1, 15), 0, 1),
        Reading(date(2025, 4, 15), 4_500, 2),
        Reading(date(2025, 7, 15), 9_000, 3),
        Reading(date(2025, 10, 15), 13_600, 4),
        Reading(date(2026, 1, 15), 18_200, 5),
        Reading(date(2026, 4, 15), 22_600, 6),
    ]
