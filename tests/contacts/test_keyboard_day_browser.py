"""A day of calls by one agent with the keyboard only (Dial is the one mouse trip: a tel: link the phone
system takes), in Debian's Chromium: next call, mileage, outcome, call back, booking, no answer.

The suite works 30 calls; ``CLM_KEYBOARD_DAY_CALLS=150`` works a whole day's 150 (prints the time per call).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from contacts.models import AgentPresence, CallTask, Handoff
from customers.models import OdometerReading
from tests import factories
from tests.browser import CHROMIUM, login
from tests.browser import browser as browser  # the fixture
from tests.contacts.factories import make_call_task
from tests.contacts.test_workplace_browser import open_dealership as open_dealership  # the fixture
from tests.contacts.test_workplace_browser import today_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"),
]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CALLS = int(os.environ.get("CLM_KEYBOARD_DAY_CALLS", "30"))


def _outcome_of(n: int) -> str:
    """The day's mix: most calls reached with a mileage, some not answered, a call back, a booking."""
    return ["reached", "no_answer", "reached", "call_back", "reached", "booked", "reached", "no_answer", "reached", "reached"][n % 10]


def test_a_day_of_calls_needs_no_mouse_but_dial(browser, live_server, open_dealership):
    # given: a queue of the day's calls
    agent = factories.make_user("anna", "agent", dealerships=(open_dealership,))
    day = today_in(open_dealership)
    tasks = [make_call_task(open_dealership, scheduled_on=day, priority=1 + n % 9, reading_km=8000) for n in range(CALLS)]
    page = login(browser, live_server, agent.username)
    page.evaluate("window.notReloaded = true")
    started = time.monotonic()
    worked: list[tuple[int, str]] = []
    # when: every call worked from the keyboard
    for n in range(CALLS):
        if n == 0:
            page.keyboard.press("n")  # from the queue; afterwards the next call opens by itself
        page.wait_for_selector("#outcome-form")
        task_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        assert page.get_attribute("#dial", "href").startswith("tel:")  # the one mouse trip
        outcome = _outcome_of(n)
        if outcome == "reached":
            page.keyboard.press("m")
            page.keyboard.type(str(9000 + n * 10))
            page.keyboard.press("Escape")
            page.keyboard.press("1")
        elif outcome == "no_answer":
            page.keyboard.press("2")
        elif outcome == "call_back":
            page.keyboard.press("3")  # the panel opens on the suggested time
            page.wait_for_selector("#panel-call_back:not([hidden])")
            page.keyboard.press("Enter")
        elif outcome == "booked":
            page.keyboard.press("4")  # the panel opens on the next working day
            page.wait_for_selector("#panel-booked:not([hidden])")
            page.keyboard.press("Enter")
        worked.append((task_id, outcome))
        if n < CALLS - 1:
            page.wait_for_function(f"() => !location.pathname.endsWith('/task/{task_id}/')")
        else:
            page.wait_for_function("() => !document.querySelector('#outcome-form')")
    seconds = time.monotonic() - started
    # then: every call is recorded as keyed, the mileages stored, and the page was never reloaded
    assert page.evaluate("window.notReloaded") is True
    assert len({task_id for task_id, _ in worked}) == CALLS
    for task_id, outcome in worked:
        task = CallTask.objects.get(pk=task_id)
        assert task.attempts_made.order_by("-id").first().outcome == outcome, (task_id, outcome)
    reached = [task_id for task_id, outcome in worked if outcome == "reached"]
    assert OdometerReading.objects.filter(source="call", vehicle__owner__call_tasks__in=reached).count() == len(reached)
    assert Handoff.objects.filter(kind=Handoff.Kind.BOOKING).count() == sum(o == "booked" for _, o in worked)
    assert {t.pk for t in tasks} == {task_id for task_id, _ in worked}
    # and: the queue, once the day's calls are done, offers a pause; the floor then shows it
    page.goto(f"{live_server.url}/calls/queue/")
    with page.expect_navigation():
        page.click("#pause")
    assert "Paused since" in page.inner_text("#paused")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "queue-paused.png"))
    assert AgentPresence.objects.get(user=agent).state == "paused"
    print(f"\n{CALLS} calls worked from the keyboard in {seconds:.1f} s ({seconds / CALLS:.2f} s a call, the browser's and the server's time)")
