from __future__ import annotations

import pytest

from contacts.core import figures


def test_retention_and_churn_follow_the_methods_example():
    # S = 200 at the start, N = 100 new, E = 250 at the end
    assert figures.retention_rate(start_count=200, new_count=100, end_count=250) == 0.75
    assert figures.churn_rate(start_count=200, new_count=100, end_count=250) == 0.25
    assert figures.retention_rate(start_count=0, new_count=5, end_count=5) is None


def test_profit_estimate_follows_the_methods_example():
    assert figures.profit_estimate(customers=10_000, margin_service=6_000, margin_car=40_000) == pytest.approx(8_540_000)


def test_wilson_interval_of_a_known_proportion():
    low, high = figures.wilson_interval(85, 100)
    assert (round(low, 4), round(high, 4)) == (0.7672, 0.9069)
    assert figures.wilson_interval(0, 0) is None
