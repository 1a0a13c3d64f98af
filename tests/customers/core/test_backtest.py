"""Pure tests for customers.core.backtest (no database)."""

from __future__ import annotations

from datetime import date

from customers.core.backtest import (
    BacktestResult,
    MaintenanceVisit,
    VehicleHistory,
    backtest,
    baseline_last_two_readings,
    baseline_previous_plus_interval,
)
from customers.core.readings import Reading

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
    # the model predicts 2024-11-15 (actual 11-20) and 2025-09-16 (actual 09-10)
    history = _history()
    # when
    result = backtest([history])
    # then
    assert isinstance(result, BacktestResult)
    report = result.to_dict()
    old_keys = ("visits", "within_14_days", "within_30_days", "median_abs_error_days", "inside_interval")
    assert {key: report[key] for key in (*old_keys, "median_interval_days")} | {
        "baselines": {name: {key: figures[key] for key in old_keys} for name, figures in report["baselines"].items()
                      if name != "first_to_last_average"}
    } == {
        "visits": 2,
        "within_14_days": 1.0,
        "within_30_days": 1.0,
        "median_abs_error_days": 5.5,
        "inside_interval": 1.0,
        "median_interval_days": 60.5,
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
    assert (report["invitation_window"], report["p90_abs_error_days"], report["mean_bias_days"]) == (1.0, 6.0, 0.5)
    assert report["baselines"]["first_to_last_average"]["median_abs_error_days"] == 5.5
    assert report["first_visits"]["forecast"]["mean_bias_days"] == -5.0
    assert report["later_visits"]["forecast"]["mean_bias_days"] == 6.0
    assert report["skipped"] == {}


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
