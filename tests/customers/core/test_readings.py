"""Pure tests for customers.core.readings: which readings are set aside, and why (no database)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from customers.core.calendar import MONTH_DAYS
from customers.core.mileage import MileageEstimate, estimate_mileage
from customers.core.readings import FlaggedReading, Reading
from tests.customers.core.series import good_series
from tests.customers.core.strategies import TODAY, clean_series


def _same_fit(a: MileageEstimate, b: MileageEstimate) -> bool:
    return (
        a.km_per_month == b.km_per_month
        and a.low_km_per_month == b.low_km_per_month
        and a.high_km_per_month == b.high_km_per_month
        and a.used_readings == b.used_readings
        and a.prior_weight == b.prior_weight
    )



def test_rollback_is_flagged_and_does_not_affect_the_estimate() -> None:
    # given: a good series plus a later reading below the last one
    good = good_series()
    rollback = Reading(date(2026, 5, 1), 15_000, 7)
    # when
    clean = estimate_mileage(good, today=TODAY)
    dirty = estimate_mileage([*good, rollback], today=TODAY)
    # then
    assert dirty.flagged == (FlaggedReading(rollback, "rollback"),)
    assert _same_fit(dirty, clean)



def test_digit_typo_in_the_middle_flags_only_the_typo() -> None:
    # given: 13,600 typed as 136,000 in the middle of a good series
    good = good_series()
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
    good = good_series()
    typo = Reading(date(2025, 7, 15), 900, 3)
    dirty_series = [*good[:2], typo, *good[3:]]
    # when
    dirty = estimate_mileage(dirty_series, today=TODAY)
    # then
    assert dirty.flagged == (FlaggedReading(typo, "rollback"),)
    assert len(dirty.used_readings) == 5



def test_typo_at_the_first_reading_is_flagged_not_the_series() -> None:
    # given: the sale reading typed as 45,000 instead of 0 (a used car would be consistent)
    good = good_series()
    typo = Reading(date(2025, 1, 15), 45_000, 1)
    # when
    dirty = estimate_mileage([typo, *good[1:]], today=TODAY)
    # then
    assert dirty.flagged == (FlaggedReading(typo, "implausible_jump"),)
    assert dirty.used_readings == tuple(good[1:])



def test_exact_duplicate_is_flagged_and_does_not_affect_the_estimate() -> None:
    # given: the same reading imported twice
    good = good_series()
    duplicate = Reading(date(2025, 7, 15), 9_000, 99)
    # when
    dirty = estimate_mileage([duplicate, *good], today=TODAY)
    # then
    assert dirty.flagged == (FlaggedReading(duplicate, "duplicate"),)
    assert _same_fit(dirty, estimate_mileage(good, today=TODAY))



def test_same_day_different_km_keeps_the_one_nearer_the_trend_and_flags_the_other() -> None:
    # given: 9,000 km and 9,900 km both read on 2025-07-15
    good = good_series()
    other = Reading(date(2025, 7, 15), 9_900, 99)
    # when
    dirty = estimate_mileage([*good, other], today=TODAY)
    # then
    assert dirty.flagged == (FlaggedReading(other, "duplicate"),)
    assert dirty.used_readings == tuple(good)



def test_future_reading_is_flagged_until_its_day_comes() -> None:
    # given
    good = good_series()
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
    good = good_series()
    negative = Reading(date(2025, 8, 1), -5, 7)
    # when
    dirty = estimate_mileage([*good, negative], today=TODAY)
    # then
    assert dirty.flagged == (FlaggedReading(negative, "negative"),)
    assert _same_fit(dirty, estimate_mileage(good, today=TODAY))



def test_flags_are_listed_by_date() -> None:
    # given
    good = good_series()
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



def test_a_dropped_typo_does_not_make_a_slowing_car_look_steady() -> None:
    # given: a car whose rate varies too much to call steady, then slows down; one middle reading has an
    # extra digit (found by the property below): dropping it merges two segments into one that looks steady
    days_km = [((2015, 1, 1), 0), ((2015, 1, 18), 2875), ((2015, 7, 17), 22343), ((2015, 7, 29), 23256),
               ((2015, 10, 24), 39562), ((2015, 12, 17), 41949)]
    series = [Reading(date(*day), km) for day, km in days_km]
    dirty = [*series[:2], Reading(series[2].read_on, 223430), *series[3:]]
    # when
    estimate = estimate_mileage(dirty, today=TODAY)
    # then: only the typo is flagged; the newest reading, a real slow-down, is kept
    assert estimate.flagged == (FlaggedReading(dirty[2], "implausible_jump"),)
    assert estimate.used_readings[-1] == series[-1]


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
