"""Hypothesis strategies shared by the pure core's property tests."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

from customers.core.calendar import MONTH_DAYS
from customers.core.readings import Reading

TODAY = date(2026, 11, 22)
dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31))
readings = st.builds(
    Reading,
    read_on=dates,
    odometer_km=st.integers(min_value=-1_000, max_value=2_000_000),
    reading_id=st.one_of(st.none(), st.integers(min_value=1, max_value=50)),
)
priors = st.one_of(st.none(), st.floats(min_value=0.0, max_value=10_000.0))


@st.composite
def clean_series(draw: st.DrawFn, min_size: int = 2) -> list[Reading]:
    start = draw(st.dates(min_value=date(2015, 1, 1), max_value=date(2024, 12, 31)))
    km = draw(st.integers(min_value=0, max_value=200_000))
    n = draw(st.integers(min_value=min_size, max_value=10))
    out = [Reading(start, km)]
    day = start
    for _ in range(n - 1):
        gap = draw(st.integers(min_value=1, max_value=200))
        rate = draw(st.floats(min_value=0.0, max_value=6_000.0))
        day += timedelta(days=gap)
        km += int(rate * gap / MONTH_DAYS)
        out.append(Reading(day, km))
    return out
