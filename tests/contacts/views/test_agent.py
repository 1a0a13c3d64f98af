"""The agent's pages: queue, call screen, outcomes, undo, inbound calls (contacts.views.agent)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse

from contacts.models import CallAttempt, CallTask
from tests import factories
from tests.contacts.calls.helpers import (
    MSK,
    NOW,
    claimed,
    fresh_cache,  # noqa: F401 - autouse: the idle-claim sweep starts unthrottled
    record,
)
from tests.contacts.factories import DAY, make_call_task

pytestmark = pytest.mark.django_db


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


def test_an_inbound_call_from_the_customer_page_opens_the_call_screen(client, moscow, agent, at_now):
    customer = factories.CustomerFactory(dealership=moscow)
    client.force_login(agent)
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    response = client.post(reverse("contacts:inbound", args=[customer.pk]))
    task = CallTask.objects.get(customer=customer)
    assert "The customer is calling" in page
    assert response["Location"] == reverse("contacts:call", args=[task.pk])
    assert 'id="outcome-form"' in client.get(response["Location"]).content.decode()


def test_the_agent_records_no_sales_calls_in_the_customers_words_and_the_service_reminders_stay(
    client, moscow, agent, at_now
):
    # given: a call about the insurance offer, and the car's next maintenance call and a test-drive call planned
    from contacts.models import Touchpoint, TouchpointTemplate
    from customers.models import Consent, Vehicle

    task = claimed(moscow, agent, topics=("insurance_renewal",))
    vehicle = Vehicle.objects.get(owner=task.customer)
    planned = {
        code: Touchpoint.objects.create(
            vehicle=vehicle, customer=task.customer, template=TouchpointTemplate.objects.get(code=code),
            cycle_start=dt.date(2025, 11, 1), occurrence=1, due_on=dt.date(2027, 1, 10),
            window_start=dt.date(2027, 1, 10), window_end=dt.date(2027, 1, 20), reason="due",
        )
        for code in ("service_invite", "test_drive")
    }
    client.force_login(agent)
    screen = client.get(reverse("contacts:call", args=[task.pk])).content.decode()
    assert 'name="purposes" value="marketing"' in screen
    # when: "do not call" for sales and marketing offers only, the customer's words in the note
    response = client.post(reverse("contacts:outcome", args=[task.pk]), {
        "outcome": "do_not_call", "purposes": ["marketing"], "note": "Не предлагайте мне ничего купить",
    })
    # then: the refusal is recorded with the words, who and where
    assert response.status_code in (200, 302)
    consent = Consent.objects.get(customer=task.customer)
    assert (consent.channel, consent.purpose, consent.is_allowed, consent.reason, consent.source, consent.recorded_by) == (
        "call", "marketing", False, "Не предлагайте мне ничего купить", "call", agent)
    assert CallAttempt.objects.get(call_task=task).detail["purposes"] == ["marketing"]
    # the service call stays in the plan; the sales call is suppressed, with the reason in words
    for tp in planned.values():
        tp.refresh_from_db()
    assert (planned["service_invite"].status, planned["service_invite"].resolution) == ("planned", "")
    assert (planned["test_drive"].status, planned["test_drive"].resolution) == (
        "suppressed", "do_not_contact:call:marketing")
    # and the customer card says it in words, in English and in Russian
    card = client.get(reverse("customers:detail", args=[task.customer_id])).content.decode()
    assert "Call, sales and marketing offers: refused" in card
    assert "«Не предлагайте мне ничего купить»" in card
    assert "the customer refused sales and marketing offers by this channel (Call)" in card
    card_ru = client.get(reverse("customers:detail", args=[task.customer_id]), headers={"Accept-Language": "ru"})
    assert "Звонок, рекламные предложения: отказ" in card_ru.content.decode()
