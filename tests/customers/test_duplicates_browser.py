"""The Duplicates page in Debian's Chromium: both customers side by side, a merge by one click, with a
screenshot to look at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.utils import timezone

from customers.duplicates import detect_duplicates
from customers.models import Customer, DuplicateCandidate
from tests import factories
from tests.browser import CHROMIUM, login
from tests.browser import browser as browser  # the fixture

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"),
]


def test_an_admin_reviews_two_pairs_and_merges_one(browser, live_server, moscow):
    # given
    factories.make_user("ann", "admin", dealerships=(moscow,))
    kept = factories.CustomerFactory(dealership=moscow, last_name="Иванов", first_name="Пётр", phone="+79161234567",
                                     email="petr@example.ru", external_id="C-1")
    twin = factories.CustomerFactory(dealership=moscow, last_name="Иванов", first_name="Петр", phone="+79267654321",
                                     email="PETR@example.ru", external_id="C-9")
    factories.VehicleFactory(owner=kept, make="Kia", model="Rio", plate="А123ВС 77")
    factories.VehicleFactory(owner=twin, make="Hyundai", model="Creta")
    for name in ("Сидорова", "Сидорова"):
        factories.CustomerFactory(dealership=moscow, last_name=name, first_name="Анна", phone="+79031112233")
    detect_duplicates(dealership=moscow, now=timezone.now())
    page = login(browser, live_server, "ann")
    # when
    page.goto(f"{live_server.url}/customers/duplicates/")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "duplicates.png"), full_page=True)
    # then
    assert page.locator(".duplicate-pair").count() == 2
    pair = page.locator(".duplicate-pair", has_text="Иванов")
    assert "same e-mail" in pair.inner_text() and "Hyundai Creta" in pair.inner_text()
    # when
    pair.locator(f"button[name=survivor][value='{kept.pk}']").click()
    page.wait_for_load_state("networkidle")
    # then
    assert "was merged into" in page.inner_text(".messages")
    assert page.locator(".duplicate-pair").count() == 1
    assert Customer.objects.get(pk=twin.pk).merged_into_id == kept.pk
    assert DuplicateCandidate.objects.filter(status="merged").count() == 1
