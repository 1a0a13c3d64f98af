"""Pure tests for customers.core.due_dates: the next due date and the projection (no database)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from customers.core.due_dates import next_maintenance_due, project_maintenance_due_dates
from customers.core.mileage import MileageEstimate, estimate_mileage
from customers.core.readings import Reading
from tests.customers.core.strategies import TODAY


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
