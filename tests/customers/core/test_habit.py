"""Pure tests for customers.core.habit (no database)."""

from __future__ import annotations

from datetime import date

from customers.core.due_dates import MaintenanceDue
from customers.core.habit import adjust_for_habit


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
