"""Pure tests for customers.core.forecast: one vehicle, as production runs it (no database)."""

from __future__ import annotations

from datetime import date, timedelta

from customers.core.calendar import MONTH_DAYS, add_months
from customers.core.forecast import Interval, Sale, SkippedVisit, forecast_vehicle, replay_maintenance
from customers.core.readings import Reading

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


def test_the_forecast_is_the_same_every_day_until_its_validity_ends() -> None:
    """``valid_until``: from ``today`` up to the day before it, the same facts forecast the same (but
    the odometer today, which is computed on read from the stored point and rate)."""
    import random

    from customers.core.forecast import odometer_on_day

    rng = random.Random(5)
    checked = 0
    for _ in range(150):
        today = date(2026, 1, 1) + timedelta(days=rng.randint(0, 400))
        sold_on = today - timedelta(days=rng.randint(-20, 1500))
        rate = rng.uniform(300, 3_000)
        maintenance = []
        day, km = sold_on, 0
        while True:
            day += timedelta(days=rng.randint(200, 420))
            if day > today + timedelta(days=60):
                break
            km += int(rate * 11)
            maintenance.append((day, km))
        readings = [
            Reading(sold_on + timedelta(days=d), int(rate * d / MONTH_DAYS))
            for d in sorted(rng.sample(range(1, 1600), rng.randint(0, 4)))
        ]
        sales = [Sale(sold_on, "new", 0)]
        first = forecast_vehicle(readings=readings, sales=sales, maintenance=maintenance, interval=_INTERVAL,
                                 prior_km_per_month=1_250.0, today=today)
        if first is None:
            continue
        assert first.valid_until > today
        assert odometer_on_day(first.estimate.km_per_month, first.odometer_on, first.odometer_km, today) == first.odometer_today_km
        for offset in range(1, min(90, (first.valid_until - today).days)):
            later = forecast_vehicle(readings=readings, sales=sales, maintenance=maintenance, interval=_INTERVAL,
                                     prior_km_per_month=1_250.0, today=today + timedelta(days=offset))
            assert later is not None
            assert replace_odometer(later) == replace_odometer(first), (today, offset)
            checked += 1
    assert checked > 3_000


def replace_odometer(forecast):  # type: ignore[no-untyped-def]
    """The forecast but its odometer today and the later due dates' own overdue flags (neither is
    stored nor planned from: the plan reads the later due dates' days and drivers)."""
    from dataclasses import replace

    upcoming = tuple(replace(d, is_overdue=False) for d in forecast.upcoming[1:])
    return replace(forecast, odometer_today_km=0), forecast.upcoming[:1] + upcoming


def test_the_planned_due_days_are_the_projections_days_and_drivers() -> None:
    """``upcoming_due_dates``/``upcoming_due_drivers`` (worked out from the rate alone after the last
    kept reading, without the range chains) are exactly the full projection's (``upcoming``), with and
    without the customer's habit, overdue or not."""
    import random

    rng = random.Random(11)
    compared = 0
    for _ in range(400):
        today = date(2026, 1, 1) + timedelta(days=rng.randint(0, 400))
        sold_on = today - timedelta(days=rng.randint(30, 2000))
        rate = rng.uniform(200, 9_000)
        readings = [
            Reading(sold_on + timedelta(days=d), int(rate * d / MONTH_DAYS * rng.uniform(0.8, 1.2)))
            for d in sorted(rng.sample(range(1, (today - sold_on).days + 1), rng.randint(0, 6)))
        ]
        late = rng.choice([0, 25, -15])
        maintenance, day, km = [], sold_on, 0
        while len(maintenance) < rng.randint(0, 6):
            day += timedelta(days=int(min(365, 15_000 / rate * MONTH_DAYS)) + late + rng.randint(-5, 5))
            if day > today:
                break
            km = int(rate * (day - sold_on).days / MONTH_DAYS)
            maintenance.append((day, km))
        # when
        result = forecast_vehicle(readings=readings, sales=[Sale(sold_on, rng.choice(["new", "used"]), 0)],
                                  maintenance=maintenance, interval=Interval(15_000, 12, 10_000, 6),
                                  prior_km_per_month=rng.choice([None, 900.0, 2_500.0]), today=today)
        # then
        assert result is not None
        assert result.upcoming_due_dates == tuple(d.due_on for d in result.upcoming)
        assert result.upcoming_due_drivers == tuple(d.driver for d in result.upcoming)
        assert result.upcoming[0] == result.due
        compared += len(result.upcoming)
    assert compared > 2_000


def _late_customer() -> tuple[list[Reading], list[Sale], list[tuple[date, int]]]:
    """1,500 km a month, every visit 30 days after the 10-month km limit."""
    sold_on = date(2020, 1, 1)
    maintenance = []
    for k in range(1, 6):
        day = sold_on + timedelta(days=round(k * (10 * MONTH_DAYS + 30)))
        maintenance.append((day, round(1_500 * (day - sold_on).days / MONTH_DAYS)))
    return [Reading(date(2020, 3, 1), 3_000)], [Sale(sold_on, "new", 0)], maintenance


def test_a_visits_stamp_changes_only_with_the_facts_dated_before_it() -> None:
    from customers.core.forecast import habit_stamps

    readings, sales, maintenance = _late_customer()
    interval = Interval(15_000, 12)

    def stamps(**changes: object) -> list[int]:
        facts = {"readings": readings, "sales": sales, "maintenance": maintenance, "interval": interval,
                 "prior_km_per_month": 1_250.0, **changes}
        return habit_stamps(**facts)  # type: ignore[arg-type]

    # given
    base = stamps()
    # when: a reading dated between the 2nd and the 3rd visit
    between = maintenance[1][0] + timedelta(days=20)
    added = stamps(readings=[*readings, Reading(between, maintenance[1][1] + 900)])
    # then: the stamps of the visits up to the 2nd stay, the later ones change
    assert added[:2] == base[:2] and all(a != b for a, b in zip(added[2:], base[2:], strict=True))
    # and: the prior or the interval changes every stamp; the same facts in another order change none
    assert all(a != b for a, b in zip(stamps(prior_km_per_month=1_300.0), base, strict=True))
    assert all(a != b for a, b in zip(stamps(interval=Interval(15_000, 12, 7_500, 6)), base, strict=True))
    assert stamps(readings=list(reversed([*readings, Reading(date(2020, 2, 1), 1_500)]))) == \
        stamps(readings=[Reading(date(2020, 2, 1), 1_500), *readings])


def test_stored_visit_errors_give_the_forecast_a_full_replay_gives() -> None:
    # given: a habitually late customer, forecast once with every visit replayed
    readings, sales, maintenance = _late_customer()
    today = maintenance[-1][0] + timedelta(days=40)
    full = forecast_vehicle(readings=readings, sales=sales, maintenance=maintenance, interval=_INTERVAL,
                            prior_km_per_month=1_250.0, today=today)
    assert full is not None and full.habit_shift_days > 0
    stored = {(e.visited_on, e.odometer_km): (e.stamp, e.error_days) for e in full.habit_errors}
    # when: forecast again from the stored errors, one of them stale (its stamp no longer matches)
    stale_key = (maintenance[2][0], maintenance[2][1])
    stored[stale_key] = (stored[stale_key][0] + 1, 999)
    again = forecast_vehicle(readings=readings, sales=sales, maintenance=maintenance, interval=_INTERVAL,
                             prior_km_per_month=1_250.0, today=today, stored_errors=stored)
    # then: the same forecast; the stale error was replayed, the others reused
    assert again == full
    assert [e.error_days for e in full.habit_errors] == [
        (visited_on - replayed.due.due_on).days
        for visited_on, _km, replayed in replay_maintenance(
            readings=readings, sales=sales, maintenance=maintenance, interval=_INTERVAL,
            prior_km_per_month=1_250.0, with_habit=False,
        )
    ]
    # and: a stored error whose stamp matches is used as stored (so a wrong one shows)
    trusted = {**stored, stale_key: (full.habit_errors[2].stamp, -999)}
    assert forecast_vehicle(readings=readings, sales=sales, maintenance=maintenance, interval=_INTERVAL,
                            prior_km_per_month=1_250.0, today=today, stored_errors=trusted) != full
