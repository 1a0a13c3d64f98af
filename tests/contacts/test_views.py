"""The call-centre pages: queue, call screen, floor, inbox, and who may open them (contacts.views)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.urls import reverse

from contacts.models import (
    CallAttempt,
    CallTask,
    DailyCapacity,
    Department,
    Handoff,
)
from tests import factories
from tests.contacts.calls.helpers import (
    MSK,
    NOW,
    claim,
    claimed,
    fresh_cache,  # noqa: F401 - autouse: the idle-claim sweep starts unthrottled
    record,
)
from tests.contacts.factories import DAY, make_call_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_queue_page_lists_callbacks_first_and_flags_overdue_calls(client, moscow, agent, at_now):
    # given
    overdue = make_call_task(moscow, priority=3, scheduled_on=DAY - dt.timedelta(days=12))
    CallTask.objects.filter(pk=overdue.pk).update(window_end=DAY - dt.timedelta(days=1))
    callback = make_call_task(moscow, priority=9, kind="callback", is_requested=True, callback_at=NOW - dt.timedelta(minutes=1))
    client.force_login(agent)
    # when
    response = client.get(reverse("contacts:queue"))
    # then
    tasks = response.context["tasks"]
    assert tasks == [callback, overdue]
    assert response.context["left"] == 2
    body = response.content.decode()
    assert 'class="callback"' in body and 'class="overdue"' in body


def test_the_call_screen_shows_the_script_with_the_agents_name_and_why(client, moscow, agent, at_now):
    # given
    agent.first_name = "Alice"
    agent.save()
    task = claimed(moscow, agent, topics=("service_invite", "insurance_renewal"))
    CallTask.objects.filter(pk=task.pk).update(explanation={"deferred": [
        {"code": "tyre_season", "reason": "deferred:min_gap", "detail": "", "on": "2026-12-07"}]})
    client.force_login(agent)
    # when
    response = client.get(reverse("contacts:call", args=[task.pk]))
    # then
    body = response.content.decode()
    assert "Hello, this is Alice from the dealership." in body and "[[agent]]" not in body
    assert [s["position"] for s in response.context["sections"]] == [0, 1]
    assert f'href="tel:{task.customer.phone}"' in body
    assert "too soon after another call" in body
    assert 'data-key="1"' in body and 'data-key="9"' in body


def test_an_outcome_through_htmx_opens_the_next_call_without_a_reload(client, moscow, agent, at_now):
    # given
    task = claimed(moscow, agent)
    following = make_call_task(moscow)
    client.force_login(agent)
    # when
    response = client.post(reverse("contacts:outcome", args=[task.pk]), {"outcome": "reached", "odometer_km": "9000"},
                           HTTP_HX_REQUEST="true")
    # then
    assert response.status_code == 200
    assert json.loads(response["HX-Location"])["path"] == reverse("contacts:call", args=[following.pk])
    assert CallTask.objects.get(pk=following.pk).claimed_by == agent


def test_an_outcome_error_keeps_what_the_agent_typed(client, moscow, agent, at_now):
    # given
    task = claimed(moscow, agent)
    client.force_login(agent)
    typed = {"outcome": "reached", "odometer_km": "100", "note": "my words"}
    # when
    partial = client.post(reverse("contacts:outcome", args=[task.pk]), typed, HTTP_HX_REQUEST="true")
    page = client.post(reverse("contacts:outcome", args=[task.pk]), typed)
    # then
    for response, status in ((partial, 200), (page, 400)):
        body = response.content.decode()
        assert response.status_code == status
        assert "100 km is lower than the 8000 km recorded on 01.05.2026" in body
        assert "my words" in body and 'value="100"' in body
    assert "<html" not in partial.content.decode()
    assert not CallAttempt.objects.exists()


def test_a_call_back_error_reopens_its_panel_with_the_typed_time(client, moscow, agent, at_now):
    task = claimed(moscow, agent)
    client.force_login(agent)
    response = client.post(reverse("contacts:outcome", args=[task.pk]),
                           {"outcome": "call_back", "callback_at": "2026-11-24T22:00"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "22:00 is outside call hours" in body
    assert 'id="panel-call_back">' in body
    assert 'value="2026-11-24T22:00"' in body


def test_the_call_back_time_is_read_on_the_dealerships_clock(client, moscow, agent, at_now):
    task = claimed(moscow, agent)
    client.force_login(agent)
    client.post(reverse("contacts:outcome", args=[task.pk]), {"outcome": "call_back", "callback_at": "2026-11-24T15:30"})
    assert CallTask.objects.get(kind="callback").callback_at == dt.datetime(2026, 11, 24, 15, 30, tzinfo=MSK)


def test_an_agent_gets_404_on_another_dealerships_task(client, moscow, other_agent):
    task = make_call_task(moscow)
    client.force_login(other_agent)
    assert client.get(reverse("contacts:call", args=[task.pk])).status_code == 404
    assert client.post(reverse("contacts:outcome", args=[task.pk]), {"outcome": "reached"}).status_code == 404
    assert client.post(reverse("contacts:release", args=[task.pk])).status_code == 404
    assert CallTask.objects.get(pk=task.pk).status == "open"


@pytest.mark.parametrize(
    ("role", "name", "method", "args"),
    [
        ("agent", "contacts:floor", "get", []),
        ("agent", "contacts:capacity", "post", ["dealership"]),
        ("agent", "contacts:reassign", "post", ["task"]),
        ("agent", "contacts:inbox", "get", []),
        ("sales", "contacts:queue", "get", []),
        ("sales", "contacts:next", "post", []),
        ("manager", "contacts:queue", "get", []),
    ],
)
def test_a_page_of_another_role_is_403(client, moscow, role, name, method, args):
    user = factories.make_user("someone", role, dealerships=(moscow,))
    task = make_call_task(moscow)
    values = {"dealership": moscow.pk, "task": task.pk}
    client.force_login(user)
    response = getattr(client, method)(reverse(name, args=[values[a] for a in args]))
    assert response.status_code == 403


def test_an_agent_never_reaches_the_admin(client, agent):
    client.force_login(agent)
    assert client.get("/admin/").status_code != 200


def test_the_supervisor_sets_capacity_releases_and_reassigns(client, moscow, supervisor, agent, at_now):
    # given
    task = claimed(moscow, agent)
    carol = factories.make_user("carol", "agent", dealerships=(moscow,))
    client.force_login(supervisor)
    # when
    floor = client.get(reverse("contacts:floor"))
    client.post(reverse("contacts:capacity", args=[moscow.pk]), {"agents_on_shift": "6"})
    live = client.post(reverse("contacts:release", args=[task.pk]), {"back": "floor"}, HTTP_HX_REQUEST="true")
    client.post(reverse("contacts:reassign", args=[task.pk]), {"agent": carol.pk})
    # then
    assert floor.status_code == 200
    assert [row.claim.task for row in floor.context["floor"].agents if row.user == agent] == [task]
    assert DailyCapacity.objects.get(dealership=moscow, day=DAY).agents_on_shift == 6
    assert "went back to the queue" in live.content.decode() and "<html" not in live.content.decode()
    task.refresh_from_db()
    assert (task.status, task.assigned_to) == ("open", carol)
    assert claim(agent) is None
    assert claim(carol) == task


def test_the_floor_flags_claims_idle_too_long(client, moscow, supervisor, agent, at_now):
    task = claimed(moscow, agent)
    CallTask.objects.filter(pk=task.pk).update(claimed_at=NOW - dt.timedelta(minutes=45))
    client.force_login(supervisor)
    response = client.get(reverse("contacts:floor"))
    assert response.context["floor"].stale_count == 1
    assert "idle too long" in response.content.decode()


def test_reassigning_to_an_agent_of_another_dealership_is_refused(client, moscow, supervisor, other_agent):
    task = make_call_task(moscow)
    client.force_login(supervisor)
    client.post(reverse("contacts:reassign", args=[task.pk]), {"agent": other_agent.pk})
    assert CallTask.objects.get(pk=task.pk).assigned_to is None


def test_the_inbox_shows_each_department_its_hand_offs(client, moscow, agent, supervisor, at_now):
    # given
    task = claimed(moscow, agent)
    record(task, agent, "booked", booked_on=dt.date(2026, 11, 27))
    task2 = claimed(moscow, agent)
    record(task2, agent, "hot_lead", department=Department.objects.get(code="sales"), note="wants a Sportage")
    mechanic = factories.make_user("max", "service", dealerships=(moscow,))
    # when
    client.force_login(mechanic)
    service_view = client.get(reverse("contacts:inbox")).context["handoffs"]
    client.force_login(supervisor)
    supervisor_view = client.get(reverse("contacts:inbox")).context["handoffs"]
    # then
    assert [h.kind for h in service_view] == ["booking"]
    assert sorted(h.kind for h in supervisor_view) == ["booking", "hot_lead"]


def test_department_staff_accept_and_close_a_hand_off(client, moscow, agent, at_now):
    # given
    task = claimed(moscow, agent)
    record(task, agent, "hot_lead", department=Department.objects.get(code="sales"), note="wants a Sportage")
    handoff = Handoff.objects.get()
    seller = factories.make_user("sam", "sales", dealerships=(moscow,))
    client.force_login(seller)
    # when
    client.post(reverse("contacts:handoff", args=[handoff.pk, "accept"]), HTTP_HX_REQUEST="true")
    empty = client.post(reverse("contacts:handoff", args=[handoff.pk, "close"]), {"result": ""}, HTTP_HX_REQUEST="true")
    client.post(reverse("contacts:handoff", args=[handoff.pk, "close"]), {"result": "sold a Sportage"})
    # then
    assert "Write the result" in empty.content.decode()
    handoff.refresh_from_db()
    assert (handoff.status, handoff.accepted_by, handoff.result, handoff.closed_at) == ("closed", seller, "sold a Sportage", NOW)


def test_a_hand_off_of_another_department_is_404(client, moscow, agent):
    task = claimed(moscow, agent)
    record(task, agent, "booked", booked_on=dt.date(2026, 11, 27))
    seller = factories.make_user("sam", "sales", dealerships=(moscow,))
    client.force_login(seller)
    response = client.post(reverse("contacts:handoff", args=[Handoff.objects.get().pk, "accept"]))
    assert response.status_code == 404
    assert Handoff.objects.get().status == "new"


def test_the_results_typed_per_topic_show_in_the_history_and_the_hand_off(client, moscow, agent, supervisor, at_now):
    # given: a booking at 10:30 with a result typed beside each of two topics
    task = claimed(moscow, agent, topics=("service_invite", "insurance_renewal"))
    client.force_login(agent)
    client.post(reverse("contacts:outcome", args=[task.pk]), {
        "outcome": "booked", "booked_on": "2026-11-27", "booked_time": "10:30", "then": "pause",
        "result_0": "TO-2 on Friday", "result_1": "insured elsewhere until May",
    }, HTTP_HX_REQUEST="true")
    # when
    client.force_login(supervisor)
    inbox = client.get(reverse("contacts:inbox")).content.decode()
    page = client.get(reverse("customers:detail", args=[task.customer_id])).content.decode()
    # then
    for body in (inbox, page):
        assert "<b>Maintenance invitation</b>: TO-2 on Friday" in body
        assert "<b>Insurance renewal offer</b>: insured elsewhere until May" in body
    assert "27.11.2026 10:30" in inbox


def test_my_callbacks_lists_the_calls_customers_asked_me_for_with_a_count(client, moscow, agent, at_now):
    # given: a customer asked Alice to call back tomorrow at 15:00; Carol has a callback of her own
    task = claimed(moscow, agent)
    record(task, agent, "call_back", callback_at=dt.datetime(2026, 11, 24, 15, 0, tzinfo=MSK))
    carol = factories.make_user("carol", "agent", dealerships=(moscow,))
    make_call_task(moscow, kind="callback", is_requested=True, assigned_to=carol, callback_at=NOW + dt.timedelta(hours=1))
    client.force_login(agent)
    # when
    response = client.get(reverse("contacts:queue"))
    # then
    assert [t.previous_id for t in response.context["callbacks"]] == [task.pk]
    assert response.context["callback_count"] == 1
    body = response.content.decode()
    assert '<span class="badge info" id="callback-count">1</span>' in body
    assert "24.11 15:00" in body and "Maintenance invitation" in body


def test_the_agent_undoes_a_mis_keyed_outcome_from_the_next_screen(client, moscow, agent, at_now):
    # given: Alice pressed "no answer" by mistake and the next call opened
    task = claimed(moscow, agent)
    following = make_call_task(moscow)
    client.force_login(agent)
    client.post(reverse("contacts:outcome", args=[task.pk]), {"outcome": "no_answer"}, HTTP_HX_REQUEST="true")
    screen = client.get(reverse("contacts:call", args=[following.pk])).content.decode()
    attempt = CallAttempt.objects.get()
    # when
    response = client.post(reverse("contacts:undo", args=[attempt.pk]), HTTP_HX_REQUEST="true")
    # then
    assert "Mis-keyed? Undo until 11:05." in screen and 'id="undo-last"' in screen
    assert json.loads(response["HX-Location"])["path"] == reverse("contacts:call", args=[task.pk])
    task.refresh_from_db()
    assert (task.status, task.claimed_by, task.scheduled_on, task.callback_at, task.attempts) == ("claimed", agent, DAY, None, 0)
    assert not CallAttempt.objects.exists()
    assert 'id="undo-last"' not in client.get(reverse("contacts:call", args=[task.pk])).content.decode()


def test_after_a_wrong_number_the_card_says_so_beside_the_number(client, moscow, agent, at_now):
    task = claimed(moscow, agent)
    record(task, agent, "wrong_number")
    client.force_login(agent)
    page = client.get(reverse("customers:detail", args=[task.customer_id])).content.decode()
    assert "wrong number, 23.11.2026" in page


def test_the_floor_says_when_nobody_else_can_take_a_call(client, moscow, supervisor, agent, at_now):
    claimed(moscow, agent)
    client.force_login(supervisor)
    page = client.get(reverse("contacts:floor")).content.decode()
    assert "nobody else to give it to" in page


def test_an_inbound_call_from_the_customer_page_opens_the_call_screen(client, moscow, agent, at_now):
    customer = factories.CustomerFactory(dealership=moscow)
    client.force_login(agent)
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    response = client.post(reverse("contacts:inbound", args=[customer.pk]))
    task = CallTask.objects.get(customer=customer)
    assert "The customer is calling" in page
    assert response["Location"] == reverse("contacts:call", args=[task.pk])
    assert 'id="outcome-form"' in client.get(response["Location"]).content.decode()
