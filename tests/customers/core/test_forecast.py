"""Pure tests for customers.core.forecast (no database)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from customers.core.calendar import MONTH_DAYS, add_months
from customers.core.forecast import (
    Interval,
    MaintenanceDue,
    Sale,
    SkippedVisit,
    adjust_for_habit,
    forecast_vehicle,
    next_maintenance_due,
    project_maintenance_due_dates,
    replay_maintenance,
)
from customers.core.mileage import MileageEstimate, Reading, estimate_mileage
from tests.customers.core.strategies import TODAY, clean_series, dates, priors
from tests.customers.core.strategies import readings as readings_strategy

_REASONS = {
    "negative", "future", "duplicate", "rollback", "implausible_jump", "swapped_digits", "extra_digit", "miles_for_km"
}


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


# --------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(
    readings=st.lists(readings_strategy, max_size=25),
    today=dates,
    prior=priors,
    maint_on=dates,
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


@settings(max_examples=300, deadline=None)
@given(
    series=clean_series(),
    gap=st.integers(min_value=1, max_value=200),
    above=st.integers(min_value=0, max_value=20_000),
    prior=priors,
)
def test_a_reading_at_or_above_the_trend_never_delays_the_due_date(
    series: list[Reading], gap: int, above: int, prior: float | None
) -> None:
    # given: a clean history (all before `today`), the maintenance at its first reading
    today = date(2031, 1, 1)
    first = series[0]
    before = estimate_mileage(series, today=today, prior_km_per_month=prior)
    assume(before.flagged == ())
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
    # then: the reading raises the rate, or, far off the car's own rate and one typo away from it,
    # it is set aside alone and nothing changes; either way the due date never moves later
    if after.flagged:
        assert [f.reading for f in after.flagged] == [new]
        assert after.flagged[0].reason in {"swapped_digits", "extra_digit", "miles_for_km"}
        assert after.used_readings == before.used_readings
    else:
        assert after.km_per_month >= before.km_per_month - 1e-6
    assert due_after.due_on <= due_before.due_on


@settings(max_examples=200, deadline=None)
@given(
    rate=st.floats(min_value=0.0, max_value=20_000.0),
    spread=st.floats(min_value=0.0, max_value=1.0),
    start=dates,
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


# --------------------------------------------------------------------------- one vehicle, as production runs it

_INTERVAL = Interval(15_000, 12, first_km=7_500, first_months=6)


def test_the_sale_odometer_is_a_reading_for_the_first_service() -> None:
    # given: a new car sold at 0 km (no reading stored for the sale) and one call reading a month later
    sale = Sale(date(2025, 1, 10), "new", 0)
    readings = [Reading(date(2025, 2, 10), 3_000)]
    # when
    result = forecast_vehicle(readings=readings, sales=[sale], maintenance=[], interval=_INTERVAL,
                              prior_km_per_month=1_250.0, today=date(2025, 2, 11))
    # then: both readings are used, the rate leans towards the car's 3,000 km a month
    assert result is not None
    assert [r.odometer_km for r in result.estimate.used_readings] == [0, 3_000]
    assert result.estimate.km_per_month > 2_000
    assert (result.is_first_after_sale, result.interval_km, result.interval_months) == (True, 7_500, 6)


def test_the_first_interval_applies_only_after_a_new_car_sale() -> None:
    # given: a used car bought at 40,000 km
    sale = Sale(date(2025, 1, 10), "used", 40_000)
    # when
    result = forecast_vehicle(readings=[], sales=[sale], maintenance=[], interval=_INTERVAL,
                              prior_km_per_month=1_250.0, today=date(2025, 2, 1))
    # then
    assert result is not None
    assert (result.is_first_after_sale, result.interval_km, result.interval_months) == (False, 15_000, 12)
    assert result.due.due_on == date(2026, 1, 10)  # 15,000 km at 1,250 km a month: the time limit


def test_the_latest_sale_starts_the_cycle() -> None:
    # given: sold new in 2020, sold again used in 2024 at 60,000 km
    sales = [Sale(date(2020, 3, 1), "new", 0), Sale(date(2024, 3, 1), "used", 60_000)]
    # when
    result = forecast_vehicle(readings=[], sales=sales, maintenance=[], interval=_INTERVAL,
                              prior_km_per_month=1_250.0, today=date(2024, 4, 1))
    # then
    assert result is not None
    assert (result.start_on, result.start_km, result.is_first_after_sale) == (date(2024, 3, 1), 60_000, False)


def test_a_mistyped_last_service_odometer_is_not_the_starting_point() -> None:
    # given: steady 1,000 km a month; the last service's odometer typed as 300,000 instead of 30,000
    sale = Sale(date(2023, 1, 1), "new", 0)
    readings = [Reading(add_months(date(2023, 1, 1), k), 1_000 * k) for k in range(0, 31, 3)]
    maintenance = [(date(2025, 7, 15), 300_000)]
    # when
    result = forecast_vehicle(readings=readings, sales=[sale], maintenance=maintenance, interval=_INTERVAL,
                              prior_km_per_month=1_250.0, today=date(2025, 8, 1))
    # then: the start is the estimated odometer that day, not the typo
    assert result is not None
    assert [f.reading.odometer_km for f in result.estimate.flagged] == [300_000]
    assert 29_000 <= result.start_km <= 32_000
    assert result.due.due_odometer_km < 50_000


def _late_customer_visits(late_days: int) -> tuple[list[Reading], list[tuple[date, int]]]:
    """Steady 1,000 km a month (time-driven at 15,000 km / 12 months), every visit ``late_days`` late."""
    readings = [Reading(date(2020, 1, 1), 0)]
    visits = []
    on = date(2020, 1, 1)
    for _ in range(4):
        on = add_months(on, 12) + timedelta(days=late_days)
        km = round((on - date(2020, 1, 1)).days * 1_000 / MONTH_DAYS)
        visits.append((on, km))
        readings.append(Reading(on, km))
    return readings, visits


def test_a_consistently_late_customer_moves_the_point_date() -> None:
    # given: four visits, each 30 days after the time limit
    readings, visits = _late_customer_visits(30)
    today = visits[-1][0] + timedelta(days=10)
    # when
    result = forecast_vehicle(readings=readings, sales=[Sale(date(2020, 1, 1), "new", 0)], maintenance=visits,
                              interval=Interval(15_000, 12), prior_km_per_month=1_000.0, today=today)
    # then: the point is the time limit plus the habit, and the interval stays narrow
    assert result is not None
    assert result.habit_shift_days == 30
    assert result.due.due_on == add_months(visits[-1][0], 12) + timedelta(days=30)
    assert (result.due.latest_on - result.due.earliest_on).days <= 60


def test_replay_counts_the_visits_it_cannot_replay() -> None:
    # given: a visit with nothing before it; a car sold in year 9999 (its due date is past year 9999);
    # a visit after today
    skipped: list[SkippedVisit] = []
    interval = Interval(15_000, 12)
    # when
    replayed = [
        *replay_maintenance(readings=[Reading(date(2024, 1, 1), 10_000)], sales=[],
                            maintenance=[(date(2024, 1, 1), 10_000)], interval=interval, prior_km_per_month=None,
                            skipped=skipped),
        *replay_maintenance(readings=[], sales=[Sale(date(9999, 3, 1), "new", 0)],
                            maintenance=[(date(9999, 12, 30), 20_000)], interval=interval, prior_km_per_month=None,
                            skipped=skipped),
        *replay_maintenance(readings=[], sales=[Sale(date(2024, 3, 1), "new", 0)],
                            maintenance=[(date(2025, 2, 1), 14_000)], interval=interval, prior_km_per_month=None,
                            skipped=skipped, today=date(2025, 1, 31)),
    ]
    # then
    assert replayed == []
    assert skipped == [SkippedVisit(date(2024, 1, 1), "nothing_before"),
                       SkippedVisit(date(9999, 12, 30), "date_out_of_range"),
                       SkippedVisit(date(2025, 2, 1), "after_today")]
