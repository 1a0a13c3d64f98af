"""The Content-Security-Policy: scripts and styles from this site only, nothing inline; the pages
still work under it in a real browser (Debian's Chromium)."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from contacts.models import TouchpointTemplate
from tests import factories
from tests.browser import CHROMIUM, CSP_VIOLATIONS, new_page
from tests.browser import browser as browser  # the fixture

ROOT = Path(__file__).resolve().parent.parent


def _directive(policy: str, name: str) -> str:
    return next(part.strip() for part in policy.split(";") if part.strip().startswith(name + " "))


def test_the_policy_allows_no_inline_script_or_style():
    policy = settings.CONTENT_SECURITY_POLICY
    assert _directive(policy, "script-src") == "script-src 'self'"
    assert _directive(policy, "style-src") == "style-src 'self'"
    assert "'unsafe-eval'" not in policy and "'unsafe-inline'" not in policy


def test_no_template_has_an_inline_script_handler_or_style():
    # The e-mail's HTML is read in mail clients, not under this site's policy.
    templates = [p for p in (ROOT / "templates").rglob("*.html") if p.parts[-2:] != ("email", "message.html")]
    for path in templates:
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert not re.search(r"<[a-z][^>]*\son[a-z]+=", text), path
        assert " style=" not in text and "<style" not in text, path
        assert "hx-on" not in text and 'hx-vals="js:' not in text, path


@pytest.mark.django_db
def test_pages_carry_the_policy(client, manager):
    login = client.get(reverse("login"))
    assert login["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    client.force_login(manager)
    customers = client.get(reverse("customers:list"))
    assert customers.status_code == 200
    assert customers["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    docs = client.get("/api/docs/")
    assert "script-src 'self';" in docs["Content-Security-Policy"]
    assert "<script>" not in docs.content.decode()



@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)")
def test_the_pages_work_under_the_policy_in_a_browser(browser, live_server, moscow):
    # given: an admin (every page) and a customer with a car and its readings
    admin = factories.make_user("ada", "admin", "manager", "supervisor", "agent", dealerships=(moscow,))
    admin.is_staff = admin.is_superuser = True
    admin.save()
    sale = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2024, 3, 1))
    for month, km in ((6, 4000), (12, 9000)):
        factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=dt.date(2024, month, 1), odometer_km=km)
    page = new_page(browser)  # its console is watched for refusals (tests/browser.py)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", f"pw-{admin.username}")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    # when: the pages are opened
    for url in (reverse("customers:detail", args=[sale.customer.pk]), reverse("contacts:queue"),
                reverse("contacts:floor"), reverse("contacts:inbox"), reverse("configuration:program"),
                reverse("configuration:rules"), reverse("customers:imports")):
        page.goto(live_server.url + url)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("() => typeof htmx === 'object'"), url
    # the admin's template page and its preview, swapped in by htmx, with its chart
    template = TouchpointTemplate.objects.order_by("pk").first()
    page.goto(live_server.url + reverse("admin:contacts_touchpointtemplate_change", args=[template.pk]))
    page.click("button[hx-post]")
    page.wait_for_selector("#template-preview h2, #template-preview .errornote")
    if page.locator("#preview-chart").count():
        page.wait_for_function("() => Chart.getChart('preview-chart') !== undefined")
    page.goto(live_server.url + reverse("customers:vehicle", args=[sale.vehicle.pk]))
    page.wait_for_function("() => typeof Chart !== 'undefined' && Chart.getChart('odometer-chart') !== undefined")
    # then: the vehicle's chart is drawn from the static script, the language switch works, nothing was refused
    assert page.evaluate("() => Chart.getChart('odometer-chart').data.datasets[0].label") == "Readings"
    with page.expect_navigation():
        page.select_option("select[name=language]", "ru")
    page.wait_for_function("() => typeof Chart !== 'undefined' && Chart.getChart('odometer-chart') !== undefined")
    assert page.evaluate("() => document.documentElement.lang") == "ru"
    assert page.evaluate("() => Chart.getChart('odometer-chart').data.datasets[0].label") == "Показания"
    assert page.evaluate("() => htmx.config.includeIndicatorStyles") is False
    assert CSP_VIOLATIONS == []
