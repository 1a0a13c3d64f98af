"""Consent per channel and purpose over time, through the real beat tasks: a customer who refuses sales
and marketing offers keeps getting the service reminders, gets no offer by any channel, and the
auditor finds nothing (contacts.queues, contacts.refusals, contacts.audit)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from contacts import calls, tasks
from contacts.audit import audit_stored_contacts
from contacts.core.purposes import purpose_of
from contacts.models import CallTask, CallTaskItem, OutboxMessage, Touchpoint
from customers import refusals
from customers.models import Consent, Customer, Dealership, RefusalSource
from tests import factories
from tests.contacts.factories import make_call_task

pytestmark = pytest.mark.django_db

START = dt.date(2026, 11, 2)  # a Monday
CHANNELS = ("call", "sms", "email")


def _customer_with_two_cars(dealership: Dealership, phone: str, email: str) -> Customer:
    """A car bought 330 days ago (its first maintenance and the insurance renewal fall due now) and a
    car bought last week (the thank-you, first-weeks and survey calls, the accessories e-mail)."""
    customer = factories.CustomerFactory(dealership=dealership, phone=phone, email=email)
    for days_ago, km in ((330, 13500), (7, 300)):
        sold_on = START - dt.timedelta(days=days_ago)
        sale = factories.SaleFactory(vehicle__owner=customer, sold_on=sold_on)
        factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=sold_on, odometer_km=0, source="sale")
        factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=START - dt.timedelta(days=3), odometer_km=km)
    return customer


def _one_day(day: dt.date, agent) -> None:
    """The nightly re-plan, the morning build, then the agent works the queue at 11:00 in Moscow."""
    with time_machine.travel(dt.datetime.combine(day, dt.time(0, 30), tzinfo=dt.UTC), tick=False):
        tasks.replan_all_vehicles()
    with time_machine.travel(dt.datetime.combine(day, dt.time(4, 5), tzinfo=dt.UTC), tick=False):
        tasks.build_due_queues()
    now = dt.datetime.combine(day, dt.time(8, 0), tzinfo=dt.UTC)
    with time_machine.travel(now, tick=False):
        while (task := calls.claim_next_call(agent=agent, now=now).task) is not None:
            calls.record_outcome(task=task, agent=agent, outcome="reached", now=now, note="всё хорошо")


def _contacts(customer: Customer, *, after: dt.date) -> list[tuple[str, str, str, dt.date]]:
    """(channel, purpose, code, day) of every call item and message the customer got after ``after``."""
    found = [
        ("call", purpose_of(code=code, department=department), code, day)
        for code, department, day in CallTaskItem.objects.filter(
            call_task__customer=customer, call_task__scheduled_on__gt=after
        ).exclude(call_task__status=CallTask.Status.CANCELLED).values_list(
            "touchpoint__template__code", "touchpoint__template__department__code", "call_task__scheduled_on"
        )
    ]
    found += [
        (channel, purpose_of(code=code, department=department), code, day)
        for channel, code, department, day in OutboxMessage.objects.filter(customer=customer, send_on__gt=after)
        .exclude(status=OutboxMessage.Status.CANCELLED)
        .values_list("channel", "touchpoint__template__code", "touchpoint__template__department__code", "send_on")
    ]
    return found


def test_a_customer_who_refuses_sales_offers_on_day_3_gets_service_reminders_and_no_offer_for_60_days(moscow, agent):
    # given: two customers alike; the second refuses nothing (the control: it must be offered something)
    refusing = _customer_with_two_cars(moscow, "+79161110001", "first@example.ru")
    control = _customer_with_two_cars(moscow, "+79161110002", "second@example.ru")
    days = [START + dt.timedelta(days=n) for n in range(60)]
    refusal_day = days[2]
    # when: 60 days go by; on day 3 the customer refuses sales and marketing offers by every channel
    for day in days:
        if day == refusal_day:
            with time_machine.travel(dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.UTC), tick=False):
                refusals.record_refusal(
                    customer=refusing, channels=CHANNELS, purposes=["marketing"], now=dt.datetime.now(dt.UTC),
                    reason="Звоните только по сервису, никаких предложений", source=RefusalSource.CALL,
                )
        _one_day(day, agent)
    # then: the control customer was offered something after day 3 (or the scenario tests nothing)
    offered = [c for c in _contacts(control, after=refusal_day) if c[1] == "marketing"]
    assert offered, _contacts(control, after=refusal_day)
    # the refusing customer: the service reminders still came, and no offer by any channel
    after = _contacts(refusing, after=refusal_day)
    assert [c for c in after if c[1] == "service"], after
    assert [c for c in after if c[1] == "marketing"] == []
    # the offers' touchpoints say why, per channel
    suppressed = set(Touchpoint.objects.filter(customer=refusing, status="suppressed").values_list("resolution", flat=True))
    assert {r for r in suppressed if r.endswith(":marketing")}, suppressed
    assert Consent.objects.filter(customer=refusing, purpose="marketing", is_allowed=False).count() == 3
    # and the auditor finds nothing
    audit = audit_stored_contacts()
    stored = (CallTask.objects.exclude(status=CallTask.Status.CANCELLED).count()
              + OutboxMessage.objects.exclude(status=OutboxMessage.Status.CANCELLED).count())
    assert audit["checked"] == stored > 0
    assert audit["violations"] == dict.fromkeys(audit["violations"], 0)


def test_the_auditor_counts_a_contact_about_a_refused_purpose(moscow):
    # given: a customer who refused sales calls last week, and a sales call stored for today anyway
    customer = factories.CustomerFactory(dealership=moscow)
    Consent.objects.create(customer=customer, channel="call", purpose="marketing", is_allowed=False,
                           changed_at=dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC), reason="no offers")
    make_call_task(moscow, customer=customer, topics=("test_drive",))
    service = factories.CustomerFactory(dealership=moscow)
    Consent.objects.create(customer=service, channel="call", purpose="marketing", is_allowed=False,
                           changed_at=dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC), reason="no offers")
    make_call_task(moscow, customer=service, topics=("service_invite",))
    # when
    audit = audit_stored_contacts()
    # then: the sales call is a violation; the service call to the other customer is not
    assert audit["violations"]["do_not_contact"] == 1


def test_a_refusal_of_offers_withdraws_an_open_call_that_also_carries_a_service_topic(moscow):
    # given: an open call about the maintenance and the insurance offer
    customer = factories.CustomerFactory(dealership=moscow)
    task = make_call_task(moscow, customer=customer, topics=("service_invite", "insurance_renewal"))
    # when
    refusals.record_refusal(customer=customer, channels=["call"], purposes=["marketing"],
                            now=dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC), reason="без предложений",
                            source=RefusalSource.API)
    # then: the call is withdrawn; the service topic goes back to the plan, the offer is suppressed
    task.refresh_from_db()
    assert (task.status, task.outcome) == ("cancelled", "do_not_call")
    statuses = dict(Touchpoint.objects.filter(customer=customer).values_list("template__code", "resolution"))
    assert statuses == {"service_invite": "reopened:call_withdrawn", "insurance_renewal": "do_not_contact:call:marketing"}
    assert Touchpoint.objects.get(customer=customer, template__code="service_invite").status == "planned"
    assert not CallTaskItem.objects.filter(touchpoint__template__code="service_invite").exists()
