"""The department inbox: each department's hand-offs, accepting and closing them (contacts.views.inbox)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

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
