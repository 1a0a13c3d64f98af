"""The manager's dashboard in Debian's Chromium, with a screenshot to look at."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from tests import factories
from tests.contacts.test_workplace_browser import ARGS, CHROMIUM, login

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
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


def test_manager_sees_the_figures_with_their_definitions_and_a_chart(browser, live_server, moscow):
    # given: two buyers, one of whom came back for maintenance
    for returned in (True, False):
        sale = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2025, 1, 15))
        if returned:
            factories.ServiceVisitFactory(vehicle=sale.vehicle, visited_on=dt.date(2025, 6, 10))
    manager = factories.make_user("maria", "manager", dealerships=(moscow,))
    # when
    page = login(browser, live_server, manager.username)
    page.goto(f"{live_server.url}/calls/dashboard/?from=2024-06-01&to=2026-06-01")
    page.wait_for_selector("#cohorts")
    page.wait_for_timeout(500)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    # then
    body = page.content()
    assert "service-return rate" in body and "Definitions" in body
    assert "50 %" in page.inner_text(".stats")
    assert page.evaluate("() => Chart.getChart('cohorts') !== undefined")
