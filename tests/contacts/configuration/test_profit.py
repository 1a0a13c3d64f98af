"""The profit estimate's a, b, c: set per dealership beside the measured values, used by the dashboard."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from contacts.models import ContactRules
from tests import factories
from tests.contacts.test_dashboard import make_call

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def admin(moscow):
    return factories.make_user("ada", "admin", dealerships=(moscow,))


def test_the_page_shows_the_measured_reach_and_conversion_beside_the_coefficients(client, admin, moscow):
    # given: four calls this year, three reached, one booked
    agent = factories.make_user("alice", "agent", dealerships=(moscow,))
    for outcome in ("reached", "booked", "hot_lead", "no_answer"):
        customer = factories.CustomerFactory(dealership=moscow)
        make_call(customer, agent, dt.datetime(2026, 10, 5, 10, 0, tzinfo=dt.UTC), outcome)
    client.force_login(admin)
    # when
    with time_machine.travel(NOW, tick=False):
        page = client.get("/program/profit/")
    # then
    measured = page.context["measured"]
    assert (measured.calls, measured.reached, measured.bookings) == (4, 3, 1)
    assert (measured.live_share, measured.service_conversion) == (0.75, 0.333)
    assert "3 reached of 4 calls" in page.content.decode()


def test_saved_coefficients_drive_the_dashboards_estimate(client, admin, moscow):
    # given: the admin sets a = 0.5, b = 0.1, c = 0.01
    client.force_login(admin)
    response = client.post("/program/profit/", {"profit_live_share": "0.5", "profit_service_conversion": "0.1",
                                                 "profit_repeat_conversion": "0.01"})
    assert response.status_code == 302
    rules = ContactRules.objects.get(dealership=moscow)
    assert rules.profit_coefficients() == {"live": 0.5, "service_conversion": 0.1, "repeat_conversion": 0.01}
    manager = factories.make_user("maria", "manager", dealerships=(moscow,))
    factories.CustomerFactory(dealership=moscow)
    client.force_login(manager)
    # when
    with time_machine.travel(NOW, tick=False):
        page = client.get("/calls/dashboard/", {"x": 10000, "y": 6000, "z": 40000})
    # then: 10,000 · (0.5 · 0.1 · 6,000 + 0.5 · 0.01 · 40,000) = 5,000,000
    assert page.context["profit"] == pytest.approx(5_000_000)
    assert "a = 0.5, b = 0.1, c = 0.01" in page.content.decode()


def test_a_coefficient_outside_zero_to_one_is_refused(client, admin, moscow):
    client.force_login(admin)
    response = client.post("/program/profit/", {"profit_live_share": "7", "profit_service_conversion": "0.07",
                                                 "profit_repeat_conversion": "0.02"})
    assert "Coefficient a: a share between 0 and 1" in response.content.decode()
    assert ContactRules.for_dealership(moscow).profit_live_share == Decimal("0.700")
