"""Script A/B in Debian's Chromium: the admin adds a variant on the template's page, publishes it, and
the dashboard compares the variants; English and Russian, 1366x768, with screenshots to look at."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

from contacts import dashboard
from contacts.models import TouchpointTemplate
from tests import factories
from tests.browser import CHROMIUM, login
from tests.browser import browser as browser  # the fixture
from tests.contacts.test_script_variants import _finished_calls

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"),
]


def shoot(page, name, selector=None):
    ARTIFACTS.mkdir(exist_ok=True)
    if selector:
        page.locator(selector).screenshot(path=str(ARTIFACTS / f"script-ab-{name}.png"))
    page.screenshot(path=str(ARTIFACTS / f"script-ab-{name}-first-screen.png"))


def switch_language(page, code):
    with page.expect_navigation():
        page.select_option("select[name=language]", code)


def test_admin_adds_a_script_variant_and_the_dashboard_compares_them(browser, live_server, moscow):
    # given
    admin = factories.make_user("ada", "admin", "manager", dealerships=(moscow,))
    page = login(browser, live_server, admin.username)
    page.goto(f"{live_server.url}/program/templates/service_invite/")
    assert page.is_hidden(".ab-share")
    # when: a variant B with 40 % of the calls, first with shares that do not add up
    page.click("#add-variant")
    assert page.is_visible(".ab-share")
    page.fill("#id_script_share", "70")
    page.fill("#variants input[name=variant_percent]", "40")
    page.fill("#variants textarea[name=variant_en]", "Good morning {{ customer.first_name }}! Your {{ vehicle.model }} is due for maintenance.")
    page.fill("#variants textarea[name=variant_ru]", "Доброе утро, {{ customer.first_name }}! Вашему {{ vehicle.model }} пора на ТО.")
    page.click("#save-draft")
    # then: refused in words, the variant kept on the page
    page.wait_for_selector("#ab .errorlist")
    assert "Variant shares add up to 110 %; they must add up to 100 %." in page.inner_text("#ab")
    assert page.locator("#variants .variant").count() == 1
    # when: corrected, saved and published
    page.fill("#id_script_share", "60")
    page.click("#save-draft")
    page.wait_for_selector("#draftbar")
    shoot(page, "editor-en", "#ab")
    with page.expect_navigation():  # a success message of the page before may still show
        page.click("#publish")
    page.wait_for_selector(".messages li.success")
    # then
    template = TouchpointTemplate.objects.get(code="service_invite")
    assert template.script_split() == [("A", 60), ("B", 40)]
    # and in Russian
    switch_language(page, "ru")
    assert "A/B-тест скрипта" in page.inner_text("#ab")
    shoot(page, "editor-ru", "#ab")
    # given: the calls of the spring, B booking far more
    _finished_calls(moscow, "A", {"booked": 12, "hot_lead": 3, "reached": 25, "no_answer": 20})
    _finished_calls(moscow, "B", {"booked": 30, "hot_lead": 2, "reached": 18, "no_answer": 10})
    # and the nightly job has computed the period's figures (another period is computed by a worker)
    dashboard.cached_figures(dealership_ids=(moscow.id,), start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30),
                             params={"repeat_years": 3, "return_months": 15, "active_months": 12},
                             today=moscow.local_date(timezone.now()), zone=moscow.zone)
    # when: the dashboard of the period
    page.goto(f"{live_server.url}/calls/dashboard/?from=2026-01-01&to=2026-06-30")
    page.wait_for_selector("#script-ab table")
    page.locator("#script-ab").scroll_into_view_if_needed()
    # then (Russian first, the language chosen above)
    text = page.inner_text("#script-ab")
    assert "Приглашение на ТО" in text and "доказано" in text and "пока не доказано" in text
    shoot(page, "dashboard-ru", "#script-ab")
    switch_language(page, "en")
    page.wait_for_selector("#script-ab table")
    text = page.inner_text("#script-ab")
    assert "Maintenance invitation" in text and "not proven yet" in text and "50.0 %" in text
    page.locator("#touchpoint-conversion").scroll_into_view_if_needed()
    shoot(page, "dashboard-en", "#script-ab")
    page.locator("#touchpoint-conversion").screenshot(path=str(ARTIFACTS / "script-ab-touchpoints-en.png"))
