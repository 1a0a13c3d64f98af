"""The fixed clock of the browser tests (tests/browser.py): server and page agree, and logging in works
although the faked moment lies in the real past."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils import timezone

from tests import factories
from tests.browser import BROWSER_NOW, CHROMIUM, login
from tests.browser import browser as browser  # the fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"),
]


def test_server_and_page_run_at_the_fixed_moment_and_a_login_holds(browser, live_server, moscow):
    factories.make_user("alice", "agent", dealerships=(moscow,))
    assert abs(timezone.now() - BROWSER_NOW) < dt.timedelta(minutes=5)

    page = login(browser, live_server, "alice")

    assert "/accounts/login/" not in page.url  # the session cookie was kept (Max-Age, not the faked Expires)
    page_now = dt.datetime.fromtimestamp(page.evaluate("Date.now()") / 1000, tz=dt.UTC)
    assert abs(page_now - BROWSER_NOW) < dt.timedelta(minutes=5)
    page.goto(f"{live_server.url}/calls/")
    assert "/accounts/login/" not in page.url
