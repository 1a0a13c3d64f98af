"""Pure tests for customers.core.mileage: the rate, its interval and the prior (no database)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from customers.core.calendar import MONTH_DAYS
from customers.core.mileage import estimate_mileage
from customers.core.readings import Reading
from tests.customers.core.series import good_series
from tests.customers.core.strategies import TODAY, dates, priors
from tests.customers.core.strategies import readings as readings_strategy


def test_single_reading_gives_the_prior() -> None:
    # given
    readings = [Reading(date(2025, 3, 1), 12_000)]
    # when
    estimate = estimate_mileage(readings, today=TODAY, prior_km_per_month=900.0)
    # then
    assert estimate.km_per_month == 900.0
    assert estimate.source == "prior"
    assert estimate.prior_weight == 1.0
    assert (estimate.last_reading_on, estimate.last_odometer_km) == (date(2025, 3, 1), 12_000)



def test_without_a_prior_the_default_is_1250_km_a_month() -> None:
    # given
    readings = [Reading(date(2025, 3, 1), 12_000)]
    # when
    estimate = estimate_mileage(readings, today=TODAY)
    # then: 1,250 +- 1.645 * 50 %
    assert estimate.km_per_month == 1_250.0
    assert estimate.low_km_per_month == pytest.approx(221.966, abs=1e-3)
    assert estimate.high_km_per_month == pytest.approx(2_278.034, abs=1e-3)



def test_no_readings_gives_the_prior_and_no_odometer() -> None:
    # given
    readings: list[Reading] = []
    # when
    estimate = estimate_mileage(readings, today=TODAY)
    # then
    assert (estimate.km_per_month, estimate.source, estimate.last_reading_on) == (1_250.0, "prior", None)
    with pytest.raises(ValueError):
        estimate.odometer_on(TODAY)



def test_negative_prior_is_rejected() -> None:
    # given
    readings = [Reading(date(2025, 3, 1), 12_000)]
    # when / then
    with pytest.raises(ValueError):
        estimate_mileage(readings, today=TODAY, prior_km_per_month=-1.0)



def test_readings_spanning_under_30_days_lean_on_the_prior() -> None:
    # given: a sale at 0 km and 1,000 km ten days later (3,044 km/month)
    readings = [Reading(date(2026, 11, 1), 0), Reading(date(2026, 11, 11), 1_000)]
    # when
    estimate = estimate_mileage(readings, today=TODAY, prior_km_per_month=1_000.0)
    # then: the prior (8 days' weight) against 10 days of driving
    assert estimate.source == "blend"
    assert estimate.prior_weight == pytest.approx(0.4421, abs=1e-4)
    assert estimate.km_per_month == pytest.approx(2_140.2, abs=0.1)



def test_prior_fades_as_readings_accumulate() -> None:
    # given: 2,000 km a month every 30 days, prior 1,000
    start = date(2024, 1, 1)
    readings = [
        Reading(start + timedelta(days=30 * k), round(2_000 * 30 * k / MONTH_DAYS)) for k in range(25)
    ]
    # when
    estimates = [
        estimate_mileage(readings[: k + 1], today=TODAY, prior_km_per_month=1_000.0) for k in range(25)
    ]
    # then
    weights = [e.prior_weight for e in estimates]
    rates = [e.km_per_month for e in estimates]
    assert weights[0] == 1.0
    assert all(a > b for a, b in zip(weights, weights[1:], strict=False))
    assert all(a < b for a, b in zip(rates, rates[1:], strict=False))
    assert estimates[1].source == "blend"
    assert estimates[-1].source == "readings"
    assert rates[-1] == pytest.approx(2_000.0, rel=0.01)



def test_sale_reading_at_zero_km_is_a_real_reading() -> None:
    # given: a new car sold at 0 km, 3,000 km 60 days later
    readings = [Reading(date(2025, 1, 1), 0), Reading(date(2025, 3, 2), 3_000)]
    # when
    estimate = estimate_mileage(readings, today=TODAY, prior_km_per_month=1_250.0)
    # then
    assert estimate.used_readings == tuple(readings)
    assert estimate.flagged == ()
    assert estimate.km_per_month == pytest.approx(1_491.5, abs=0.1)



def test_readings_on_new_years_eve_and_new_years_day_form_a_one_day_segment() -> None:
    # given
    readings = [Reading(date(2025, 12, 31), 10_000), Reading(date(2026, 1, 1), 10_100)]
    # when
    estimate = estimate_mileage(readings, today=TODAY)
    # then: 100 km in one day = 3,043.75 km/month, mostly shrunk to the prior
    assert estimate.used_readings == tuple(readings)
    assert estimate.flagged == ()
    assert estimate.prior_weight == pytest.approx(8 / 9, abs=1e-4)
    assert estimate.km_per_month == pytest.approx(1_449.5, abs=0.1)
    assert estimate.odometer_on(date(2026, 1, 2)) == 10_148



def test_odometer_on_interpolates_and_extrapolates() -> None:
    # given
    readings = [Reading(date(2025, 1, 1), 0), Reading(date(2025, 7, 2), 9_000)]
    estimate = estimate_mileage(readings, today=TODAY)
    # when
    halfway = estimate.odometer_on(date(2025, 4, 2))
    last = estimate.odometer_on(date(2025, 7, 2))
    month_later = estimate.odometer_on(date(2025, 8, 2))
    before_sale = estimate.odometer_on(date(2024, 12, 1))
    # then
    assert estimate.km_per_month == pytest.approx(1_496.05, abs=0.01)
    assert (halfway, last, month_later, before_sale) == (4_500, 9_000, 10_524, 0)



def test_estimate_is_invariant_to_input_order() -> None:
    # given
    readings = [*good_series(), Reading(date(2025, 7, 15), 9_040, 99), Reading(date(2026, 5, 1), 15_000)]
    # when
    forward = estimate_mileage(readings, today=TODAY)
    backward = estimate_mileage(list(reversed(readings)), today=TODAY)
    # then
    assert forward == backward



def test_well_observed_steady_car_has_a_narrow_rate_interval() -> None:
    # given: the good series (about 1,500 km a month for 15 months)
    good = good_series()
    # when
    estimate = estimate_mileage(good, today=TODAY, prior_km_per_month=1_250.0)
    # then
    assert estimate.source == "readings"
    assert estimate.km_per_month == pytest.approx(1_507.1, abs=0.1)
    assert estimate.prior_weight == pytest.approx(0.0110, abs=1e-4)
    assert (estimate.low_km_per_month, estimate.high_km_per_month) == pytest.approx(
        (1_348.2, 1_666.0), abs=0.1
    )



@settings(max_examples=200, deadline=None)
@given(
    readings=st.lists(readings_strategy, min_size=1, max_size=15),
    today=dates,
    prior=priors,
    data=st.data(),
)
def test_estimate_is_invariant_to_reading_order(
    readings: list[Reading], today: date, prior: float | None, data: st.DataObject
) -> None:
    # given
    shuffled = data.draw(st.permutations(readings))
    # when
    a = estimate_mileage(readings, today=today, prior_km_per_month=prior)
    b = estimate_mileage(shuffled, today=today, prior_km_per_month=prior)
    # then
    assert a == b
