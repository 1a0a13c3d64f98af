"""The manager's dashboard in Debian's Chromium, with a screenshot to look at."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from tests import factories
from tests.contacts.test_dashboard import at, make_call
from tests.contacts.test_workplace_browser import ARGS, CHROMIUM, login
from tests.contacts.test_workplace_browser import (
    _no_csp_violations as _no_csp_violations,  # autouse: nothing refused
)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHARTS = ("chart-cohorts", "chart-retention", "chart-active", "chart-calls", "chart-base", "chart-stock", "chart-plan",
          "chart-conversions", "chart-forecast", "chart-agents")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"),
]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def a_year_of_history(dealership):
    """24 cars sold in 2025 (two a month), three in four back for maintenance five months later; two
    agents calling the buyers every month."""
    alice = factories.make_user("alice", "agent", dealerships=(dealership,))
    bob = factories.make_user("bob", "agent", dealerships=(dealership,))
    for i in range(24):
        month = i % 12 + 1
        sale = factories.SaleFactory(vehicle__owner__dealership=dealership, sold_on=dt.date(2025, month, 10))
        if i % 4:
            visit_month = month + 5
            factories.ServiceVisitFactory(vehicle=sale.vehicle, visited_on=dt.date(2025 + (visit_month - 1) // 12, (visit_month - 1) % 12 + 1, 12))
        make_call(sale.customer, alice if i < 12 else bob, at(2025, month, 20), "reached" if i % 3 else "no_answer")
        if i % 5 == 0:
            make_call(sale.customer, alice, at(2025, month, 25), "booked")


def test_manager_sees_the_figures_with_their_definitions_and_a_chart_for_each(browser, live_server, moscow):
    # given
    a_year_of_history(moscow)
    manager = factories.make_user("maria", "manager", dealerships=(moscow,))
    # when
    page = login(browser, live_server, manager.username)
    page.goto(f"{live_server.url}/calls/dashboard/?from=2025-01-01&to=2025-12-31")
    page.wait_for_selector("#chart-cohorts")
    page.wait_for_function("() => typeof Chart !== 'undefined' && Chart.getChart('chart-agents') !== undefined")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-first-screen.png"))
    # then: the figures, when they were computed, and every chart drawn from the vendored Chart.js
    assert "computed" in page.inner_text("#computed-at")
    stats = page.inner_text(".stats")
    assert "75 %" in stats  # service return: 12 of the 16 cars old enough (sold January to August)
    assert "Definitions" in page.content()
    for chart in CHARTS:
        assert page.evaluate(f"() => Chart.getChart('{chart}') !== undefined"), chart
    assert page.evaluate("() => Chart.getChart('chart-agents').data.datasets.map(d => d.label)") == ["alice", "bob"]
    # the forecast chart has nothing to show (no forecasts were made) and says so
    assert page.locator("#chart-forecast ~ .chart-empty").inner_text() == "No data for this period."
    # and the CSV links of the charts and tables are there
    for export in ("series", "agent_series", "holdout", "dead_contacts", "agents", "figures", "elsewhere"):
        assert page.locator(f"a[href*='export={export}']").count() >= 1, export
