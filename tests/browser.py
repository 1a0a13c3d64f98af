"""What every browser test shares: Debian's Chromium driven by Playwright, a login through the form, and
the fixed clock they run under.

Browser tests run at a fixed moment (``BROWSER_NOW``, a Tuesday morning in Moscow), set by the
``_browser_clock`` fixture of tests/conftest.py for every test marked ``browser``: the server's clock
through time-machine (ticking, so the live server sees time pass) and the page's clock through
Playwright, so a test's "today", the call timer and the queue's dates are the same on every run and
at any real hour. The same fixture fails a browser test whose pages had anything refused by the
Content-Security-Policy (``CSP_VIOLATIONS``: a page that lost a script or a style). The browser's cookie jar keeps the real clock; Django's cookies carry Max-Age, which
takes precedence over their (faked) Expires, so a login holds.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils import timezone

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
BROWSER_NOW = dt.datetime(2026, 11, 17, 7, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in Moscow
# What the Content-Security-Policy refused in the current test's pages (tests/conftest.py checks it is empty).
CSP_VIOLATIONS: list[str] = []


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's ORM calls are still synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def new_page(browser, *, width=1366, height=768):
    """A fresh browser context (own cookies) whose page clock starts at the server's (faked) now."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.context.clock.install(time=timezone.now())
    page.on("console", lambda message: CSP_VIOLATIONS.append(f"{page.url}: {message.location} {message.text[:120]}")
            if "Content Security Policy" in message.text else None)
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                         "console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI))")
    return page


def login(browser, live_server, username, *, width=1366, height=768):
    """A fresh browser context logged in through the login form."""
    page = new_page(browser, width=width, height=height)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page
