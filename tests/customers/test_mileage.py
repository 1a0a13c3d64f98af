"""Pure tests for customers.mileage (no database)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from customers.mileage import (
    MONTH_DAYS,
    BacktestResult,
    FlaggedReading,
    MaintenanceDue,
    MaintenanceVisit,
    MileageEstimate,
    Reading,
    VehicleHistory,
    add_months,
    adjust_for_habit,
    backtest,
    baseline_last_two_readings,
    baseline_previous_plus_interval,
    estimate_mileage,
    next_maintenance_due,
    project_maintenance_due_dates,
)

TODAY = date(2026, 11, 22)


def _due(
    rate: float,
    *,
    on: date = date(2024, 1, 15),
    km: int = 0,
    today: date = date(2024, 2, 1),
    **kwargs: int,
) -> tuple[date, str, int]:
    due = next_maintenance_due(
        estimate=MileageEstimate.from_rate(rate),
        last_maintenance_on=on,
        last_maintenance_km=km,
        interval_km=kwargs.pop("interval_km", 15_000),
        interval_months=kwargs.pop("interval_months", 12),
        today=today,
        **kwargs,
    )
    return due.due_on, due.driver, due.due_odometer_km


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


# --------------------------------------------------------------------------- add_months


def test_add_months_clamps_january_31_to_february_29_in_a_leap_year() -> None:
    # given
    day = date(2024, 1, 31)
    # when
    result = add_months(day, 1)
    # then
    assert result == date(2024, 2, 29)


def test_add_months_across_year_end_clamps_to_february_28() -> None:
    # given
    new_years_eve = date(2025, 12, 31)
    # when
    two_later = add_months(new_years_eve, 2)
    three_after_november_30 = add_months(date(2025, 11, 30), 3)
    # then
    assert two_later == date(2026, 2, 28)
    assert three_after_november_30 == date(2026, 2, 28)


def test_add_months_crosses_year_end_forwards_and_backwards() -> None:
    # given
    day = date(2025, 12, 31)
    # when
    forward = add_months(day, 1)
    backward = add_months(date(2026, 1, 15), -1)
    leap_day_next_year = add_months(date(2024, 2, 29), 12)
    # then
    assert forward == date(2026, 1, 31)
    assert backward == date(2025, 12, 15)
    assert leap_day_next_year == date(2025, 2, 28)


def test_add_months_negative_clamps_to_leap_february() -> None:
    # given
    day = date(2024, 3, 31)
    # when
    result = add_months(day, -1)
    # then
    assert result == date(2024, 2, 29)


# --------------------------------------------------------------------------- due dates


def test_due_by_mileage_at_2000_km_a_month_is_august_30() -> None:
    # given: bought 2024-01-15 at 0 km, 15,000 km / 12 months, 2,000 km a month
    # when: 7.5 months -> 2024-08-15 + floor(0.5 * 30.4375) days
    result = _due(2_000.0)
    # then
    assert result == (date(2024, 8, 30), "km", 15_000)


def test_due_by_time_at_1000_km_a_month_is_january_15() -> None:
    # given: bought 2024-01-15 at 0 km, 1,000 km a month
    # when
    result = _due(1_000.0)
    # then: 15 months by km, 12 months by time; odometer then 12,000 km
    assert result == (date(2025, 1, 15), "time", 12_000)


def test_due_when_km_and_time_limits_coincide_is_driven_by_time() -> None:
    # given: 1,250 km a month reaches 15,000 km after exactly 12 months
    # when
    result = _due(1_250.0)
    # then
    assert result == (date(2025, 1, 15), "time", 15_000)


def test_due_at_zero_km_a_month_falls_back_to_the_time_limit() -> None:
    # given
    rate = 0.0
    # when
    result = _due(rate, on=date(2024, 1, 31), km=5_000)
    # then
    assert result == (date(2025, 1, 31), "time", 5_000)


def test_due_interval_is_the_point_plus_the_behavioural_margin_for_an_exact_rate() -> None:
    # given
    estimate = MileageEstimate.from_rate(2_000.0)
    # when
    due = next_maintenance_due(
        estimate=estimate,
        last_maintenance_on=date(2024, 1, 15),
        last_maintenance_km=0,
        interval_km=15_000,
        interval_months=12,
        today=date(2024, 2, 1),
    )
    # then
    assert (due.earliest_on, due.latest_on) == (date(2024, 8, 16), date(2024, 9, 13))
    assert due.interval_number == 1
    assert due.is_overdue is False


def test_due_interval_uses_the_rate_interval_capped_by_the_time_limit() -> None:
    # given: 1,500 km/month, between 1,000 and 2,500
    estimate = MileageEstimate.from_rate(1_500.0, low_km_per_month=1_000.0, high_km_per_month=2_500.0)
    # when
    due = next_maintenance_due(
        estimate=estimate,
        last_maintenance_on=date(2025, 1, 15),
        last_maintenance_km=0,
        interval_km=15_000,
        interval_months=12,
        today=date(2025, 2, 1),
        margin_days=10,
    )
    # then: 6 months at the high rate, capped at 12 months at the low rate, +-10 days
    assert due.due_on == date(2025, 11, 15)
    assert (due.earliest_on, due.latest_on) == (date(2025, 7, 5), date(2026, 1, 25))


def test_due_counts_from_the_latest_reading_after_the_maintenance() -> None:
    # given: maintenance 2025-01-15 at 10,000 km, a reading 151 days later at 17,000 km
    estimate = MileageEstimate(
        1_500.0,
        1_500.0,
        1_500.0,
        date(2025, 6, 15),
        17_000,
        (Reading(date(2025, 1, 15), 10_000), Reading(date(2025, 6, 15), 17_000)),
        (),
        0.0,
        "readings",
    )
    # when: 151 / 30.4375 + 8,000 / 1,500 = 10.294 months -> 2025-11-15 + 8 days
    due = next_maintenance_due(
        estimate=estimate,
        last_maintenance_on=date(2025, 1, 15),
        last_maintenance_km=10_000,
        interval_km=15_000,
        interval_months=12,
        today=date(2025, 7, 1),
    )
    # then
    assert (due.due_on, due.driver, due.due_odometer_km) == (date(2025, 11, 23), "km", 25_000)


def test_due_already_passed_by_the_readings_is_interpolated_and_overdue() -> None:
    # given: sold 2024-01-15 at 0 km, 32,000 km after 487 days (16 months of 30.4375 days)
    readings = [Reading(date(2024, 1, 15), 0), Reading(date(2024, 1, 15) + timedelta(days=487), 32_000)]
    estimate = estimate_mileage(readings, today=TODAY, prior_km_per_month=2_000.0)
    # when: 15,000 km were reached after 7.5 months
    due = next_maintenance_due(
        estimate=estimate,
        last_maintenance_on=date(2024, 1, 15),
        last_maintenance_km=0,
        interval_km=15_000,
        interval_months=12,
        today=TODAY,
    )
    # then
    assert estimate.km_per_month == pytest.approx(2_000.0)
    assert (due.due_on, due.driver, due.due_odometer_km) == (date(2024, 8, 30), "km", 15_000)
    assert due.is_overdue is True


def test_overdue_vehicle_is_flagged_and_its_date_is_not_moved() -> None:
    # given: last maintenance 2025-01-10, 500 km a month, today 2026-11-22
    # when
    due = next_maintenance_due(
        estimate=MileageEstimate.from_rate(500.0),
        last_maintenance_on=date(2025, 1, 10),
        last_maintenance_km=20_000,
        interval_km=15_000,
        interval_months=12,
        today=TODAY,
    )
    # then
    assert (due.due_on, due.driver, due.due_odometer_km) == (date(2026, 1, 10), "time", 26_000)
    assert due.is_overdue is True


def test_due_today_is_not_overdue() -> None:
    # given
    today = date(2025, 1, 15)
    # when
    due = next_maintenance_due(
        estimate=MileageEstimate.from_rate(500.0),
        last_maintenance_on=date(2024, 1, 15),
        last_maintenance_km=0,
        interval_km=15_000,
        interval_months=12,
        today=today,
    )
    # then
    assert due.due_on == today
    assert due.is_overdue is False


def test_first_maintenance_uses_its_own_interval() -> None:
    # given: first service after 7,500 km / 6 months, then 15,000 km / 12 months
    # when
    first = _due(1_000.0, maintenances_done=0, first_interval_km=7_500, first_interval_months=6)
    later = _due(1_000.0, maintenances_done=1, first_interval_km=7_500, first_interval_months=6)
    # then
    assert first == (date(2024, 7, 15), "time", 6_000)
    assert later == (date(2025, 1, 15), "time", 12_000)


def test_interval_number_counts_maintenances_done() -> None:
    # given
    done = 2
    # when
    due = next_maintenance_due(
        estimate=MileageEstimate.from_rate(1_500.0),
        last_maintenance_on=date(2025, 1, 15),
        last_maintenance_km=30_000,
        interval_km=15_000,
        interval_months=12,
        today=date(2025, 2, 1),
        maintenances_done=done,
    )
    # then
    assert due.interval_number == 3


def test_non_positive_interval_is_rejected() -> None:
    # given
    estimate = MileageEstimate.from_rate(1_500.0)
    # when / then
    with pytest.raises(ValueError):
        next_maintenance_due(
            estimate=estimate,
            last_maintenance_on=date(2025, 1, 15),
            last_maintenance_km=0,
            interval_km=0,
            interval_months=12,
            today=TODAY,
        )


# --------------------------------------------------------------------------- projection


def test_reference_vehicle_projects_four_maintenances_ten_months_apart() -> None:
    # given: sold 2025-01-15 at 0 km, 1,500 km/month, 15,000 km / 12 months
    estimate = MileageEstimate.from_rate(1_500.0)
    # when
    dues = project_maintenance_due_dates(
        estimate=estimate,
        start_on=date(2025, 1, 15),
        start_km=0,
        interval_km=15_000,
        interval_months=12,
        until=date(2028, 5, 15),
        today=TODAY,
    )
    # then
    assert [(d.due_on, d.driver, d.due_odometer_km, d.interval_number) for d in dues] == [
        (date(2025, 11, 15), "km", 15_000, 1),
        (date(2026, 9, 15), "km", 30_000, 2),
        (date(2027, 7, 15), "km", 45_000, 3),
        (date(2028, 5, 15), "km", 60_000, 4),
    ]
    assert [d.is_overdue for d in dues] == [True, True, False, False]


def test_projection_stops_before_the_horizon() -> None:
    # given
    estimate = MileageEstimate.from_rate(1_500.0)
    # when
    dues = project_maintenance_due_dates(
        estimate=estimate,
        start_on=date(2025, 1, 15),
        start_km=0,
        interval_km=15_000,
        interval_months=12,
        until=date(2028, 5, 14),
        today=TODAY,
    )
    # then
    assert [d.due_on for d in dues] == [date(2025, 11, 15), date(2026, 9, 15), date(2027, 7, 15)]


def test_projection_uses_the_first_interval_then_the_regular_one() -> None:
    # given: first service at 7,500 km / 6 months
    estimate = MileageEstimate.from_rate(1_500.0)
    # when
    dues = project_maintenance_due_dates(
        estimate=estimate,
        start_on=date(2025, 1, 15),
        start_km=0,
        interval_km=15_000,
        interval_months=12,
        until=date(2027, 12, 31),
        today=TODAY,
        first_interval_km=7_500,
        first_interval_months=6,
    )
    # then
    assert [(d.due_on, d.due_odometer_km) for d in dues] == [
        (date(2025, 6, 15), 7_500),
        (date(2026, 4, 15), 22_500),
        (date(2027, 2, 15), 37_500),
        (date(2027, 12, 15), 52_500),
    ]


def test_projection_intervals_widen_with_each_maintenance() -> None:
    # given
    estimate = MileageEstimate.from_rate(1_500.0, low_km_per_month=1_250.0, high_km_per_month=2_000.0)
    # when
    dues = project_maintenance_due_dates(
        estimate=estimate,
        start_on=date(2025, 1, 15),
        start_km=0,
        interval_km=15_000,
        interval_months=12,
        until=date(2028, 5, 15),
        today=TODAY,
        margin_days=0,
    )
    # then: high-rate chain every 7.5 months, low-rate chain every 12 months
    assert [(d.earliest_on, d.latest_on) for d in dues] == [
        (date(2025, 8, 30), date(2026, 1, 15)),
        (date(2026, 4, 14), date(2027, 1, 15)),
        (date(2026, 11, 29), date(2028, 1, 15)),
        (date(2027, 7, 14), date(2029, 1, 15)),
    ]


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


# --------------------------------------------------------------------------- baselines


def test_previous_plus_interval_baseline_uses_calendar_months() -> None:
    # given
    last = date(2024, 1, 31)
    # when
    result = baseline_previous_plus_interval(last, 1)
    # then
    assert result == date(2024, 2, 29)


def test_last_two_readings_baseline_uses_only_the_last_two() -> None:
    # given: 4,000 km in 61 days = 1,995.9 km/month; the reading is 3.975 months in
    readings = [
        Reading(date(2024, 5, 15), 8_000),
        Reading(date(2024, 1, 15), 0),
        Reading(date(2024, 3, 15), 4_000),
    ]
    # when: 3.975 + 7,000 / 1,995.9 = 7.483 months -> 2024-08-15 + 14 days
    result = baseline_last_two_readings(
        readings,
        last_maintenance_on=date(2024, 1, 15),
        last_maintenance_km=0,
        interval_km=15_000,
        interval_months=12,
    )
    # then
    assert result == date(2024, 8, 29)


def test_last_two_readings_baseline_falls_back_to_time_with_one_reading() -> None:
    # given
    readings = [Reading(date(2024, 5, 15), 8_000)]
    # when
    result = baseline_last_two_readings(
        readings,
        last_maintenance_on=date(2024, 1, 15),
        last_maintenance_km=0,
        interval_km=15_000,
        interval_months=12,
    )
    # then
    assert result == date(2025, 1, 15)


# --------------------------------------------------------------------------- backtest


def _history() -> VehicleHistory:
    return VehicleHistory(
        readings=(
            Reading(date(2024, 5, 15), 6_000),
            Reading(date(2024, 9, 15), 12_000),
            Reading(date(2025, 3, 15), 21_000),
        ),
        maintenances=(
            MaintenanceVisit(date(2025, 9, 10), 30_100),
            MaintenanceVisit(date(2024, 11, 20), 15_200),
        ),
        interval_km=15_000,
        interval_months=12,
        sold_on=date(2024, 1, 15),
        sale_km=0,
        prior_km_per_month=1_250.0,
    )


def test_backtest_reports_model_and_baselines() -> None:
    # given: a steady ~1,500 km/month car with two maintenance visits;
    # the model predicts 2024-11-16 (actual 11-20) and 2025-09-16 (actual 09-10)
    history = _history()
    # when
    result = backtest([history])
    # then
    assert isinstance(result, BacktestResult)
    assert result.to_dict() == {
        "visits": 2,
        "within_14_days": 1.0,
        "within_30_days": 1.0,
        "median_abs_error_days": 5.0,
        "inside_interval": 1.0,
        "median_interval_days": 71.0,
        "baselines": {
            "previous_plus_interval": {
                "visits": 2,
                "within_14_days": 0.0,
                "within_30_days": 0.0,
                "median_abs_error_days": 63.5,
                "inside_interval": None,
            },
            "last_two_readings": {
                "visits": 2,
                "within_14_days": 1.0,
                "within_30_days": 1.0,
                "median_abs_error_days": 3.0,
                "inside_interval": None,
            },
        },
    }


def test_backtest_skips_visits_without_history_before_them() -> None:
    # given: no sale date and readings only after the single visit
    history = VehicleHistory(
        readings=(Reading(date(2025, 1, 1), 20_000),),
        maintenances=(MaintenanceVisit(date(2024, 12, 1), 19_000),),
        interval_km=15_000,
        interval_months=12,
    )
    # when
    result = backtest([history]).to_dict()
    # then
    assert result["visits"] == 0
    assert result["within_14_days"] is None
    assert result["median_abs_error_days"] is None


# --------------------------------------------------------------------------- properties

_dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31))
_readings = st.builds(
    Reading,
    read_on=_dates,
    odometer_km=st.integers(min_value=-1_000, max_value=2_000_000),
    reading_id=st.one_of(st.none(), st.integers(min_value=1, max_value=50)),
)
_priors = st.one_of(st.none(), st.floats(min_value=0.0, max_value=10_000.0))
_REASONS = {"negative", "future", "duplicate", "rollback", "implausible_jump"}


@settings(max_examples=300, deadline=None)
@given(
    readings=st.lists(_readings, max_size=25),
    today=_dates,
    prior=_priors,
    maint_on=_dates,
    maint_km=st.integers(min_value=0, max_value=500_000),
    done=st.integers(min_value=0, max_value=5),
)
def test_any_readings_give_a_consistent_estimate_and_due_date(
    readings: list[Reading], today: date, prior: float | None, maint_on: date, maint_km: int, done: int
) -> None:
    # given / when
    estimate = estimate_mileage(readings, today=today, prior_km_per_month=prior)
    due = next_maintenance_due(
        estimate=estimate,
        last_maintenance_on=maint_on,
        last_maintenance_km=maint_km,
        interval_km=15_000,
        interval_months=12,
        today=today,
        maintenances_done=done,
    )
    # then
    assert len(estimate.used_readings) + len(estimate.flagged) == len(readings)
    assert {f.reason for f in estimate.flagged} <= _REASONS
    assert all(math.isfinite(x) for x in (estimate.low_km_per_month, estimate.high_km_per_month))
    assert 0.0 <= estimate.low_km_per_month <= estimate.km_per_month <= estimate.high_km_per_month
    assert 0.0 <= estimate.prior_weight <= 1.0
    used = estimate.used_readings
    assert all(
        a.read_on < b.read_on and a.odometer_km <= b.odometer_km for a, b in zip(used, used[1:], strict=False)
    )
    assert all(r.odometer_km >= 0 and r.read_on <= today for r in used)
    assert due.earliest_on <= due.due_on <= due.latest_on
    assert due.due_on <= add_months(maint_on, 12)
    assert due.is_overdue == (due.due_on < today)


@settings(max_examples=200, deadline=None)
@given(
    readings=st.lists(_readings, min_size=1, max_size=15),
    today=_dates,
    prior=_priors,
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


@st.composite
def _clean_series(draw: st.DrawFn, min_size: int = 2) -> list[Reading]:
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


@settings(max_examples=300, deadline=None)
@given(
    series=_clean_series(),
    gap=st.integers(min_value=1, max_value=200),
    above=st.integers(min_value=0, max_value=20_000),
    prior=_priors,
)
def test_a_reading_at_or_above_the_trend_never_delays_the_due_date(
    series: list[Reading], gap: int, above: int, prior: float | None
) -> None:
    # given: a clean history (all before `today`), the maintenance at its first reading
    today = date(2031, 1, 1)
    first = series[0]
    before = estimate_mileage(series, today=today, prior_km_per_month=prior)
    last = series[-1]
    new_day = last.read_on + timedelta(days=gap)
    trend_km = math.ceil(last.odometer_km + before.km_per_month * gap / MONTH_DAYS)
    new = Reading(new_day, trend_km + above)
    assume(new.odometer_km - last.odometer_km <= 15_000 * gap / MONTH_DAYS)
    # when
    after = estimate_mileage([*series, new], today=today, prior_km_per_month=prior)
    due_before, due_after = (
        next_maintenance_due(
            estimate=e,
            last_maintenance_on=first.read_on,
            last_maintenance_km=first.odometer_km,
            interval_km=15_000,
            interval_months=12,
            today=today,
        )
        for e in (before, after)
    )
    # then
    assert after.flagged == ()
    assert after.km_per_month >= before.km_per_month - 1e-6
    assert due_after.due_on <= due_before.due_on


@settings(max_examples=200, deadline=None)
@given(series=_clean_series(min_size=4), data=st.data())
def test_one_digit_typo_flags_only_itself(series: list[Reading], data: st.DataObject) -> None:
    # given: a reading in the middle gets an extra digit
    k = data.draw(st.integers(min_value=1, max_value=len(series) - 2))
    good = series[k]
    assume(good.odometer_km >= 5_000)
    typo = Reading(good.read_on, good.odometer_km * 10)
    assume(typo.odometer_km > series[-1].odometer_km)  # inconsistent with the readings after it
    dirty = [*series[:k], typo, *series[k + 1 :]]
    # when
    estimate = estimate_mileage(dirty, today=max(TODAY, series[-1].read_on))
    # then
    assert estimate.flagged == (FlaggedReading(typo, "implausible_jump"),)
    assert estimate.used_readings == tuple(series[:k] + series[k + 1 :])


@settings(max_examples=200, deadline=None)
@given(
    rate=st.floats(min_value=0.0, max_value=20_000.0),
    spread=st.floats(min_value=0.0, max_value=1.0),
    start=_dates,
    until_months=st.integers(min_value=0, max_value=60),
)
def test_projection_is_increasing_and_each_interval_holds_its_date(
    rate: float, spread: float, start: date, until_months: int
) -> None:
    # given
    estimate = MileageEstimate.from_rate(
        rate, low_km_per_month=rate * (1 - spread), high_km_per_month=rate * (1 + spread)
    )
    # when
    dues = project_maintenance_due_dates(
        estimate=estimate,
        start_on=start,
        start_km=0,
        interval_km=15_000,
        interval_months=12,
        until=add_months(start, until_months),
        today=TODAY,
    )
    # then
    assert all(a.due_on <= b.due_on for a, b in zip(dues, dues[1:], strict=False))
    assert all(d.earliest_on <= d.due_on <= d.latest_on for d in dues)
    assert [d.interval_number for d in dues] == list(range(1, len(dues) + 1))


def test_a_habitually_late_customer_widens_the_interval_not_the_point() -> None:
    # given: a predicted due date, and a customer who came 30 and 40 days late before
    due = MaintenanceDue(
        due_on=date(2026, 3, 1),
        driver="km",
        due_odometer_km=30_000,
        interval_number=3,
        earliest_on=date(2026, 2, 10),
        latest_on=date(2026, 3, 20),
        is_overdue=False,
    )
    # when
    adjusted = adjust_for_habit(due, [30, 40], today=date(2026, 1, 1))
    # then
    assert (adjusted.due_on, adjusted.earliest_on, adjusted.latest_on) == (
        date(2026, 3, 1),
        date(2026, 2, 10),
        date(2026, 4, 10),
    )
    assert adjust_for_habit(due, [], today=date(2026, 1, 1)) == due
    assert adjust_for_habit(due, [-25], today=date(2026, 1, 1)).earliest_on == date(2026, 2, 4)
