"""The mileage priors' pure rules: a car's own rate from its facts, the groups and their fallbacks."""

from __future__ import annotations

import random
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from customers.core.priors import SHRINK_CARS, car_rate, latest_sale_kind, median_priors, prior_for

SOLD = date(2025, 1, 10)


def _steady(rate: float, days: list[int], start_km: int = 0) -> list[tuple[date, int]]:
    return [(SOLD + timedelta(days=d), start_km + round(rate * d / 30.4375)) for d in days]


def test_a_car_seen_for_under_sixty_days_has_no_rate_of_its_own():
    assert car_rate(_steady(1500, [0, 30, 59])) is None
    assert car_rate(_steady(1500, [0])) is None
    assert car_rate([]) is None
    assert car_rate(_steady(1500, [0, 60])) is not None


def test_a_steady_car_drives_its_rate_whatever_the_order_of_its_facts():
    facts = _steady(2000, [0, 45, 120, 200, 365])
    shuffled = facts[:]
    random.Random(1).shuffle(shuffled)
    assert abs(car_rate(facts) - 2000) < 5
    assert car_rate(shuffled) == car_rate(facts)


def test_one_mistyped_reading_moves_the_rate_by_a_place_not_by_its_size():
    # given: a car at 1,200 km a month with six readings, then each kind of typo once
    facts = _steady(1200, [0, 60, 120, 180, 240, 300, 360])
    extra_digit = [*facts, (SOLD + timedelta(days=200), facts[3][1] * 10)]
    rollback = [*facts, (SOLD + timedelta(days=200), facts[3][1] - 6000)]
    newest_extra_digit = [*facts, (SOLD + timedelta(days=370), facts[-1][1] * 10)]
    same_day_duplicate = [*facts, (facts[2][0], facts[2][1] + 400)]
    # then
    for spoiled in (extra_digit, rollback, newest_extra_digit):
        assert 1_000 <= car_rate(spoiled) <= 1_400, spoiled
    assert car_rate(same_day_duplicate) == car_rate(facts)  # the day's lowest km counts


def test_days_closer_than_a_week_join_the_next_segment():
    # given: daily telematics readings for 90 days at 3,000 km a month
    facts = _steady(3000, list(range(0, 91)))
    # then: every segment is a week or more long, the rate the car's
    assert abs(car_rate(facts) - 3000) < 20


@given(rate=st.floats(min_value=100, max_value=20_000), gaps=st.lists(st.integers(1, 200), min_size=2, max_size=12))
def test_a_car_at_one_rate_gets_that_rate(rate, gaps):
    days = [0]
    for gap in gaps:
        days.append(days[-1] + gap)
    result = car_rate(_steady(rate, days))
    if days[-1] < 60:
        assert result is None
    else:
        assert result is not None and abs(result - rate) <= 30.4375 / 7  # a km of rounding a week at most


def test_the_latest_sale_up_to_today_gives_the_kind():
    sales = [(date(2020, 5, 1), "new"), (date(2024, 3, 1), "used"), (date(2030, 1, 1), "trade_in")]
    assert latest_sale_kind(sales, date(2025, 1, 1)) == "used"
    assert latest_sale_kind(sales, date(2021, 1, 1)) == "new"
    assert latest_sale_kind(sales, date(2019, 1, 1)) == ""
    assert latest_sale_kind([], date(2025, 1, 1)) == ""


def test_a_prior_falls_back_from_model_and_kind_to_model_to_kind_to_dealership():
    priors = {"1|Kia|Rio|new": 1000.0, "1|Hyundai|Solaris": 2000.0, "1|used": 3000.0, "1": 4000.0}
    assert prior_for(priors, dealership_id=1, make="Kia", model="Rio", kind="new") == 1000.0
    assert prior_for(priors, dealership_id=1, make="Hyundai", model="Solaris", kind="used") == 2000.0  # the model's
    assert prior_for(priors, dealership_id=1, make="Lada", model="Vesta", kind="used") == 3000.0  # the kind's
    assert prior_for(priors, dealership_id=1, make="Kia", model="Rio", kind="trade_in") == 4000.0  # the dealership's
    assert prior_for(priors, dealership_id=1, make="Kia", model="Rio", kind="") == 4000.0  # no sale: no kind's
    assert prior_for(priors, dealership_id=2, make="Kia", model="Rio", kind="new") is None  # the default's


def test_a_small_groups_median_leans_towards_its_parents_a_large_one_stands():
    # given: dealership 1, 200 new Rios at 1,000 km, 5 used Rios at 3,000 km, 3 trade-ins (too few)
    observed = [(1, "Kia", "Rio", "new", 1000.0)] * 200 + [(1, "Kia", "Rio", "used", 3000.0)] * 5
    observed += [(1, "Kia", "Rio", "trade_in", 9000.0)] * 3
    observed += [(1, "Kia", "Rio", "", 1000.0)]  # no sale: only in the model's and dealership's groups
    priors = median_priors(observed)
    # then: the model's and the dealership's median is 1,000; the 5 used cars count as 5 of 25
    assert priors["1"] == priors["1|Kia|Rio"] == 1000.0
    assert priors["1|Kia|Rio|new"] == 1000.0
    assert priors["1|Kia|Rio|used"] == (5 * 3000 + SHRINK_CARS * 1000) / (5 + SHRINK_CARS) // 50 * 50
    assert "1|Kia|Rio|trade_in" not in priors and "1|trade_in" not in priors and "1|" not in priors
