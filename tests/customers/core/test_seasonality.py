"""Pure tests for customers.core.seasonality and its use in the forecast (no database)."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from customers.core.calendar import MONTH_DAYS
from customers.core.forecast import Interval, Sale, forecast_vehicle, habit_stamps, replay_maintenance
from customers.core.mileage import estimate_mileage
from customers.core.readings import Reading
from customers.core.seasonality import (
    FLAT,
    MIN_CARS,
    SeasonSums,
    learn_profile,
    month_days,
    profile_from_sums,
    season_for,
    settled_profile,
)
from tests.customers.core.strategies import TODAY, clean_series, priors, readings

SUMMER = (0.7, 0.75, 0.87, 1.05, 1.22, 1.35, 1.4, 1.35, 1.22, 1.05, 0.87, 0.74)


def _rate_on(day: date, amplitude: float) -> float:
    """A day's multiplier: +amplitude in mid-July, -amplitude in mid-January."""
    return 1.0 + amplitude * math.cos((day.timetuple().tm_yday - 196) / 365.25 * 2 * math.pi)


def _car(rng: random.Random, amplitude: float, start: date, *, readings: int = 7) -> list[tuple[int, int]]:
    """One car's readings (ordinal, km): a few months to a year apart, driven at its own rate and season."""
    per_day = rng.uniform(20.0, 80.0)
    day, km = start, 0.0
    out = [(day.toordinal(), 0)]
    for _ in range(readings - 1):
        gap = rng.randint(40, 330)
        for _ in range(gap):
            km += per_day * _rate_on(day, amplitude) * rng.uniform(0.9, 1.1)
            day += timedelta(days=1)
        out.append((day.toordinal(), round(km)))
    return out


def _fleet(seed: int, cars: int, amplitude: float) -> list[list[tuple[int, int]]]:
    rng = random.Random(seed)
    return [_car(rng, amplitude, date(2019, 1, 1) + timedelta(days=rng.randint(0, 900))) for _ in range(cars)]


# --------------------------------------------------------------------------- learning


def test_month_days_counts_each_calendar_month_over_the_years() -> None:
    start, end = date(2023, 12, 30).toordinal(), date(2025, 2, 2).toordinal()
    days = month_days(start, end)
    assert sum(days) == end - start
    assert days[0] == 31 + 31  # January 2024 and January 2025
    assert days[1] == 29 + 1  # February 2024 (leap) and 1 February 2025
    assert days[11] == 31 + 2  # December 2024 and the last two days of 2023


def test_a_flat_fleet_learns_a_flat_profile() -> None:
    # given: 400 cars driving the same all year round (± 10 % a day)
    # when
    profile = learn_profile(_fleet(1, 400, 0.0))
    # then
    assert profile == FLAT


def test_a_seasonal_fleet_learns_its_shape() -> None:
    # given: 400 cars driving 35 % more in mid-July and 35 % less in mid-January
    # when
    profile = learn_profile(_fleet(2, 400, 0.35))
    # then: every month within 0.1 of the truth, July the highest and January the lowest
    truth = [_rate_on(date(2025, month, 15), 0.35) for month in range(1, 13)]
    assert all(abs(p - t) < 0.1 for p, t in zip(profile, truth, strict=True)), profile
    assert max(range(12), key=lambda j: profile[j]) in (5, 6, 7)
    assert min(range(12), key=lambda j: profile[j]) in (0, 1, 11)
    # multipliers average 1.0 over the days of the year
    mean = sum(p * d for p, d in zip(profile, (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), strict=True)) / 365
    assert abs(mean - 1.0) < 0.01


def test_few_cars_leave_the_profile_flat() -> None:
    # given: the same strong season (± 35 %), seen by 4 cars, then by 29 (under MIN_CARS)
    # when
    four, few = learn_profile(_fleet(3, 4, 0.35)), learn_profile(_fleet(3, MIN_CARS - 1, 0.35))
    # then
    assert four == few == FLAT


def test_the_shrinkage_moves_little_data_little() -> None:
    # given: four cars' sums, counted as if they were a dealership's
    sums = SeasonSums()
    for car in _fleet(3, 4, 0.35):
        sums.add_car(car)
    sums.cars = MIN_CARS
    # when
    profile = profile_from_sums(sums)
    # then: every month moved by under a quarter of the season
    assert all(abs(m - 1.0) < 0.08 for m in profile), profile


def test_the_profile_grows_with_the_data() -> None:
    # given: the same season seen by 30, 100 and 400 cars
    # when
    july = [learn_profile(_fleet(4, cars, 0.35))[6] for cars in (40, 100, 400)]
    # then: each step moves July further from 1.0 (the shrinkage fades)
    assert 1.0 <= july[0] < july[1] < july[2]


def test_cars_that_do_not_count_are_left_out() -> None:
    sums = SeasonSums()
    assert not sums.add_car([])
    assert not sums.add_car([(738000, 0), (738100, 3000)])  # one segment: nothing to compare with
    assert not sums.add_car([(738000, 0), (738100, 3000), (738200, 2000)])  # goes down
    assert not sums.add_car([(738000, 0), (738100, 3000), (738200, 3_000_000)])  # a typo, not a season
    assert not sums.add_car([(738000, 0), (738100, 1000), (738200, 2000), (738300, 3000), (738400, 4000), (738500, 20000)])  # 4 x
    assert not sums.add_car([(738000, 0), (738050, 3000), (738100, 6000)])  # under 180 days
    assert sums.cars == 0
    assert profile_from_sums(sums) == FLAT


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
def test_the_profile_does_not_depend_on_the_order_of_cars_or_readings(rnd: random.Random) -> None:
    cars = _fleet(5, 150, 0.3)
    shuffled = [list(car) for car in cars]
    for car in shuffled:
        rnd.shuffle(car)
    rnd.shuffle(shuffled)
    assert learn_profile(shuffled) == learn_profile(cars)


def test_a_profile_that_barely_moved_stays_as_it_was() -> None:
    previous = SUMMER
    wobble = tuple(round(m + (0.02 if j % 2 else -0.02), 2) for j, m in enumerate(SUMMER))
    moved = tuple(round(m + (0.05 if j == 6 else 0.0), 2) for j, m in enumerate(SUMMER))
    assert settled_profile(wobble, previous) == previous
    assert settled_profile(moved, previous) == moved
    assert settled_profile(moved, None) == moved
    assert settled_profile(FLAT, SUMMER) == FLAT


# --------------------------------------------------------------------------- the season's clock


@settings(max_examples=200, deadline=None)
@given(
    start=st.floats(min_value=date(1990, 1, 1).toordinal(), max_value=date(2040, 1, 1).toordinal()),
    driving=st.floats(min_value=0.0, max_value=4000.0),
)
def test_reach_is_the_inverse_of_driven(start: float, driving: float) -> None:
    season = season_for(SUMMER)
    assert season is not None
    end = season.reach(start, driving)
    assert end >= start
    assert math.isclose(season.driven(start, end), driving, abs_tol=1e-6)


def test_a_year_of_driving_days_is_a_year_on_average() -> None:
    season = season_for(SUMMER)
    assert season is not None
    assert math.isclose(season.driven(date(2000, 1, 1).toordinal(), date(2400, 1, 1).toordinal()), 400 * 365.2425)
    # July counts 1.4 / 0.7 = twice January
    july = season.driven(date(2025, 7, 1).toordinal(), date(2025, 8, 1).toordinal())
    january = season.driven(date(2025, 1, 1).toordinal(), date(2025, 2, 1).toordinal())
    assert math.isclose(july / january, 2.0)


def test_a_flat_profile_is_no_season() -> None:
    assert season_for(FLAT) is None
    assert season_for(None) is None


# --------------------------------------------------------------------------- in the forecast

_INTERVAL = Interval(15_000, 12, first_km=7_500, first_months=6)


@settings(max_examples=300, deadline=None)
@given(
    series=st.one_of(clean_series(), st.lists(readings, max_size=8)),
    prior=priors,
    visits=st.integers(min_value=0, max_value=3),
)
def test_a_flat_profile_forecasts_exactly_as_none(series: list[Reading], prior: float | None, visits: int) -> None:
    # given: any vehicle, sold at its first reading, serviced at some of the later ones
    ordered = sorted(series, key=lambda r: (r.read_on, r.odometer_km))
    sold = ordered[0].read_on if ordered else date(2024, 1, 1)
    maintenance = [(r.read_on, max(0, r.odometer_km)) for r in ordered[1 : 1 + visits] if r.read_on > sold]
    facts = {
        "readings": series, "sales": [Sale(sold, "new", 0)], "maintenance": maintenance, "interval": _INTERVAL,
        "prior_km_per_month": prior, "today": TODAY,
    }
    # when
    try:
        plain = forecast_vehicle(**facts)  # type: ignore[arg-type]
    except (OverflowError, ValueError):  # a date past year 9999: the same with a flat profile
        return
    flat = forecast_vehicle(**facts, seasonality=FLAT)  # type: ignore[arg-type]
    # then
    assert flat == plain
    if plain is not None:
        assert flat is not None and flat.upcoming == plain.upcoming


def _seasonal_history(amplitude: float) -> tuple[list[Reading], date, int]:
    """A car sold on 1 March 2024 at 0 km, 1,250 km a month on average, read at its sale and every two
    months to 1 September 2024 (spring and summer), odometers following the season."""
    sold = date(2024, 3, 1)
    km, day = 0.0, sold
    out = [Reading(sold, 0)]
    while day < date(2024, 9, 1):
        km += 1250.0 / MONTH_DAYS * _rate_on(day, amplitude)
        day += timedelta(days=1)
        if day.day == 1 and day.month % 2 == 1:
            out.append(Reading(day, round(km)))
    return out, sold, round(km)


def test_a_summer_segment_is_worth_less_than_its_raw_rate() -> None:
    # given: a spring and summer of a seasonal car, seen against its season
    history, _sold, _km = _seasonal_history(0.35)
    season = season_for(tuple(round(_rate_on(date(2025, m, 15), 0.35), 2) for m in range(1, 13)))
    # when
    raw = estimate_mileage(history, today=date(2024, 9, 2), prior_km_per_month=1250.0)
    deseasonalised = estimate_mileage(history, today=date(2024, 9, 2), prior_km_per_month=1250.0, season=season)
    # then: the raw rate is the summer's (about 1,550 km a month), the seasonal one the year's mean
    assert raw.km_per_month > 1_450
    assert abs(deseasonalised.km_per_month - 1_250) < 60
    assert deseasonalised.odometer_on(date(2025, 3, 1), season) < raw.odometer_on(date(2025, 3, 1))


def test_the_season_moves_the_km_limit_to_where_the_car_really_reaches_it() -> None:
    # given: a new car sold on 1 March 2024, first service at 7,500 km / 6 months, driven with the season
    history, sold, _km = _seasonal_history(0.35)
    profile = tuple(round(_rate_on(date(2025, m, 15), 0.35), 2) for m in range(1, 13))
    true_due = sold
    km = 0.0
    while km < 7_500:
        km += 1250.0 / MONTH_DAYS * _rate_on(true_due, 0.35)
        true_due += timedelta(days=1)
    facts = {"readings": history[:2], "sales": [Sale(sold, "new", 0)], "maintenance": [], "interval": _INTERVAL,
             "prior_km_per_month": 1250.0, "today": date(2024, 5, 2)}
    # when
    plain = forecast_vehicle(**facts)  # type: ignore[arg-type]
    seasonal = forecast_vehicle(**facts, seasonality=profile)  # type: ignore[arg-type]
    # then: the seasonal forecast is closer to the true day, and its projected odometers follow the season
    assert plain is not None and seasonal is not None
    assert abs((seasonal.due.due_on - true_due).days) < abs((plain.due.due_on - true_due).days)
    assert abs((seasonal.due.due_on - true_due).days) <= 7
    assert len(seasonal.upcoming_due_dates) == len(seasonal.upcoming) >= 2
    assert [d.due_on for d in seasonal.upcoming[1:]] == list(seasonal.upcoming_due_dates[1:])


def test_replaying_with_a_profile_uses_it_and_stamps_it() -> None:
    # given: a car with three services
    history, sold, _km = _seasonal_history(0.35)
    visits = [(r.read_on, r.odometer_km) for r in history[2:]]
    facts = {"readings": history, "sales": [Sale(sold, "new", 0)], "maintenance": visits, "interval": _INTERVAL,
             "prior_km_per_month": 1250.0}
    # when
    plain = replay_maintenance(**facts)  # type: ignore[arg-type]
    seasonal = replay_maintenance(**facts, seasonality=SUMMER)  # type: ignore[arg-type]
    # then: the replay differs with the profile; a visit's stamp changes with a profile, not with a flat one
    assert [f.due.due_on for *_, f in plain] != [f.due.due_on for *_, f in seasonal]
    stamps = {name: habit_stamps(**facts, seasonality=profile)  # type: ignore[arg-type]
              for name, profile in (("none", None), ("flat", FLAT), ("summer", SUMMER))}
    assert stamps["flat"] == stamps["none"]
    assert all(a != b for a, b in zip(stamps["summer"], stamps["none"], strict=True))
