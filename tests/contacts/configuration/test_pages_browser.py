"""The dealer's admin pages in Debian's Chromium, in English and Russian, with screenshots to look at."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

from contacts.models import TouchpointTemplate
from tests import factories
from tests.browser import CHROMIUM, login
from tests.browser import browser as browser  # the fixture

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"),
]


def shoot(page, name):
    """The whole page, and its first screen at 1366x768."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"configuration-{name}.png"), full_page=True)
    page.screenshot(path=str(ARTIFACTS / f"configuration-{name}-first-screen.png"))


def switch_language(page, code):
    with page.expect_navigation():
        page.select_option("select[name=language]", code)


def test_admin_edits_a_script_previews_the_draft_and_publishes_it(browser, live_server, moscow):
    # given: an admin of a dealership with a few recent buyers
    for i in range(6):
        factories.SaleFactory(vehicle__owner__dealership=moscow, vehicle__model="Rio", sold_on=timezone.localdate() - dt.timedelta(days=i + 1))
    admin = factories.make_user("ada", "admin", dealerships=(moscow,))
    page = login(browser, live_server, admin.username)
    # when: the program page
    page.goto(f"{live_server.url}/program/")
    # then: the three-year timeline of the reference car, touchpoint by touchpoint in words
    assert page.locator("#timeline .lane").count() >= 20
    assert "21 days before each predicted maintenance date" in page.inner_text("#templates")
    shoot(page, "program-en")
    # when: the first-weeks template, a placeholder picked into the English script, saved as a draft
    page.click("#templates a[href$='/first_weeks/']")
    page.fill("#id_script_en", "Hello ")
    page.click("#id_script_en")
    page.keyboard.press("End")
    page.click("#picker button[data-variable='customer.first_name']")
    assert page.input_value("#id_script_en") == "Hello {{ customer.first_name }}"
    page.fill("#id_offset_days", "20")
    page.click("#save-draft")
    page.wait_for_selector("#draftbar")
    assert TouchpointTemplate.objects.get(code="first_weeks").version == 1  # nothing live yet
    # and previewed
    page.click("#draftbar button:has-text('Preview')")
    page.wait_for_selector("#preview-result")
    assert "Hello " in page.inner_text("#rendered-en")
    assert page.locator("#load tbody tr").count() == 1
    shoot(page, "template-preview-en")
    # when: published
    with page.expect_navigation():  # a success message of the page before may still show
        page.click("#publish")
    page.wait_for_selector(".messages li.success")
    # then
    template = TouchpointTemplate.objects.get(code="first_weeks")
    assert (template.version, template.offset_days, template.script_en) == (2, 20, "Hello {{ customer.first_name }}")
    assert page.locator("#versions tbody tr").count() == 2
    # and in Russian
    switch_language(page, "ru")
    assert "Опубликованные версии" in page.content()
    shoot(page, "template-ru")
    page.goto(f"{live_server.url}/program/")
    assert "за 21 день до каждой прогнозной даты ТО" in page.inner_text("#templates")
    shoot(page, "program-ru")


def test_admin_reorders_departments_ticks_saturday_and_adds_a_person(browser, live_server, moscow):
    from django.contrib.auth.models import User

    from contacts.models import ContactRules

    # given
    admin = factories.make_user("ada", "admin", dealerships=(moscow,))
    page = login(browser, live_server, admin.username)
    # when: the rules page, Saturday ticked, sales moved to the top
    page.goto(f"{live_server.url}/program/rules/")
    assert page.locator("#holidays tr").count() >= 10
    page.check("input[name=working_weekdays][value='6']")
    for _ in range(2):
        page.click("#department-order li[data-code='sales'] button.up")
    assert page.inner_text("#department-order li:first-child .name") == "Sales"
    shoot(page, "rules-en")
    with page.expect_navigation():  # a success message of the page before may still show
        page.click("#save-rules")
    page.wait_for_selector(".messages li.success")
    # then
    rules = ContactRules.objects.get(dealership=moscow)
    assert rules.working_weekdays == "123456"
    assert rules.department_priorities["sales"] == 1
    # and in Russian, the team page: a new agent
    switch_language(page, "ru")
    shoot(page, "rules-ru")
    page.goto(f"{live_server.url}/team/")
    page.fill("#id_username", "olga")
    page.fill("#id_last_name", "Смирнова")
    page.fill("#id_password", "a-long-first-password")
    page.check("input[name=roles][value='agent']")
    page.check(f"input[name=dealerships][value='{moscow.pk}']")
    with page.expect_navigation():  # a success message of the page before may still show
        page.click("#add-member button[type=submit]")
    page.wait_for_selector(".messages li.success")
    assert "Оператор колл-центра" in page.inner_text("#team")
    assert list(User.objects.get(username="olga").dealerships.all()) == [moscow]
    shoot(page, "team-ru")
    page.goto(f"{live_server.url}/program/profit/")
    shoot(page, "profit-ru")
    switch_language(page, "en")
    shoot(page, "profit-en")
    page.goto(f"{live_server.url}/team/")
    shoot(page, "team-en")
