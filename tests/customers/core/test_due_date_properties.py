"""Properties of the estimate and the due dates over any readings (customers.core.mileage, customers.core.due_dates; no database)."""

from __future__ import annotations

import math
from datetime import date, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from customers.core.calendar import MONTH_DAYS, add_months
from customers.core.due_dates import next_maintenance_due, project_maintenance_due_dates
from customers.core.mileage import MileageEstimate, estimate_mileage
from customers.core.readings import Reading
from tests.customers.core.strategies import TODAY, clean_series, dates, priors
from tests.customers.core.strategies import readings as readings_strategy

_REASONS = {
    "negative", "future", "duplicate", "rollback", "implausible_jump", "swapped_digits", "extra_digit", "miles_for_km"
}



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
