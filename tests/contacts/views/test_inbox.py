"""The department inbox: each department's hand-offs, accepting and closing them (contacts.views.inbox)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from contacts import calls, tasks
from contacts.models import Department, Handoff
from tests import factories
from tests.contacts.calls.helpers import (
    NOW,
    claimed,
    fresh_cache,  # noqa: F401 - autouse: the idle-claim sweep starts unthrottled
    record,
)

pytestmark = pytest.mark.django_db


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


# ------------------------------------------------------------------------------------ the pipeline


def _lead(moscow, agent, topic="purchase"):
    record(claimed(moscow, agent), agent, "hot_lead", topic=topic, note="wants a Sportage")
    return Handoff.objects.latest("id")


def test_an_outcome_button_closes_the_hand_off_with_the_picked_sale(client, moscow, agent, at_now):
    # given
    handoff = _lead(moscow, agent)
    sale = factories.SaleFactory(customer=handoff.customer, vehicle__owner=handoff.customer, dealership=moscow,
                                 sold_on=NOW.date())
    seller = factories.make_user("sam", "sales", dealerships=(moscow,))
    client.force_login(seller)
    page = client.get(reverse("contacts:inbox")).content.decode()
    # when
    row = client.post(reverse("contacts:handoff", args=[handoff.pk, "outcome"]),
                      {"outcome": "sold", "note": "Sportage GT", "sale": sale.pk}, HTTP_HX_REQUEST="true").content.decode()
    # then
    for value, label in (("sold", "Sold"), ("test_drive", "Test drive booked"), ("not_interested", "Not interested"),
                         ("no_answer", "No answer")):
        assert f'name="outcome" value="{value}">{label}</button>' in page
    assert 'value="visit_confirmed"' not in page  # a sales lead: no visit to confirm
    assert f'<option value="{sale.pk}">' in page
    handoff.refresh_from_db()
    assert (handoff.outcome, handoff.status, handoff.sale, handoff.result, handoff.accepted_by) == (
        "sold", "closed", sale, "Sportage GT", seller)
    assert "Sold: Sportage GT" in row


def test_forwarding_from_the_inbox_hands_it_to_trade_in(client, moscow, agent, at_now):
    # given
    handoff = _lead(moscow, agent)
    seller = factories.make_user("sam", "sales", dealerships=(moscow,))
    trader = factories.make_user("tom", "trade_in", dealerships=(moscow,))
    client.force_login(seller)
    trade_in = Department.objects.get(code="trade_in")
    # when
    refused = client.post(reverse("contacts:handoff", args=[handoff.pk, "forward"]), {"department": trade_in.pk, "note": ""},
                          HTTP_HX_REQUEST="true").content.decode()
    gone = client.post(reverse("contacts:handoff", args=[handoff.pk, "forward"]),
                       {"department": trade_in.pk, "note": "has a Rio to trade in"}, HTTP_HX_REQUEST="true").content.decode()
    client.force_login(trader)
    theirs = client.get(reverse("contacts:inbox")).context["handoffs"]
    # then
    assert "Choose the department and write a note" in refused
    assert 'class="gone"' in gone
    assert [h.pk for h in theirs] == [handoff.pk]


def test_staff_set_the_customer_s_temperature(client, moscow, agent, at_now):
    handoff = _lead(moscow, agent)
    seller = factories.make_user("sam", "sales", dealerships=(moscow,))
    client.force_login(seller)
    client.post(reverse("contacts:handoff", args=[handoff.pk, "temperature"]), {"temperature": "warm"}, HTTP_HX_REQUEST="true")
    customer = handoff.customer
    customer.refresh_from_db()
    assert (customer.temperature, customer.temperature_set_by, customer.temperature_set_at) == ("warm", seller, NOW)


def test_the_badge_counts_new_hand_offs_of_the_user_s_departments(client, moscow, agent, at_now):
    # given: two new for sales, one accepted, one for service
    first = _lead(moscow, agent)
    _lead(moscow, agent)
    third = _lead(moscow, agent)
    _lead(moscow, agent, topic="service")
    seller = factories.make_user("sam", "sales", dealerships=(moscow,))
    calls.accept_handoff(handoff=third, by=seller)
    client.force_login(seller)
    # when
    badge = client.get(reverse("contacts:inbox_badge")).content.decode()
    page = client.get(reverse("contacts:inbox")).content.decode()
    calls.accept_handoff(handoff=first, by=seller)
    after = client.get(reverse("contacts:inbox_badge")).content.decode()
    # then
    assert '<span id="inbox-badge" class="badge bad"' in badge and ">2</span>" in badge
    assert 'hx-trigger="every 30s, handoffs-changed from:body"' in badge
    assert f'hx-get="{reverse("contacts:inbox_badge")}"' in page  # the navigation polls it
    assert ">1</span>" in after
    assert "<script>" not in page and "onclick" not in page


def test_an_escalated_hand_off_shows_in_the_head_s_inbox_and_badge(client, moscow, agent):
    # given: a hot lead at 11:00 Moscow nobody answered by 13:00
    with time_machine.travel(NOW, tick=False):
        handoff = _lead(moscow, agent)
        seller = factories.make_user("sam", "sales", dealerships=(moscow,))
        head = factories.make_user("hank", "sales", "department_head", dealerships=(moscow,))
        calls.accept_handoff(handoff=handoff, by=seller)
    # when
    with time_machine.travel(NOW + dt.timedelta(hours=2, minutes=5), tick=False):
        tasks.sweep_handoffs()
        client.force_login(head)
        page = client.get(reverse("contacts:inbox"))
        badge = client.get(reverse("contacts:inbox_badge")).content.decode()
        client.force_login(seller)
        sellers = client.get(reverse("contacts:inbox"))
    # then
    assert [h.pk for h in page.context["escalated"]] == [handoff.pk]
    assert "Escalated to you" in page.content.decode()
    assert ">1</span>" in badge
    assert sellers.context["escalated"] == [] and [h.pk for h in sellers.context["handoffs"]] == [handoff.pk]
    assert "escalated" in sellers.content.decode()


def test_the_inbox_refreshes_its_list_as_a_partial(client, moscow, agent, supervisor, at_now):
    _lead(moscow, agent)
    client.force_login(supervisor)
    response = client.get(reverse("contacts:inbox"), {"part": "list"}, HTTP_HX_REQUEST="true").content.decode()
    assert response.startswith('\n<div id="inbox-list"') or response.lstrip().startswith('<div id="inbox-list"')
    assert "<html" not in response and "wants a Sportage" in response


def test_the_customer_card_shows_the_temperature_with_who_and_when(client, moscow, agent, supervisor, at_now):
    handoff = _lead(moscow, agent)
    client.force_login(supervisor)
    page = client.get(reverse("customers:detail", args=[handoff.customer_id])).content.decode()
    assert 'id="customer-temperature"' in page and ">Hot</span>" in page
    assert "alice, 23.11.2026 11:00" in page  # the agent, in Moscow time
