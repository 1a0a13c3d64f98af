"""The period's figures (contacts.metrics.figures) on small hand-built histories: repeat sales, service
returns, empty periods, dormant customers, dead contacts and the forecast's accuracy."""

from __future__ import annotations

import datetime as dt

import pytest

from contacts import metrics
from tests import factories

D = dt.date


@pytest.mark.django_db
def test_repeat_sale_rate_counts_customers_not_cars_and_includes_the_last_day_of_the_window(moscow):
    # given: Anna bought twice (the second exactly 3 years later), Boris bought two cars the same day, Vera once
    anna, boris, vera = (factories.CustomerFactory(dealership=moscow) for _ in range(3))
    factories.SaleFactory(vehicle__owner=anna, sold_on=D(2022, 3, 1))
    factories.SaleFactory(vehicle__owner=anna, sold_on=D(2022, 3, 1) + dt.timedelta(days=1096))
    factories.SaleFactory(vehicle__owner=boris, sold_on=D(2022, 5, 1))
    factories.SaleFactory(vehicle__owner=boris, sold_on=D(2022, 5, 1))
    factories.SaleFactory(vehicle__owner=vera, sold_on=D(2022, 6, 1))
    # when
    figure = metrics.repeat_sale_rate(metrics.Scope((moscow.id,), D(2022, 1, 1), D(2022, 12, 31)), years=3)
    # then: Boris's two same-day cars are not a repeat purchase
    assert figure == {"customers": 3, "repeat": 1, "rate": 0.3333}


@pytest.mark.django_db
def test_service_return_rate_counts_only_maintenance_within_the_window_and_mature_cars(moscow):
    # given
    returned = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2024, 1, 10))
    factories.ServiceVisitFactory(vehicle=returned.vehicle, visited_on=D(2024, 12, 1), kind="maintenance")
    late = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2024, 2, 10))
    factories.ServiceVisitFactory(vehicle=late.vehicle, visited_on=D(2025, 8, 1), kind="maintenance")  # after 15 months
    repair_only = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2024, 3, 10))
    factories.ServiceVisitFactory(vehicle=repair_only.vehicle, visited_on=D(2024, 9, 1), kind="repair")
    factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2025, 10, 1))  # too young to judge
    scope = metrics.Scope((moscow.id,), D(2024, 1, 1), D(2025, 12, 31), as_of=D(2026, 1, 15))
    # then
    assert metrics.service_return_rate(scope, months=15) == {"vehicles": 3, "returned": 1, "rate": 0.3333}


@pytest.mark.django_db
def test_empty_period_gives_no_rate_instead_of_an_error(moscow):
    scope = metrics.Scope((moscow.id,), D(2020, 1, 1), D(2020, 1, 31))
    figures = metrics.all_figures(scope)
    assert figures["repeat_sale"]["rate"] is None
    assert figures["service_return"]["rate"] is None
    assert figures["retention"]["crr"] is None


@pytest.mark.django_db
def test_dormant_customer_missed_their_own_rhythm_more_than_twice(moscow):
    # given: Anna comes every ~6 months, last on 2024-01-10 (2 years before the end); Boris every 12
    # months, last on 2025-06-01 (fine); Vera came once (no rhythm)
    anna = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2022, 1, 1)).vehicle
    for day in [D(2022, 7, 10), D(2023, 1, 10), D(2023, 7, 10), D(2024, 1, 10)]:
        factories.ServiceVisitFactory(vehicle=anna, visited_on=day)
    boris = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2022, 1, 1)).vehicle
    for day in [D(2023, 6, 1), D(2024, 6, 1), D(2025, 6, 1)]:
        factories.ServiceVisitFactory(vehicle=boris, visited_on=day)
    vera = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2022, 1, 1)).vehicle
    factories.ServiceVisitFactory(vehicle=vera, visited_on=D(2023, 1, 1))
    # when
    figure = metrics.dormant_customers(metrics.Scope((moscow.id,), D(2025, 1, 1), D(2025, 12, 31)))
    # then
    assert figure == {"customers_with_rhythm": 2, "dormant": 1, "rate": 0.5}


@pytest.mark.django_db
def test_dead_contacts_are_grouped_by_years_of_silence(moscow):
    silent = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2022, 3, 1)).customer
    silent.phone_unreachable_since = D(2025, 1, 1)
    silent.save()
    factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2025, 6, 1))
    rows = metrics.dead_contacts_by_silence(metrics.Scope((moscow.id,), D(2025, 1, 1), D(2025, 12, 31)))
    assert rows == [
        {"years_since_reached": 0, "customers": 1, "dead": 0, "share": 0.0},
        {"years_since_reached": 3, "customers": 1, "dead": 1, "share": 1.0},
    ]


@pytest.mark.django_db
def test_forecast_accuracy_uses_the_snapshot_known_before_the_visit(moscow):
    from customers.models import ForecastSnapshot

    vehicle = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2024, 1, 1)).vehicle
    common = {"vehicle": vehicle, "km_per_month": 1500, "due_earliest_on": D(2024, 1, 1), "due_latest_on": D(2026, 1, 1), "due_driver": "km"}
    ForecastSnapshot.objects.create(taken_on=D(2024, 9, 1), next_due_on=D(2024, 11, 1), interval_number=1, **common)
    ForecastSnapshot.objects.create(taken_on=D(2024, 12, 1), next_due_on=D(2025, 3, 1), interval_number=2, **common)
    factories.ServiceVisitFactory(vehicle=vehicle, visited_on=D(2024, 11, 20))  # 19 days after the forecast
    figure = metrics.forecast_accuracy(metrics.Scope((moscow.id,), D(2024, 1, 1), D(2024, 12, 31)))
    assert figure == {"visits": 1, "within_14_days": 0.0, "within_30_days": 1.0}
