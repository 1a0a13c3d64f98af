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
    # and messages from 09:30, a hot hand-off answered within one working hour
    page.fill("#id_message_hours_start", "09:30")
    page.fill("#id_handoff_hours_hot", "1")
    shoot(page, "rules-en")
    with page.expect_navigation():  # a success message of the page before may still show
        page.click("#save-rules")
    page.wait_for_selector(".messages li.success")
    # then
    rules = ContactRules.objects.get(dealership=moscow)
    assert rules.working_weekdays == "123456"
    assert rules.department_priorities["sales"] == 1
    assert (rules.message_hours_start, rules.handoff_hours_hot) == (dt.time(9, 30), 1)
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


# The words each language shows for the checks below (the page's own, not ids).
SAID = {
    "en": {"draft": "it is not live", "live": "Version 1 is live", "new": "new, not live yet",
           "restored": "Version 1 is the draft now", "restore": "Restore as a draft"},
    "ru": {"draft": "он ещё не действует", "live": "Версия 1 действует", "new": "новая, ещё не действует",
           "restored": "Версия 1 теперь черновик", "restore": "Вернуть как черновик"},
}


@pytest.mark.parametrize("language", ["en", "ru"])
def test_admin_creates_a_new_touchpoint_which_is_a_draft_until_published(browser, live_server, moscow, language):
    from contacts.models import Department, TemplateVersion

    # given: an admin on the program page, in the language of the test
    admin = factories.make_user("ada", "admin", dealerships=(moscow,))
    page = login(browser, live_server, admin.username)
    page.goto(f"{live_server.url}/program/")
    if language == "ru":
        switch_language(page, "ru")
    # when: a new touchpoint, six weeks after the sale, a service call with its scripts
    with page.expect_navigation():
        page.click("a[href$='/program/templates/new/']")
    page.fill("#id_code", "six_weeks")
    page.fill("#id_name_en", "Six weeks after the sale")
    page.fill("#id_name_ru", "Шесть недель после покупки")
    page.select_option("#id_department", str(Department.objects.get(code="service").pk))
    page.select_option("#id_channel", "call")
    page.select_option("#id_anchor", "sale")
    page.select_option("#id_recurrence", "once")
    page.select_option("#id_direction", "after")
    page.fill("#id_offset_days", "42")
    page.fill("#id_script_en", "Hello {{ customer.first_name }}, how is the car after six weeks?")
    page.fill("#id_script_ru", "Здравствуйте, {{ customer.first_name }}! Как машина после шести недель?")
    shoot(page, f"template-new-{language}")
    with page.expect_navigation():
        page.click("#save-draft")
    # then: a draft, shown as not live, and nothing planned from it yet
    page.wait_for_selector("#draftbar")
    assert page.url.endswith("/program/templates/six_weeks/")
    assert SAID[language]["draft"] in page.inner_text("#draftbar")
    assert SAID[language]["new"] in page.inner_text("h1")
    assert not TouchpointTemplate.objects.filter(code="six_weeks").exists()
    assert TemplateVersion.objects.filter(code="six_weeks", status="draft").count() == 1
    # and on the program page, as a draft
    page.goto(f"{live_server.url}/program/")
    assert "six_weeks" in page.inner_text("body")
    with page.expect_navigation():
        page.click("a[href$='/program/templates/six_weeks/']")
    shoot(page, f"template-new-draft-{language}")
    # when: published
    with page.expect_navigation():
        page.click("#publish")
    page.wait_for_selector(".messages li.success")
    # then: live as version 1
    assert SAID[language]["live"] in page.inner_text(".messages")
    created = TouchpointTemplate.objects.get(code="six_weeks")
    assert (created.version, created.offset_days, created.anchor, created.department.code) == (1, 42, "sale", "service")
    assert created.script_ru == "Здравствуйте, {{ customer.first_name }}! Как машина после шести недель?"
    assert page.locator("#draftbar").count() == 0
    assert page.locator("#versions tbody tr").count() == 1
    shoot(page, f"template-new-published-{language}")


@pytest.mark.parametrize("language", ["en", "ru"])
def test_admin_restores_an_older_version_as_a_draft_and_publishes_it(browser, live_server, moscow, language):
    from contacts.configuration.versions import publish_template_version, save_template_draft
    from contacts.models import TemplateVersion

    # given: the first-weeks call at version 2, with new words; version 1 kept its own
    admin = factories.make_user("ada", "admin", dealerships=(moscow,))
    template = TouchpointTemplate.objects.get(code="first_weeks")
    original_en, original_ru = template.script_en, template.script_ru
    template.script_en, template.script_ru = "Version two, {{ customer.first_name }}.", "Версия два, {{ customer.first_name }}."
    publish_template_version(draft=save_template_draft(edited=template, user=admin, now=timezone.now()), user=admin,
                             now=timezone.now())
    page = login(browser, live_server, admin.username)
    page.goto(f"{live_server.url}/program/templates/first_weeks/")
    if language == "ru":
        switch_language(page, "ru")
    assert page.locator("#versions tbody tr").count() == 2
    # when: version 1 restored from the versions table
    first = page.locator("#versions tbody tr").filter(has=page.locator("td:first-child", has_text="1"))
    with page.expect_navigation():
        first.locator("button", has_text=SAID[language]["restore"]).click()
    page.wait_for_selector(".messages li.success")
    # then: the editor shows version 1's words as a draft, and version 2 stays live
    assert SAID[language]["restored"] in page.inner_text(".messages")
    assert SAID[language]["draft"] in page.inner_text("#draftbar")
    assert page.input_value("#id_script_en") == original_en
    assert page.input_value("#id_script_ru") == original_ru
    live = TouchpointTemplate.objects.get(code="first_weeks")
    assert (live.version, live.script_en) == (2, "Version two, {{ customer.first_name }}.")
    assert TemplateVersion.objects.get(code="first_weeks", status="draft").script_en == original_en
    shoot(page, f"template-restored-{language}")
    # when: the restored draft is published
    with page.expect_navigation():
        page.click("#publish")
    page.wait_for_selector(".messages li.success")
    # then: version 3 is live with version 1's words; all three are kept
    live.refresh_from_db()
    assert (live.version, live.script_en, live.script_ru) == (3, original_en, original_ru)
    assert page.locator("#versions tbody tr").count() == 3
    shoot(page, f"template-restored-published-{language}")
