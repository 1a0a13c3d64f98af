"""The agent's and the supervisor's day in a real headless Chromium (Debian's package, driven by Playwright).

Screenshots at 1366x768 go to test-artifacts/ (queue.png, call.png, floor.png) to be looked at.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

from contacts.models import AgentPresence, CallAttempt, CallTask, ContactRules
from customers.models import Consent, OdometerReading, VehicleForecast
from tests import factories
from tests.browser import ARGS, CHROMIUM, login  # noqa: F401 (ARGS: other browser tests import it from here)
from tests.browser import browser as browser  # the fixture
from tests.contacts.factories import make_call_task

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"),
]
SCRIPT = (
    "## {title} — Kia Sportage\n"
    "Greeting: Good afternoon, {first}! This is [[agent]] from Kia Moscow-South service. Is it a good time to talk?\n"
    "{body}\n"
    "Record: the mileage now; the date and time agreed, or why not."
)


@pytest.fixture
def open_dealership(moscow):
    """Moscow's call centre works every day, 00:00-23:59, so the tests run at any hour."""
    moscow.call_hours_start = dt.time(0, 0)
    moscow.call_hours_end = dt.time(23, 59)
    moscow.name = "Kia Moscow-South"
    moscow.save()
    ContactRules.objects.update_or_create(dealership=moscow, defaults={"working_weekdays": "1234567"})
    return moscow



def today_in(dealership):
    return dealership.local_date(timezone.now())


def realistic_call(dealership, day, *, priority=1):
    """A customer with a car, readings, a visit and a forecast, called about two merged topics."""
    customer = factories.CustomerFactory(dealership=dealership, first_name="Olga", middle_name="Petrovna",
                                         last_name="Smirnova", email="o.smirnova@example.ru")
    sale = factories.SaleFactory(vehicle__owner=customer, vehicle__model="Sportage", vehicle__plate="А123ВС77",
                                 vehicle__year=2024, sold_on=dt.date(2024, 3, 29))
    vehicle = sale.vehicle
    factories.ServiceVisitFactory(vehicle=vehicle, visited_on=dt.date(2025, 7, 30), odometer_km=31218)
    OdometerReading.objects.create(vehicle=vehicle, read_on=dt.date(2025, 7, 30), odometer_km=31218, source="visit")
    OdometerReading.objects.create(vehicle=vehicle, read_on=dt.date(2026, 3, 30), odometer_km=45839, source="visit")
    VehicleForecast.objects.create(
        vehicle=vehicle, computed_on=day, km_per_month=1876, km_per_month_low=1500, km_per_month_high=2200,
        source="readings", odometer_km=60444, odometer_on=day, next_due_on=day + dt.timedelta(days=7),
        due_earliest_on=day - dt.timedelta(days=7), due_latest_on=day + dt.timedelta(days=30), due_driver="km",
        due_odometer_km=60000, interval_number=4,
    )
    task = make_call_task(dealership, customer=customer, scheduled_on=day, priority=priority,
                          topics=("service_invite", "insurance_renewal"))
    task.script = "\n\n".join([
        SCRIPT.format(title="Maintenance invitation", first="Olga",
                      body="Goal: by our estimate your Sportage is due for maintenance TO-4 around the start of next month.\n"
                           "Ask: 1. What does the odometer show now? 2. Which day and time suit you for the visit?"),
        SCRIPT.format(title="Insurance renewal", first="Olga",
                      body="Goal: the insurance policy ends next month; offer a quote from the dealership.\n"
                           "Ask: may we send a quote by e-mail?"),
    ])
    task.agenda[0]["why"] = "maintenance due soon (TO-4), predicted from 1876 km a month"
    task.agenda[1]["why"] = "the policy ends in 30 days"
    task.explanation = {"deferred": [{"code": "tyre_season", "reason": "deferred:min_gap", "detail": "",
                                      "on": (day + dt.timedelta(days=8)).isoformat()}]}
    task.save(update_fields=["script", "agenda", "explanation"])
    return task


def test_agent_takes_a_call_records_reached_with_mileage_and_gets_the_next(browser, live_server, open_dealership):
    # given: a morning queue
    ARTIFACTS.mkdir(exist_ok=True)
    agent = factories.make_user("anna", "agent", dealerships=(open_dealership,))
    agent.first_name, agent.last_name = "Anna", "Ivanova"
    agent.save()
    day = today_in(open_dealership)
    now = timezone.now()
    first = realistic_call(open_dealership, day, priority=1)
    second = make_call_task(open_dealership, scheduled_on=day, priority=2)
    overdue = make_call_task(open_dealership, scheduled_on=day - dt.timedelta(days=12), priority=3)
    CallTask.objects.filter(pk=overdue.pk).update(window_end=day - dt.timedelta(days=1))
    make_call_task(open_dealership, scheduled_on=day, priority=4, kind="retry", attempts=1,
                   callback_at=now + dt.timedelta(hours=2))
    for _ in range(4):
        make_call_task(open_dealership, scheduled_on=day, priority=6)
    # when: the agent logs in and lands on the queue
    page = login(browser, live_server, agent.username)
    assert page.url.endswith("/calls/queue/")
    assert page.inner_text("#count-left") == "8"
    page.screenshot(path=str(ARTIFACTS / "queue.png"))
    # when: next call (the N key)
    page.keyboard.press("n")
    page.wait_for_url(f"**/calls/task/{first.pk}/")
    assert "This is Anna from Kia Moscow-South" in page.inner_text(".call-grid")
    assert page.get_attribute("#dial", "href") == f"tel:{first.customer.phone}"
    page.screenshot(path=str(ARTIFACTS / "call.png"))
    # when: a mistyped mileage is refused in place, nothing typed is lost
    page.fill("#id_odometer_km", "4583")
    page.fill("#id_note", "comes with his wife")
    page.fill("#result_0", "comes on Friday")
    page.click("button[data-key='1']")
    page.wait_for_selector("#outcome-card .errors")
    assert "4583 km is lower than the 45839 km" in page.inner_text("#outcome-card .errors")
    assert page.input_value("#id_note") == "comes with his wife"
    assert page.input_value("#result_0") == "comes on Friday"
    assert page.url.endswith(f"/calls/task/{first.pk}/")
    # when: corrected, "reached" is one click; the next call opens without a page reload
    page.evaluate("window.notReloaded = true")
    page.fill("#id_odometer_km", "58300")
    page.click("button[data-key='1']")
    page.wait_for_url(f"**/calls/task/{second.pk}/")
    # then
    assert page.evaluate("window.notReloaded") is True
    assert "Saved: Reached." in page.inner_text("main")
    first.refresh_from_db()
    assert (first.status, first.outcome) == ("done", "reached")
    assert first.items.get(position=0).result == "comes on Friday"
    assert OdometerReading.objects.filter(vehicle__owner=first.customer, odometer_km=58300, source="call").count() == 1
    assert CallAttempt.objects.get(call_task=first).note == "comes with his wife"


def test_two_agents_claiming_at_once_get_different_calls(browser, live_server, open_dealership):
    # given
    day = today_in(open_dealership)
    tasks = [make_call_task(open_dealership, scheduled_on=day) for _ in range(2)]
    pages = [login(browser, live_server, factories.make_user(name, "agent", dealerships=(open_dealership,)).username)
             for name in ("ann", "ben")]
    # when: both press Next call at once (the clicks are sent before either answer arrives)
    for page in pages:
        page.evaluate("document.getElementById('next-call').click()")
    for page in pages:
        page.wait_for_url("**/calls/task/*/")
    # then
    assert {page.url for page in pages} == {f"{live_server.url}/calls/task/{t.pk}/" for t in tasks}
    assert set(CallTask.objects.values_list("claimed_by__username", flat=True)) == {"ann", "ben"}


def test_a_do_not_call_outcome_removes_the_customers_future_calls(browser, live_server, open_dealership):
    # given
    day = today_in(open_dealership)
    customer = factories.CustomerFactory(dealership=open_dealership)
    make_call_task(open_dealership, customer=customer, scheduled_on=day)
    future = make_call_task(open_dealership, customer=customer, scheduled_on=day + dt.timedelta(days=9))
    page = login(browser, live_server, factories.make_user("dina", "agent", dealerships=(open_dealership,)).username)
    page.click("#next-call")
    page.wait_for_url("**/calls/task/*/")
    # when: key 9 opens the confirmation; confirming records it
    page.fill("#id_note", "asked never to be called")
    page.keyboard.press("Escape")
    page.keyboard.press("9")
    assert page.is_visible("#panel-do_not_call")
    page.click("#panel-do_not_call button.save")
    page.wait_for_url("**/calls/queue/")
    # then
    consent = Consent.objects.get(customer=customer)
    assert (consent.channel, consent.is_allowed, consent.reason) == ("call", False, "asked never to be called")
    assert CallTask.objects.get(pk=future.pk).status == "cancelled"
    assert "No calls are waiting right now." in page.inner_text("main")


def test_the_supervisor_releases_a_stale_claim(browser, live_server, open_dealership):
    # given: eva left a call 45 minutes ago; two colleagues are working
    ARTIFACTS.mkdir(exist_ok=True)
    now = timezone.now()
    eva = factories.make_user("eva", "agent", dealerships=(open_dealership,))
    eva.first_name, eva.last_name = "Eva", "Orlova"
    eva.save()
    task = make_call_task(open_dealership, scheduled_on=today_in(open_dealership))
    CallTask.objects.filter(pk=task.pk).update(status="claimed", claimed_by=eva, claimed_at=now - dt.timedelta(minutes=45))
    for username, first_name, made, reached in (("petr", "Petr", 23, 14), ("lena", "Lena", 31, 22)):
        colleague = factories.make_user(username, "agent", dealerships=(open_dealership,))
        colleague.first_name, colleague.last_name = first_name, "Agent"
        colleague.save()
        done = make_call_task(open_dealership, scheduled_on=today_in(open_dealership), status="done")
        CallAttempt.objects.bulk_create([
            CallAttempt(call_task=done, customer=done.customer, agent=colleague, started_at=now, ended_at=now,
                        outcome="reached" if n < reached else "no_answer")
            for n in range(made)
        ])
        busy = make_call_task(open_dealership, scheduled_on=today_in(open_dealership))
        CallTask.objects.filter(pk=busy.pk).update(status="claimed", claimed_by=colleague, claimed_at=now - dt.timedelta(minutes=3))
    for _ in range(3):
        make_call_task(open_dealership, scheduled_on=today_in(open_dealership))
    boss = factories.make_user("sam", "supervisor", dealerships=(open_dealership,))
    page = login(browser, live_server, boss.username)
    page.goto(f"{live_server.url}/calls/floor/")
    assert "idle too long" in page.inner_text("#floor-live")
    page.screenshot(path=str(ARTIFACTS / "floor.png"))
    # when
    page.click("tr.overdue button:has-text('Release')")
    page.wait_for_selector("text=went back to the queue")
    # then
    task.refresh_from_db()
    assert task.status == "open"
    assert "idle too long" not in page.inner_text("#floor-live table")


def test_an_agent_of_another_dealership_gets_not_found(browser, live_server, open_dealership, yekaterinburg):
    task = make_call_task(open_dealership, scheduled_on=today_in(open_dealership))
    page = login(browser, live_server, factories.make_user("fred", "agent", dealerships=(yekaterinburg,)).username)
    response = page.goto(f"{live_server.url}/calls/task/{task.pk}/")
    assert response.status == 404
    assert "does not exist, or it belongs to a dealership" in page.content()
    response = page.goto(f"{live_server.url}/calls/floor/")
    assert response.status == 403


def anna(dealership):
    """Anna, an agent of the dealership, whom the script names."""
    agent = factories.make_user("anna", "agent", dealerships=(dealership,))
    agent.first_name = "Anna"
    agent.save()
    return agent


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_multi_car_call_preselects_its_car_and_a_mis_key_is_undone_with_u(browser, live_server, open_dealership, language):
    # given: Olga has two cars; the call is about the Sportage, listed second in the database
    ARTIFACTS.mkdir(exist_ok=True)
    agent = anna(open_dealership)
    day = today_in(open_dealership)
    task = realistic_call(open_dealership, day)
    customer = task.customer
    customer.phone = "+79344401815"
    customer.save()
    # A Rio whose VIN sorts before the Sportage's, bought later: first in the card's usual order, last by id.
    factories.SaleFactory(vehicle__owner=customer, vehicle__model="Rio", vehicle__plate="В001ОР77", vehicle__vin="1" * 17,
                          sold_on=dt.date(2025, 3, 1))
    page = login(browser, live_server, agent.username)
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.goto(f"{live_server.url}/calls/queue/")
    # when: next call
    page.keyboard.press("n")
    page.wait_for_url(f"**/calls/task/{task.pk}/")
    # then: the Sportage is chosen and its card comes first; the phone reads as people write it
    assert page.eval_on_selector("#id_vehicle", "s => s.options[s.selectedIndex].text").startswith("Kia Sportage")
    assert "Sportage" in page.inner_text(".call-grid > div:nth-child(2) .card h3 >> nth=0")
    assert "+7 934 440-18-15" in page.inner_text("#dial")
    page.screenshot(path=str(ARTIFACTS / f"call-multi-car-{language}.png"))
    # when: "no answer" by mistake (key 2), then U
    page.keyboard.press("2")
    page.wait_for_selector("#undo-last")
    page.screenshot(path=str(ARTIFACTS / f"undo-{language}.png"))
    page.keyboard.press("u")
    page.wait_for_url(f"**/calls/task/{task.pk}/")
    page.wait_for_selector("#outcome-form")
    # then: the call is the agent's again, as before the mis-key
    task.refresh_from_db()
    assert (task.status, task.claimed_by, task.attempts) == ("claimed", agent, 0)
    assert not CallAttempt.objects.filter(call_task=task).exists()


# ------------------------------------------------------------------------------------ phones and Russian

PHONE = (390, 844)


def fits_the_width(page, selector):
    """The page does not scroll sideways, and every shown element of ``selector`` lies within the width."""
    width = page.viewport_size["width"]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    boxes = [box for i in range(page.locator(selector).count()) if (box := page.locator(selector).nth(i).bounding_box())]
    assert boxes, selector
    for box in boxes:
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (selector, box)


def in_language(page, live_server, language):
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])


@pytest.mark.parametrize("language", ["en", "ru"])
def test_an_agent_works_the_queue_and_a_call_on_a_phone(browser, live_server, open_dealership, language):
    # given: a morning queue of three calls; Anna on a 390x844 phone
    ARTIFACTS.mkdir(exist_ok=True)
    agent = anna(open_dealership)
    day = today_in(open_dealership)
    first = realistic_call(open_dealership, day, priority=1)
    second = make_call_task(open_dealership, scheduled_on=day, priority=2)
    make_call_task(open_dealership, scheduled_on=day, priority=3)
    page = login(browser, live_server, agent.username, width=PHONE[0], height=PHONE[1])
    in_language(page, live_server, language)
    # when: the queue
    page.goto(f"{live_server.url}/calls/queue/")
    page.screenshot(path=str(ARTIFACTS / f"phone-queue-{language}.png"), full_page=True)
    # then: the queue and its Next call button fit the screen
    assert page.inner_text("#count-left") == "3"
    fits_the_width(page, "#next-call")
    fits_the_width(page, ".stats .stat")
    # when: next call
    page.click("#next-call")
    page.wait_for_url(f"**/calls/task/{first.pk}/")
    page.screenshot(path=str(ARTIFACTS / f"phone-call-{language}.png"))
    page.screenshot(path=str(ARTIFACTS / f"phone-call-{language}-full.png"), full_page=True)
    # then: Dial, the script, the fields and every outcome button are on screen, none wider than it
    assert "This is Anna from Kia Moscow-South" in page.inner_text(".call-grid")
    fits_the_width(page, "#dial")
    fits_the_width(page, "#outcome-card .outcomes button")
    fits_the_width(page, "#outcome-card textarea, #outcome-card input:visible, #outcome-card select:visible")
    fits_the_width(page, ".call-grid .card")
    # when: the mileage, then "reached" with a tap of the thumb
    page.fill("#id_odometer_km", "58300")
    page.click("button[data-key='1']")
    page.wait_for_url(f"**/calls/task/{second.pk}/")
    # then
    first.refresh_from_db()
    assert (first.status, first.outcome) == ("done", "reached")


def a_floor_of_two_dealerships(moscow, yekaterinburg):
    """Eva (Moscow) left a call 45 minutes ago; Petr (Moscow) and Lena (Yekaterinburg) made calls and are
    on one now; Olga works for both and has not started."""
    now = timezone.now()
    yekaterinburg.call_hours_start, yekaterinburg.call_hours_end = dt.time(0, 0), dt.time(23, 59)
    yekaterinburg.name = "Kia Yekaterinburg"
    yekaterinburg.save()
    people = {}
    for username, first, last, dealerships in (("eva", "Eva", "Orlova", (moscow,)), ("petr", "Petr", "Sokolov", (moscow,)),
                                               ("lena", "Lena", "Kim", (yekaterinburg,)),
                                               ("olga", "Olga", "Belova", (moscow, yekaterinburg))):
        person = factories.make_user(username, "agent", dealerships=dealerships)
        person.first_name, person.last_name = first, last
        person.save()
        people[username] = person
    stale = make_call_task(moscow, scheduled_on=today_in(moscow))
    CallTask.objects.filter(pk=stale.pk).update(status="claimed", claimed_by=people["eva"], claimed_at=now - dt.timedelta(minutes=45))
    for username, dealership, made, reached in (("petr", moscow, 23, 14), ("lena", yekaterinburg, 31, 22)):
        done = make_call_task(dealership, scheduled_on=today_in(dealership), status="done")
        CallAttempt.objects.bulk_create([
            CallAttempt(call_task=done, customer=done.customer, agent=people[username], started_at=now - dt.timedelta(hours=2),
                        ended_at=now - dt.timedelta(minutes=5), outcome="reached" if n < reached else "no_answer")
            for n in range(made)
        ])
        busy = make_call_task(dealership, scheduled_on=today_in(dealership))
        CallTask.objects.filter(pk=busy.pk).update(status="claimed", claimed_by=people[username], claimed_at=now - dt.timedelta(minutes=3))
    for dealership in (moscow, yekaterinburg):
        for _ in range(2):
            make_call_task(dealership, scheduled_on=today_in(dealership))
    AgentPresence.objects.create(user=people["olga"], state="paused", since=now - dt.timedelta(minutes=12))
    return stale


@pytest.mark.parametrize(("language", "width", "height"), [("en", *PHONE), ("ru", *PHONE), ("en", 1366, 768), ("ru", 1366, 768)])
def test_the_supervisor_sees_each_agents_dealership_and_releases_a_call(browser, live_server, open_dealership, yekaterinburg,
                                                                       language, width, height):
    # given: a supervisor of both dealerships
    ARTIFACTS.mkdir(exist_ok=True)
    stale = a_floor_of_two_dealerships(open_dealership, yekaterinburg)
    factories.make_user("sam", "supervisor", dealerships=(open_dealership, yekaterinburg))
    page = login(browser, live_server, "sam", width=width, height=height)
    in_language(page, live_server, language)
    # when
    page.goto(f"{live_server.url}/calls/floor/")
    # then: every agent with their dealership(s), grouped by dealership, in the page's language
    names = page.locator("#floor-live table.agents td.agent-name").all_inner_texts()
    places = page.locator("#floor-live table.agents td.agent-dealerships").all_inner_texts()
    assert list(zip(names, places, strict=True)) == [
        ("Eva Orlova", "Kia Moscow-South"), ("Petr Sokolov", "Kia Moscow-South"),
        ("Olga Belova", "Kia Moscow-South, Kia Yekaterinburg"), ("Lena Kim", "Kia Yekaterinburg")]
    idle = "idle too long" if language == "en" else "слишком долго без движения"
    assert idle.lower() in page.inner_text("#floor-live").lower()
    olga = page.locator("#floor-live table.agents tr", has=page.locator("td.agent-name", has_text="Olga Belova")).locator(
        "td.state").inner_text()
    assert ("paused" if language == "en" else "на паузе") in olga and "12" in olga
    if language == "ru":
        # the column's header (on a phone, each card's label, drawn by CSS from data-label)
        assert "Дилерский центр" in page.locator("#floor-live table.agents thead").text_content()
        assert page.locator("#floor-live td.agent-dealerships").first.get_attribute("data-label") == "Дилерский центр"
    fits_the_width(page, "#floor-live table.agents button")  # no button past the screen's or the card's edge
    card = page.locator("#floor-live .card").first.bounding_box()
    for box in (page.locator("#floor-live table.agents button").nth(i).bounding_box()
                for i in range(page.locator("#floor-live table.agents button").count())):
        assert box["x"] + box["width"] <= card["x"] + card["width"], box
    if width < 640:
        fits_the_width(page, "#floor-live table.agents td")
    tag = f"{language}-{'phone' if width < 640 else 'desktop'}"
    page.screenshot(path=str(ARTIFACTS / f"floor-{tag}.png"), full_page=True)
    page.screenshot(path=str(ARTIFACTS / f"floor-{tag}-first-screen.png"))
    # when: the stale call is released
    page.click("tr.overdue button[type=submit] >> nth=0")
    page.wait_for_selector("#floor-live .messages li")
    # then
    stale.refresh_from_db()
    assert stale.status == "open"
