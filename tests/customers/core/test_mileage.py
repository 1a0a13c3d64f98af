"""Pure tests for customers.core.mileage (no database)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from customers.core.calendar import MONTH_DAYS
from customers.core.mileage import FlaggedReading, MileageEstimate, Reading, estimate_mileage
from tests.customers.core.strategies import TODAY, clean_series, dates, priors
from tests.customers.core.strategies import readings as readings_strategy


def _good_series() -> list[Reading]:
    return [
        Reading(date(2025, 1, 15), 0, 1),
        Reading(date(2025, 4, 15), 4_500, 2),
        Reading(date(2025, 7, 15), 9_000, 3),
        Reading(date(2025, 10, 15), 13_600, 4),
        Reading(date(2026, 1, 15), 18_200, 5),
        Reading(date(2026, 4, 15), 22_600, 6),
    ]


def _same_fit(a: MileageEstimate, b: MileageEstimate) -> bool:
    return (
        a.km_per_month == b.km_per_month
        and a.low_km_per_month == b.low_km_per_month
        and a.high_km_per_month == b.high_km_per_month
        and a.used_readings == b.used_readings
        and a.prior_weight == b.prior_weight
    )


# --------------------------------------------------------------------------- estimator


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


def test_readings_spanning_under_30_days_are_dominated_by_the_prior() -> None:
    # given: a sale at 0 km and 1,000 km ten days later (3,044 km/month)
    readings = [Reading(date(2026, 11, 1), 0), Reading(date(2026, 11, 11), 1_000)]
    # when
    estimate = estimate_mileage(readings, today=TODAY, prior_km_per_month=1_000.0)
    # then
    assert estimate.source == "blend"
    assert estimate.prior_weight == pytest.approx(0.6646, abs=1e-4)
    assert estimate.km_per_month == pytest.approx(1_685.6, abs=0.1)


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
    assert estimate.km_per_month == pytest.approx(1_456.8, abs=0.1)


def test_readings_on_new_years_eve_and_new_years_day_form_a_one_day_segment() -> None:
    # given
    readings = [Reading(date(2025, 12, 31), 10_000), Reading(date(2026, 1, 1), 10_100)]
    # when
    estimate = estimate_mileage(readings, today=TODAY)
    # then: 100 km in one day = 3,043.75 km/month, mostly shrunk to the prior
    assert estimate.used_readings == tuple(readings)
    assert estimate.flagged == ()
    assert estimate.prior_weight == pytest.approx(20 / 21, abs=1e-4)
    assert estimate.km_per_month == pytest.approx(1_335.5, abs=0.1)
    assert estimate.odometer_on(date(2026, 1, 2)) == 10_144


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
    assert estimate.km_per_month == pytest.approx(1_483.56, abs=0.01)
    assert (halfway, last, month_later, before_sale) == (4_500, 9_000, 10_511, 0)


def test_rollback_is_flagged_and_does_not_affect_the_estimate() -> None:
    # given: a good series plus a later reading below the last one
    good = _good_series()
    rollback = Reading(date(2026, 5, 1), 15_000, 7)
    # when
    clean = estimate_mileage(good, today=TODAY)
    dirty = estimate_mileage([*good, rollback], today=TODAY)
    # then
    assert dirty.flagged == (FlaggedReading(rollback, "rollback"),)
    assert _same_fit(dirty, clean)


def test_digit_typo_in_the_middle_flags_only_the_typo() -> None:
    # given: 13,600 typed as 136,000 in the middle of a good series
    good = _good_series()
    typo = Reading(date(2025, 10, 15), 136_000, 4)
    dirty_series = [*good[:3], typo, *good[4:]]
    without_it = [*good[:3], *good[4:]]
    # when
    dirty = estimate_mileage(dirty_series, today=TODAY)
    # then
    assert dirty.flagged == (FlaggedReading(typo, "implausible_jump"),)
    assert dirty.used_readings == tuple(without_it)
    assert _same_fit(dirty, estimate_mileage(without_it, today=TODAY))


def test_dropped_digit_in_the_middle_is_flagged_as_rollback_only() -> None:
    # given: 9,000 typed as 900
    good = _good_series()
    typo = Reading(date(2025, 7, 15), 900, 3)
    dirty_series = [*good[:2], typo, *good[3:]]
    # when
    dirty = estimate_mileage(dirty_series, today=TODAY)
    # then
    assert dirty.flagged == (FlaggedReading(typo, "rollback"),)
    assert len(dirty.used_readings) == 5


def test_typo_at_the_first_reading_is_flagged_not_the_series() -> None:
    # given: the sale reading typed as 45,000 instead of 0 (a used car would be consistent)
    good = _good_series()
    typo = Reading(date(2025, 1, 15), 45_000, 1)
    # when
    dirty = estimate_mileage([typo, *good[1:]], today=TODAY)
    # then
    assert dirty.flagged == (FlaggedReading(typo, "implausible_jump"),)
    assert dirty.used_readings == tuple(good[1:])


def test_exact_duplicate_is_flagged_and_does_not_affect_the_estimate() -> None:
    # given: the same reading imported twice
    good = _good_series()
    duplicate = Reading(date(2025, 7, 15), 9_000, 99)
    # when
    dirty = estimate_mileage([duplicate, *good], today=TODAY)
    # then
    assert dirty.flagged == (FlaggedReading(duplicate, "duplicate"),)
    assert _same_fit(dirty, estimate_mileage(good, today=TODAY))


def test_same_day_different_km_keeps_the_one_nearer_the_trend_and_flags_the_other() -> None:
    # given: 9,000 km and 9,900 km both read on 2025-07-15
    good = _good_series()
    other = Reading(date(2025, 7, 15), 9_900, 99)
    # when
    dirty = estimate_mileage([*good, other], today=TODAY)
    # then
    assert dirty.flagged == (FlaggedReading(other, "duplicate"),)
    assert dirty.used_readings == tuple(good)


def test_future_reading_is_flagged_until_its_day_comes() -> None:
    # given
    good = _good_series()
    future = Reading(date(2026, 12, 1), 30_000, 7)
    # when
    now = estimate_mileage([*good, future], today=TODAY)
    later = estimate_mileage([*good, future], today=date(2026, 12, 1))
    # then
    assert now.flagged == (FlaggedReading(future, "future"),)
    assert _same_fit(now, estimate_mileage(good, today=TODAY))
    assert later.flagged == ()
    assert later.last_odometer_km == 30_000


def test_negative_odometer_is_flagged() -> None:
    # given
    good = _good_series()
    negative = Reading(date(2025, 8, 1), -5, 7)
    # when
    dirty = estimate_mileage([*good, negative], today=TODAY)
    # then
    assert dirty.flagged == (FlaggedReading(negative, "negative"),)
    assert _same_fit(dirty, estimate_mileage(good, today=TODAY))


def test_flags_are_listed_by_date() -> None:
    # given
    good = _good_series()
    future = Reading(date(2027, 1, 1), 40_000)
    negative = Reading(date(2025, 2, 1), -1)
    rollback = Reading(date(2026, 5, 1), 1_000)
    # when
    dirty = estimate_mileage([future, rollback, *good, negative], today=TODAY)
    # then
    assert [(f.reading, f.reason) for f in dirty.flagged] == [
        (negative, "negative"),
        (rollback, "rollback"),
        (future, "future"),
    ]


def test_estimate_is_invariant_to_input_order() -> None:
    # given
    readings = [*_good_series(), Reading(date(2025, 7, 15), 9_040, 99), Reading(date(2026, 5, 1), 15_000)]
    # when
    forward = estimate_mileage(readings, today=TODAY)
    backward = estimate_mileage(list(reversed(readings)), today=TODAY)
    # then
    assert forward == backward


def test_well_observed_steady_car_has_a_narrow_rate_interval() -> None:
    # given: the good series (about 1,500 km a month for 15 months)
    good = _good_series()
    # when
    estimate = estimate_mileage(good, today=TODAY, prior_km_per_month=1_250.0)
    # then
    assert estimate.source == "readings"
    assert estimate.km_per_month == pytest.approx(1_503.0, abs=0.1)
    assert estimate.prior_weight == pytest.approx(0.0270, abs=1e-4)
    assert (estimate.low_km_per_month, estimate.high_km_per_month) == pytest.approx(
        (1_291.5, 1_714.4), abs=0.1
    )


# --------------------------------------------------------------------------- properties


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


@settings(max_examples=200, deadline=None)
@given(series=clean_series(min_size=4), data=st.data())
def test_one_digit_typo_flags_only_itself(series: list[Reading], data: st.DataObject) -> None:
    # given: a reading in the middle gets an extra digit
    k = data.draw(st.integers(min_value=1, max_value=len(series) - 2))
    good = series[k]
    assume(good.odometer_km >= 5_000)
    assume(estimate_mileage(series, today=max(TODAY, series[-1].read_on)).flagged == ())  # clean to start with
    typo = Reading(good.read_on, good.odometer_km * 10)
    assume(typo.odometer_km > series[-1].odometer_km)  # inconsistent with the readings after it
    dirty = [*series[:k], typo, *series[k + 1 :]]
    # when
    estimate = estimate_mileage(dirty, today=max(TODAY, series[-1].read_on))
    # then
    assert estimate.flagged == (FlaggedReading(typo, "implausible_jump"),)
    assert estimate.used_readings == tuple(series[:k] + series[k + 1 :])


# --------------------------------------------------------------------------- cleaning against the car's own rate


def _steady(km_per_month: float, count: int, start_km: int = 0) -> list[Reading]:
    start = date(2024, 1, 1)
    return [Reading(start + timedelta(days=45 * k), start_km + round(km_per_month * 45 * k / MONTH_DAYS))
            for k in range(count)]


def test_a_truck_at_20000_km_a_month_keeps_its_readings() -> None:
    # given
    readings = _steady(20_000.0, 6, start_km=100_000)
    # when: with the trucks' own prior, as production passes it
    estimate = estimate_mileage(readings, today=TODAY, prior_km_per_month=18_000.0)
    # then
    assert estimate.flagged == ()
    assert estimate.km_per_month == pytest.approx(20_000, rel=0.02)


@pytest.mark.parametrize(
    ("mistyped_km", "reasons"),
    [
        (65_524, {"swapped_digits"}),  # 56,524 with its first two digits swapped: 9,000 km in 45 days
        (565_247, {"implausible_jump", "extra_digit"}),
        (35_123, {"rollback", "miles_for_km"}),  # 56,524 km read as miles
    ],
)
def test_a_typo_in_the_newest_reading_is_set_aside(mistyped_km: int, reasons: set[str]) -> None:
    # given: a steady 1,500 km a month car whose newest reading (56,524 km) is mistyped
    good = _steady(1_500.0, 8, start_km=41_000)
    assert good[-1].odometer_km == 56_524
    bad = Reading(good[-1].read_on, mistyped_km)
    # when
    estimate = estimate_mileage([*good[:-1], bad], today=TODAY)
    # then
    assert [f.reading for f in estimate.flagged] == [bad]
    assert estimate.flagged[0].reason in reasons
    assert estimate.km_per_month == pytest.approx(1_500, rel=0.05)


def test_a_plausible_reading_in_miles_above_the_last_one_is_caught_by_the_cars_rate() -> None:
    # given: 1,500 km a month, then nothing for 15 months, and the next reading typed in miles
    good = _steady(1_500.0, 6)
    later = good[-1].read_on + timedelta(days=457)
    true_km = good[-1].odometer_km + round(1_500 * 457 / MONTH_DAYS)
    bad = Reading(later, round(true_km / 1.609344))
    assert bad.odometer_km > good[-1].odometer_km
    # when
    estimate = estimate_mileage([*good, bad], today=TODAY)
    # then
    assert estimate.flagged == (FlaggedReading(bad, "miles_for_km"),)


def test_one_bad_reading_among_ten_thousand_flags_only_itself() -> None:
    # given
    readings = [Reading(date(2000, 1, 1) + timedelta(days=k), 40 * k) for k in range(10_000)]
    readings[5_000] = Reading(readings[5_000].read_on, readings[5_000].odometer_km * 10)
    # when
    estimate = estimate_mileage(readings, today=date(2030, 1, 1))
    # then
    assert [f.reading for f in estimate.flagged] == [readings[5_000]]
    assert len(estimate.used_readings) == 9_999
