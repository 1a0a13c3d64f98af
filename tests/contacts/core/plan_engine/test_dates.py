"""Calendar edges of the plan engine (contacts/core/plan_engine/dates.py): month ends, the year end, leap
days; season dates parsed. No database, no Django."""

from __future__ import annotations

import pytest

from contacts.core.plan_engine import (
    SaleFact,
    parse_season_dates,
    plan_vehicle,
)
from contacts.core.plan_engine.dates import _months_between
from contacts.core.program import (
    DEFAULT_PROGRAM,
)
from customers.core.calendar import add_months
from tests.contacts.core.plan_engine.helpers import D, _facts, _triples


def test_sale_on_new_years_eve_plans_month_ends_and_next_year_dates() -> None:
    # given
    facts = _facts(sales=(SaleFact(D(2024, 12, 31)),), today=D(2024, 12, 31), birthday=D(1990, 1, 5))
    # when
    plan = plan_vehicle(DEFAULT_PROGRAM, facts)
    # then
    triples = _triples(plan)
    assert triples[:4] == [
        ("thank_you", 1, D(2025, 1, 1)),
        ("birthday", 2, D(2025, 1, 5)),
        ("first_weeks", 1, D(2025, 1, 14)),
        ("dealer_csi", 1, D(2025, 1, 30)),
    ]
    expected = [
        ("anniversary_1", 1, D(2025, 12, 31)),
        ("needs_check", 1, D(2026, 6, 30)),
        ("trade_in_valuation", 1, D(2026, 12, 31)),
        ("new_models", 1, D(2027, 3, 31)),
        ("next_car", 1, D(2027, 6, 30)),
        ("test_drive", 1, D(2027, 9, 30)),
        ("final_offer", 1, D(2027, 11, 30)),
        ("insurance_renewal", 1, D(2025, 12, 1)),
        ("insurance_renewal", 3, D(2027, 12, 1)),
        ("tyre_season", 3, D(2025, 3, 10)),
        ("tyre_season", 8, D(2027, 9, 25)),
        ("warranty_extension", 1, D(2027, 10, 2)),
    ]
    for triple in expected:
        assert triple in triples
    assert max(tp.due_on for tp in plan) < D(2027, 12, 31)


def test_leap_day_plus_12_months_is_28_february() -> None:
    # given
    leap_day = D(2024, 2, 29)
    # when
    result = add_months(leap_day, 12)
    # then
    assert result == D(2025, 2, 28)
    assert add_months(leap_day, 48) == D(2028, 2, 29)
    assert add_months(D(2025, 1, 31), 1) == D(2025, 2, 28)
    assert add_months(D(2025, 3, 31), -1) == D(2025, 2, 28)
    assert _months_between(D(2025, 1, 31), D(2025, 2, 28)) == 1
    assert _months_between(D(2025, 1, 31), D(2025, 2, 27)) == 0


def test_sale_on_a_leap_day_plans_anniversaries_on_28_february() -> None:
    # given
    facts = _facts(sales=(SaleFact(D(2024, 2, 29)),), today=D(2024, 2, 29), birthday=D(2000, 2, 29))
    # when
    plan = plan_vehicle(DEFAULT_PROGRAM, facts)
    # then
    triples = _triples(plan)
    assert ("anniversary_1", 1, D(2025, 2, 28)) in triples
    assert ("insurance_renewal", 1, D(2025, 1, 29)) in triples
    assert [(o, d) for c, o, d in triples if c == "birthday"] == [
        (1, D(2024, 2, 29)),
        (2, D(2025, 2, 28)),
        (3, D(2026, 2, 28)),
    ]
    assert max(tp.due_on for tp in plan) < D(2027, 2, 28)


def test_season_dates_accept_strings_one_tuples_and_pairs() -> None:
    # given
    values: list[object] = ["10-05", ("03-20",), (4, 1)]
    # when
    result = parse_season_dates(values)
    # then
    assert result == ((3, 20), (4, 1), (10, 5))
    with pytest.raises(ValueError):
        parse_season_dates(["13-01"])
