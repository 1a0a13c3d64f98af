"""The manager's dashboard in Debian's Chromium, with a screenshot to look at."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from tests import factories
from tests.browser import CHROMIUM, login
from tests.browser import browser as browser  # the fixture
from tests.contacts.test_dashboard import at, make_call

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHARTS = ("chart-cohorts", "chart-retention", "chart-active", "chart-calls", "chart-base", "chart-stock", "chart-plan",
          "chart-conversions", "chart-forecast", "chart-agents")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"),
]



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


def dashboard_in_russian(browser, live_server, dealership, period, *, chart):
    """The dashboard of ``period`` as a Russian-speaking manager of the dealership sees it, once ``chart`` is drawn."""
    manager = factories.make_user("maria", "manager", dealerships=(dealership,))
    page = login(browser, live_server, manager.username)
    page.context.add_cookies([{"name": "django_language", "value": "ru", "url": live_server.url}])
    page.goto(f"{live_server.url}/calls/dashboard/?{period}")
    page.wait_for_function(f"() => typeof Chart !== 'undefined' && Chart.getChart('{chart}') !== undefined")
    ARTIFACTS.mkdir(exist_ok=True)
    return page


def test_the_dashboard_in_russian_names_the_agents_and_writes_numbers_and_times_the_russian_way(browser, live_server, moscow):
    # given: a year of calls by Alisa Orlova and Boris Kim; a Russian-speaking manager at 1366x768
    a_year_of_history(moscow)
    for username, first, last in (("alice", "Алиса", "Орлова"), ("bob", "Борис", "Ким")):
        User.objects.filter(username=username).update(first_name=first, last_name=last)
    # when
    page = dashboard_in_russian(browser, live_server, moscow, "from=2025-01-01&to=2025-12-31", chart="chart-agents")
    page.screenshot(path=str(ARTIFACTS / "dashboard-ru.png"), full_page=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-ru-first-screen.png"))
    page.locator("#chart-calls").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "dashboard-ru-charts.png"))
    # then: the page keeps to the screen's width (the long Russian headers scroll inside their card)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1366
    # and when the figures were computed, in Moscow's time (the page's clock: 10:00 in Moscow)
    assert page.inner_text("#computed-at").startswith("рассчитано 17.11.2026 10:0")
    assert "UTC" not in page.inner_text("main")
    # and the agents by name, in the table and the chart
    assert page.evaluate("() => Chart.getChart('chart-agents').data.datasets.map(d => d.label)") == ["Алиса Орлова", "Борис Ким"]
    assert "Алиса Орлова" in page.inner_text("main") and "alice" not in page.inner_text("main")
    # and the charts' numbers as Russian writes them: a decimal comma, a space between thousands, months as on the page
    calls = "Chart.getChart('chart-calls')"
    label = page.evaluate(f"() => {calls}.options.plugins.tooltip.callbacks.label({{raw: 66.7, dataset: {{label: 'дозвон', unit: 'percent'}}}})")
    assert label == "дозвон: 66,7\u00a0%"
    count = page.evaluate(f"() => {calls}.options.plugins.tooltip.callbacks.label({{raw: 12345, dataset: {{label: 'звонки', unit: 'count'}}}})")
    assert count == "звонки: 12\u00a0345"
    ticks = page.evaluate(f"() => {calls}.scales.y1.ticks.map(t => t.label)")
    assert ticks and all(tick.endswith("\u00a0%") and "." not in tick for tick in ticks), ticks
    assert page.evaluate(f"() => {calls}.data.labels.slice(0, 2)") == ["01.2025", "02.2025"]


def test_a_crr_above_100_is_explained_beside_it_in_russian(browser, live_server, moscow):
    # given: Anna bought in March 2024; Vera bought in 2020 and came back for a service visit in February 2025
    factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2024, 3, 1))
    vera = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2020, 1, 1)).vehicle
    factories.ServiceVisitFactory(vehicle=vera, visited_on=dt.date(2025, 2, 15))
    # when: January and February 2025 (S = 1, N = 0, E = 2)
    page = dashboard_in_russian(browser, live_server, moscow, "from=2025-01-01&to=2025-02-28", chart="chart-retention")
    page.screenshot(path=str(ARTIFACTS / "dashboard-crr-above-100-ru.png"))
    page.locator("#chart-retention").locator("xpath=ancestor::div[contains(@class, 'card')]").screenshot(
        path=str(ARTIFACTS / "dashboard-crr-chart-ru.png"))
    # then: CRR 200 % and churn −100 %, each with its explanation in words; the chart explains its February
    assert "больше 100 %: вернулось больше клиентов" in page.inner_text("#crr-note")
    assert "меньше нуля: вернулось больше клиентов" in page.inner_text("#churn-note")
    assert "вернувшиеся после перерыва" in page.inner_text(".chart-explanation")
