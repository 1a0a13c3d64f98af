"""The department inbox in Debian's Chromium, as a head of sales, on a desktop and a phone, in English and
Russian: the badge, the escalated hand-off, the outcome buttons, forwarding; screenshots to look at."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

from contacts import tasks
from contacts.calls import handoffs as pipeline
from contacts.models import ContactRules, Department, Handoff
from tests import factories
from tests.browser import CHROMIUM, login
from tests.browser import browser as browser  # the fixture

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"),
]
WORDS = {
    "en": {"sold": "Sold", "escalated": "Escalated to you", "forward": "Forward", "more": "Temperature, forward"},
    "ru": {"sold": "Продано", "escalated": "Эскалировано вам", "forward": "Переадресовать", "more": "Температура, переадресация"},
}


def _pipeline(dealership):
    now = timezone.now()
    rules = ContactRules.for_dealership(dealership)
    sales = Department.objects.get(code="sales")
    made = []
    for name, temperature, hours_ago, note in (
        ("Попова", "hot", 30, "Хочет Sportage, просит перезвонить"),
        ("Иванов", "hot", 0, "Интересуется новым Rio"),
        ("Смирнова", "warm", 0, "Думает о покупке весной"),
    ):
        customer = factories.CustomerFactory(dealership=dealership, last_name=name, first_name="Анна", phone="+79161234567")
        factories.SaleFactory(customer=customer, vehicle__owner=customer, dealership=dealership,
                              sold_on=now.date() - dt.timedelta(days=2))
        made.append(pipeline.create_handoff(
            dealership=dealership, customer=customer, department=sales, kind=Handoff.Kind.HOT_LEAD,
            temperature=temperature, topic="purchase", now=now - dt.timedelta(hours=hours_ago), rules=rules, by=None,
            notes=note,
        ))
    tasks.sweep_handoffs()  # the first one missed its two working hours: escalated
    return made


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)])
def test_a_head_of_sales_works_the_inbox(browser, live_server, moscow, language, width, height):
    # given
    escalated, fresh, warm = _pipeline(moscow)
    factories.make_user("hank", "sales", "department_head", dealerships=(moscow,))
    words = WORDS[language]
    page = login(browser, live_server, "hank", width=width, height=height)
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    # when
    page.goto(f"{live_server.url}/calls/inbox/")
    page.wait_for_selector("#inbox-badge.badge")
    # then: the badge counts two new and the escalated one; the escalated one is on top
    assert page.inner_text("#inbox-badge") == "3"
    assert words["escalated"] in page.inner_text("main")
    assert Handoff.objects.get(pk=escalated.pk).escalated_at is not None
    tag = f"{language}-{width}"
    page.screenshot(path=str(ARTIFACTS / f"inbox-{tag}.png"), full_page=True)
    # the outcome buttons are on screen, not beyond its right edge
    row = page.locator(f"#handoff-{fresh.pk}")
    sold = row.locator("button[name=outcome][value=sold]")
    box = sold.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    # when: sold, linked to the sale the page offers
    row.locator("select[name=sale]").select_option(index=1)
    sold.click()
    page.wait_for_selector(f"#handoff-{fresh.pk}.closed")
    # then
    assert Handoff.objects.get(pk=fresh.pk).outcome == "sold"
    assert Handoff.objects.get(pk=fresh.pk).sale is not None
    assert words["sold"] in page.inner_text(f"#handoff-{fresh.pk}")
    # when: the warm one goes to trade-in with a note
    warm_row = page.locator(f"#handoff-{warm.pk}")
    warm_row.locator("summary").click()
    warm_row.locator("select[name=department]").select_option(str(Department.objects.get(code="trade_in").pk))
    warm_row.locator("form[action$='/forward/'] input[name=note]").fill("Есть Rio на обмен")
    page.screenshot(path=str(ARTIFACTS / f"inbox-forward-{tag}.png"))
    warm_row.locator(f"button:has-text('{words['forward']}')").click()
    page.wait_for_selector(f"#handoff-{warm.pk}.gone")
    # then
    assert Handoff.objects.get(pk=warm.pk).department.code == "trade_in"
    page.wait_for_function("() => document.getElementById('inbox-badge').innerText === '1'")  # only the escalated one left
    page.screenshot(path=str(ARTIFACTS / f"inbox-after-{tag}.png"), full_page=True)
