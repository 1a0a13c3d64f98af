"""In Debian's Chromium, EN and RU: inviting a person by e-mail through a real SMTP server and following
the link; the template preview in the dealer's terms; the login page's language switch; the hand-off
inbox and the dashboard on a 390x844 phone. Screenshots go to $CLM_SHOTS (else test-artifacts/)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from contacts.models import ContactRules, Department, Handoff
from tests import factories
from tests.contacts.channels.conftest import smtp_server as smtp_server  # the fixture
from tests.contacts.configuration.test_invites import LINK, mail_text
from tests.contacts.configuration.test_pages_browser import switch_language
from tests.contacts.test_dashboard_browser import a_year_of_history
from tests.contacts.test_workplace_browser import CHROMIUM, login
from tests.contacts.test_workplace_browser import browser as browser  # the fixture

SHOTS = Path(os.environ.get("CLM_SHOTS") or Path(__file__).resolve().parents[3] / "test-artifacts")
PHONE = {"width": 390, "height": 844}
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"),
]


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.screenshot(path=str(SHOTS / f"{name}-first-screen.png"))


def fits_the_screen(page, selector):
    """Every element of ``selector`` that is shown lies within the viewport's width, and the page does
    not scroll sideways."""
    width = page.viewport_size["width"]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    boxes = [page.locator(selector).nth(i).bounding_box() for i in range(page.locator(selector).count())]
    shown = [box for box in boxes if box]
    assert shown, selector
    for box in shown:
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (selector, box)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_an_admin_invites_a_person_who_sets_a_password_and_logs_in(browser, live_server, moscow, smtp_server, language):
    # given: an admin on the team page, in the language of the test
    admin = factories.make_user("ada", "admin", dealerships=(moscow,))
    page = login(browser, live_server, admin.username)
    page.goto(f"{live_server.url}/team/")
    if language == "ru":
        switch_language(page, "ru")
    # when: they invite a person by e-mail
    page.fill("#id_invite-email", "olga@example.com")
    page.fill("#id_invite-first_name", "Ольга")
    page.fill("#id_invite-last_name", "Смирнова")
    page.check("#invite input[name='invite-roles'][value='agent']")
    page.check(f"#invite input[name='invite-dealerships'][value='{moscow.pk}']")
    with page.expect_navigation():  # a success message of the page before may still show
        page.click("#invite button[type=submit]")
    page.wait_for_selector(".messages li.success")
    # then: the grid shows her invited, with a button to send again; one e-mail went out
    row = page.locator("#team tr", has_text="Смирнова")
    assert ("invited, not yet accepted" if language == "en" else "приглашён, ещё не принял") in row.inner_text()
    assert row.locator("form.resend button").is_visible()
    shoot(page, f"team-invited-{language}")
    assert len(smtp_server.messages) == 1
    _message, text = mail_text(smtp_server.messages[0])
    assert ("Set your password here" if language == "en" else "Задайте пароль по этой ссылке") in text
    link = LINK.search(text).group(0)
    # when: she opens the link in her own browser and sets a password
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    olga = context.new_page()
    olga.goto(link)
    olga.wait_for_selector("#set-password")
    shoot(olga, f"invite-set-password-{language}")
    olga.fill("#id_new_password1", "a-long-new-password")
    olga.fill("#id_new_password2", "a-long-new-password")
    olga.click("#set-password button[type=submit]")
    olga.wait_for_selector("#id_username")
    # then: she logs in with her e-mail and lands on the product, not on a login form
    olga.fill("#id_username", "olga@example.com")
    olga.fill("#id_password", "a-long-new-password")
    olga.click("button[type=submit]")
    olga.wait_for_load_state("networkidle")
    assert "/accounts/login/" not in olga.url
    assert olga.locator("#id_password").count() == 0
    assert User.objects.get(email="olga@example.com").last_login is not None
    context.close()
    page.reload()
    assert "invited, not yet accepted" not in page.inner_text("#team")


def test_the_login_page_switches_to_russian_and_the_product_stays_russian(browser, live_server, moscow):
    # given: a supervisor on the login page in English
    factories.make_user("sam", "supervisor", dealerships=(moscow,))
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/calls/floor/")
    assert "Log in" in page.inner_text("h1")
    # when: Русский is chosen on the login page
    switch_language(page, "ru")
    # then: the login page is in Russian, still a login page, still going to the page asked for
    assert page.inner_text("h1") == "Вход"
    assert "/accounts/login/" in page.url and "next=/calls/floor/" in page.url
    shoot(page, "login-ru")
    # when: they log in
    page.fill("#id_username", "sam")
    page.fill("#id_password", "pw-sam")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    # then: the page asked for, in Russian, and no login form
    assert page.url.endswith("/calls/floor/")
    assert page.locator("#id_password").count() == 0
    assert page.evaluate("() => document.documentElement.lang") == "ru"
    assert "Выйти" in page.inner_text("header")
    shoot(page, "after-login-ru")
    # and back to English from the product
    switch_language(page, "en")
    assert "Log out" in page.inner_text("header")


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_preview_says_calls_a_day_against_capacity_the_touchpoints_met_and_sample_customers(
    browser, live_server, moscow, language
):
    # given: 12 recent buyers; Moscow takes 10 calls a day
    rules = ContactRules.for_dealership(moscow)
    rules.calls_per_agent, rules.default_agents_on_shift = 5, 2
    rules.save()
    today = timezone.localdate()
    for i in range(12):
        factories.SaleFactory(vehicle__owner__dealership=moscow, vehicle__model="Rio", sold_on=today - dt.timedelta(days=i % 3 + 1))
    admin = factories.make_user("ada", "admin", dealerships=(moscow,))
    page = login(browser, live_server, admin.username)
    if language == "ru":
        switch_language(page, "ru")
    # when: the first-weeks call is moved to 20 days after the sale, saved as a draft and previewed
    page.goto(f"{live_server.url}/program/templates/first_weeks/")
    page.fill("#id_offset_days", "20")
    page.click("#save-draft")
    page.wait_for_selector("#draftbar")
    page.click("#draftbar button[hx-get]")
    page.wait_for_selector("#preview-result")
    # then: a line per dealership with its capacity, contacts a year before and after, the sample customers
    load = page.inner_text("#load tbody tr")
    assert moscow.name in load and "10" in load
    assert "→" in page.inner_text("#per-year")
    assert page.locator("#samples tbody tr").count() == 5
    assert page.locator("#samples tbody tr td.after div").count() >= 5
    assert page.locator("#neighbours tbody tr").count() >= 1
    shoot(page, f"template-preview-{language}")


def hand_offs(dealership):
    service, sales = Department.objects.get(code="service"), Department.objects.get(code="sales")
    today = timezone.localdate()
    for i in range(4):
        sale = factories.SaleFactory(vehicle__owner__dealership=dealership, vehicle__model="Sportage",
                                     vehicle__plate=f"А12{i}ВС77")
        Handoff.objects.create(dealership=dealership, customer=sale.customer, vehicle=sale.vehicle,
                               department=sales if i % 2 else service, kind=Handoff.Kind.HOT_LEAD,
                               deadline=today + dt.timedelta(days=i - 1),
                               notes="Wants to trade in the Rio for a Sportage GT-Line, call after 18:00")


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_inbox_and_the_dashboard_work_on_a_phone(browser, live_server, moscow, language):
    # given: four open hand-offs and a year of calls; a supervisor on a 390x844 phone
    hand_offs(moscow)
    a_year_of_history(moscow)
    factories.make_user("sam", "supervisor", "manager", dealerships=(moscow,))
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(f"{live_server.url}/accounts/login/")
    if language == "ru":
        switch_language(page, "ru")
    page.fill("#id_username", "sam")
    page.fill("#id_password", "pw-sam")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    # when: the inbox
    page.goto(f"{live_server.url}/calls/inbox/")
    # then: every hand-off is a card whose Accept and Close buttons and result field are on screen
    assert page.locator("table.inbox tbody tr").count() == 4
    fits_the_screen(page, "table.inbox button")
    fits_the_screen(page, "table.inbox input[name=note]")
    shoot(page, f"phone-inbox-{language}")
    # and a hand-off is accepted with a thumb
    page.locator("table.inbox button.primary").first.tap()
    page.wait_for_load_state("networkidle")
    # when: the dashboard
    page.goto(f"{live_server.url}/calls/dashboard/?from=2025-01-01&to=2025-12-31")
    page.wait_for_selector(".stats")
    page.wait_for_function("() => typeof Chart !== 'undefined' && Chart.getChart('chart-agents') !== undefined")
    # then: figures, the period form and its buttons fit the width; wide tables scroll inside their card
    fits_the_screen(page, ".stats .stat")
    fits_the_screen(page, "form.card button, form.card a.btn")
    fits_the_screen(page, ".card")
    shoot(page, f"phone-dashboard-{language}")
    page.locator("#dead-contacts").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"phone-dashboard-tables-{language}.png"))
