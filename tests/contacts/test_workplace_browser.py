"""The agent's day in a real headless Chromium (Debian's package, driven by Playwright)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

from contacts.models import CallTask, ContactRules
from customers.models import Consent
from tests import factories
from tests.contacts.test_calls import make_task

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"),
]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_dealership(moscow):
    """Moscow's call centre works every day, 00:00-23:59, so the test runs at any hour."""
    moscow.call_hours_start = dt.time(0, 0)
    moscow.call_hours_end = dt.time(23, 59)
    moscow.save()
    ContactRules.objects.update_or_create(dealership=moscow, defaults={"working_weekdays": "1234567"})
    return moscow


def login(browser, live_server, username):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click("button[type=submit]")
    return page


def today_in(dealership):
    return dealership.local_date(timezone.now())


def test_agent_takes_a_call_records_reached_with_mileage_and_gets_the_next(browser, live_server, open_dealership):
    # given
    ARTIFACTS.mkdir(exist_ok=True)
    agent = factories.make_user("anna", "agent", dealerships=(open_dealership,))
    day = today_in(open_dealership)
    first = make_task(open_dealership, scheduled_on=day, priority=1)
    second = make_task(open_dealership, scheduled_on=day, priority=2)
    page = login(browser, live_server, agent.username)
    page.screenshot(path=str(ARTIFACTS / "queue.png"))
    # when: next call, then "reached" with a mileage (two clicks and a number)
    page.click("#next-call")
    page.wait_for_url(f"**/calls/task/{first.pk}/")
    assert "Hello anna" in page.content() or "Hello" in page.inner_text(".script")
    page.screenshot(path=str(ARTIFACTS / "call.png"))
    page.fill("#id_odometer_km", "15000")
    page.click("button[data-key='1']")
    # then: the next call opens
    page.wait_for_url(f"**/calls/task/{second.pk}/")
    first.refresh_from_db()
    assert first.status == "done" and first.outcome == "reached"
    assert first.customer.vehicles.get().odometer_readings.filter(odometer_km=15000, source="call").exists()


def test_two_agents_claiming_at_once_get_different_calls(browser, live_server, open_dealership):
    day = today_in(open_dealership)
    tasks = [make_task(open_dealership, scheduled_on=day) for _ in range(2)]
    pages = [login(browser, live_server, factories.make_user(name, "agent", dealerships=(open_dealership,)).username)
             for name in ("ann", "ben")]
    for page in pages:
        page.click("#next-call")
    for page in pages:
        page.wait_for_url("**/calls/task/*/")
    urls = {page.url for page in pages}
    assert urls == {f"{live_server.url}/calls/task/{t.pk}/" for t in tasks}


def test_do_not_call_removes_the_customers_future_calls(browser, live_server, open_dealership):
    day = today_in(open_dealership)
    customer = factories.CustomerFactory(dealership=open_dealership)
    make_task(open_dealership, customer=customer, scheduled_on=day)
    future = make_task(open_dealership, customer=customer, scheduled_on=day + dt.timedelta(days=9))
    page = login(browser, live_server, factories.make_user("dina", "agent", dealerships=(open_dealership,)).username)
    page.click("#next-call")
    page.wait_for_url("**/calls/task/*/")
    page.keyboard.press("9")
    page.wait_for_url("**/calls/queue/")
    assert Consent.objects.get(customer=customer).is_allowed is False
    assert CallTask.objects.get(pk=future.pk).status == "cancelled"


def test_supervisor_releases_a_stale_claim(browser, live_server, open_dealership):
    ARTIFACTS.mkdir(exist_ok=True)
    agent = factories.make_user("eva", "agent", dealerships=(open_dealership,))
    task = make_task(open_dealership, scheduled_on=today_in(open_dealership))
    CallTask.objects.filter(pk=task.pk).update(
        status="claimed", claimed_by=agent, claimed_at=timezone.now() - dt.timedelta(minutes=45)
    )
    boss = factories.make_user("sam", "supervisor", dealerships=(open_dealership,))
    page = login(browser, live_server, boss.username)
    page.goto(f"{live_server.url}/calls/floor/")
    assert "idle too long" in page.content()
    page.screenshot(path=str(ARTIFACTS / "floor.png"))
    page.click("text=Release")
    page.wait_for_url("**/calls/floor/")
    assert CallTask.objects.get(pk=task.pk).status == "open"


def test_agent_of_another_dealership_gets_not_found(browser, live_server, open_dealership, yekaterinburg):
    task = make_task(open_dealership, scheduled_on=today_in(open_dealership))
    page = login(browser, live_server, factories.make_user("fred", "agent", dealerships=(yekaterinburg,)).username)
    response = page.goto(f"{live_server.url}/calls/task/{task.pk}/")
    assert response.status == 404
    assert "does not exist, or it belongs to a dealership" in page.content()
