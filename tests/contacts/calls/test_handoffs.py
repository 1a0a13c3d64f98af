"""The hand-off pipeline (contacts.calls.handoffs): routing by topic, temperature, forwarding, the
department's outcomes linked to the sale or visit, and the SLA escalation over many days."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import time_machine

from contacts import calls, tasks
from contacts.calls import handoffs as pipeline
from contacts.models import ContactRules, Department, Handoff, HandoffEvent
from customers.models import Customer
from tests import factories
from tests.contacts.calls.helpers import NOW, claimed, record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def at_now():
    """Rows stamp created_at with the clock: the tests' day is NOW (the long test travels on from it)."""
    with time_machine.travel(NOW, tick=False):
        yield


def _handoff(dealership, *, temperature="hot", topic="purchase", now=NOW, department="sales", customer=None):
    return pipeline.create_handoff(
        dealership=dealership, customer=customer or factories.CustomerFactory(dealership=dealership),
        department=Department.objects.get(code=department), kind=Handoff.Kind.HOT_LEAD, temperature=temperature,
        topic=topic, now=now, rules=ContactRules.for_dealership(dealership), by=None, notes="wants a car",
    )


@pytest.mark.parametrize(("topic", "department"), [
    ("trade_in", "trade_in"), ("insurance", "insurance"), ("service", "service"), ("purchase", "sales"),
])
def test_a_hot_lead_goes_to_the_department_of_its_topic(moscow, agent, topic, department):
    # given
    task = claimed(moscow, agent)
    # when
    record(task, agent, "hot_lead", topic=topic, note="asks about it")
    # then
    handoff = Handoff.objects.get()
    assert (handoff.topic, handoff.department.code, handoff.temperature) == (topic, department, "hot")
    assert handoff.customer.temperature == "hot"


def test_a_trade_in_wish_goes_to_sales_when_there_is_no_trade_in_department(moscow, agent):
    Department.objects.filter(code="trade_in").update(is_active=False)
    task = claimed(moscow, agent)
    record(task, agent, "hot_lead", topic="trade_in", note="swap the Rio")
    assert Handoff.objects.get().department.code == "sales"


def test_without_a_topic_the_call_s_topic_routes_it_not_service_by_default(moscow, agent):
    # given: a call whose only topic is a trade-in offer (department trade_in)
    task = claimed(moscow, agent)
    task.agenda = [{**task.agenda[0], "department": "trade_in"}]
    task.save(update_fields=["agenda"])
    # when
    record(task, agent, "hot_lead", note="wants to swap")
    # then
    assert (Handoff.objects.get().department.code, Handoff.objects.get().topic) == ("trade_in", "trade_in")


def test_a_warm_lead_gets_the_warm_sla_and_the_customer_s_temperature_records_who_and_when(moscow, agent):
    task = claimed(moscow, agent)
    record(task, agent, "hot_lead", topic="purchase", temperature="warm", note="next spring")
    handoff = Handoff.objects.get()
    customer = Customer.objects.get(pk=task.customer_id)
    # 11:00 Moscow + 8 working hours of 9:00-20:00 = 19:00 Moscow the same day
    assert handoff.due_at == dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.UTC)
    assert (customer.temperature, customer.temperature_set_by, customer.temperature_set_at) == ("warm", agent, NOW)


def test_a_cold_hand_off_is_refused_on_the_call(moscow, agent):
    task = claimed(moscow, agent)
    with pytest.raises(calls.OutcomeError, match="warm or a hot"):
        record(task, agent, "hot_lead", topic="purchase", temperature="cold", note="no")


def test_the_day_the_customer_asked_for_replaces_the_sla(moscow, agent):
    task = claimed(moscow, agent)
    record(task, agent, "hot_lead", topic="purchase", note="call on Friday", deadline=dt.date(2026, 11, 27))
    handoff = Handoff.objects.get()
    assert (handoff.deadline, handoff.due_at) == (dt.date(2026, 11, 27), dt.datetime(2026, 11, 27, 17, 0, tzinfo=dt.UTC))


def test_serviced_elsewhere_makes_the_customer_cold_and_undo_puts_the_temperature_back(moscow, agent):
    # given
    task = claimed(moscow, agent)
    Customer.objects.filter(pk=task.customer_id).update(temperature="warm")
    # when
    attempt = record(task, agent, "serviced_elsewhere", reason="price")
    cold = Customer.objects.get(pk=task.customer_id).temperature
    calls.undo_outcome(attempt_id=attempt.pk, agent=agent, now=NOW + dt.timedelta(minutes=1))
    # then
    assert (cold, Customer.objects.get(pk=task.customer_id).temperature) == ("cold", "warm")


def test_forwarding_moves_it_with_a_note_and_a_fresh_sla(moscow):
    # given
    handoff = _handoff(moscow)
    seller = factories.make_user("sam", "sales", dealerships=(moscow,))
    calls.accept_handoff(handoff=handoff, by=seller)
    later = NOW + dt.timedelta(hours=1)
    trade_in = Department.objects.get(code="trade_in")
    # when / then
    with pytest.raises(calls.OutcomeError, match="Write a note"):
        pipeline.forward_handoff(handoff=handoff, to=trade_in, by=seller, note=" ", now=later)
    pipeline.forward_handoff(handoff=handoff, to=trade_in, by=seller, note="has a car to trade in", now=later)
    handoff.refresh_from_db()
    assert (handoff.department, handoff.status, handoff.accepted_by) == (trade_in, "new", None)
    assert handoff.due_at == dt.datetime(2026, 11, 23, 11, 0, tzinfo=dt.UTC)  # 12:00 Moscow + 2 hours
    event = HandoffEvent.objects.get(kind="forwarded")
    assert (event.from_department.code, event.to_department, event.by, event.note) == ("sales", trade_in, seller, "has a car to trade in")


def test_forwarding_to_its_own_department_is_refused(moscow):
    handoff = _handoff(moscow)
    with pytest.raises(calls.OutcomeError, match="already"):
        pipeline.forward_handoff(handoff=handoff, to=handoff.department, by=None, note="x", now=NOW)


@pytest.mark.parametrize(("outcome", "status", "temperature"), [
    ("sold", "closed", "hot"), ("test_drive", "accepted", "hot"), ("visit_confirmed", "closed", "hot"),
    ("not_interested", "closed", "cold"), ("no_answer", "accepted", "warm"),
])
def test_each_outcome_is_recorded_as_a_structured_result(moscow, outcome, status, temperature):
    # given
    customer = factories.CustomerFactory(dealership=moscow)
    handoff = _handoff(moscow, temperature="warm", customer=customer)
    seller = factories.make_user("sam", "sales", dealerships=(moscow,))
    later = NOW + dt.timedelta(minutes=30)
    # when
    pipeline.record_handoff_outcome(handoff=handoff, by=seller, outcome=outcome, now=later, note="talked")
    # then
    handoff.refresh_from_db()
    assert (handoff.outcome, handoff.status, handoff.responded_at, handoff.accepted_by) == (outcome, status, later, seller)
    assert handoff.closed_at == (later if status == "closed" else None)
    assert Customer.objects.get(pk=customer.pk).temperature == temperature
    assert HandoffEvent.objects.filter(kind="outcome", value=outcome, by=seller).count() == 1


def test_a_sale_picked_from_the_customer_s_recent_ones_is_linked(moscow):
    # given
    customer = factories.CustomerFactory(dealership=moscow)
    handoff = _handoff(moscow, customer=customer)
    sale = factories.SaleFactory(customer=customer, vehicle__owner=customer, dealership=moscow, sold_on=NOW.date())
    strangers = factories.SaleFactory(dealership=moscow, sold_on=NOW.date())
    # when / then
    assert pipeline.recent_sales(handoff, NOW.date()) == [sale]
    with pytest.raises(calls.OutcomeError, match="not this customer"):
        pipeline.record_handoff_outcome(handoff=handoff, by=None, outcome="sold", now=NOW, sale=strangers)
    pipeline.record_handoff_outcome(handoff=handoff, by=None, outcome="sold", now=NOW, sale=sale)
    assert Handoff.objects.get().sale == sale


def test_a_sale_imported_later_within_the_match_days_is_linked_by_the_sweep(moscow):
    # given: "sold" recorded on Monday with no sale in the DMS yet
    customer = factories.CustomerFactory(dealership=moscow)
    handoff = _handoff(moscow, customer=customer)
    pipeline.record_handoff_outcome(handoff=handoff, by=None, outcome="sold", now=NOW)
    too_late = factories.SaleFactory(customer=customer, vehicle__owner=customer, dealership=moscow,
                                     sold_on=NOW.date() + dt.timedelta(days=20))
    # when
    before = pipeline.link_results(now=NOW + dt.timedelta(days=1))
    sale = factories.SaleFactory(customer=customer, vehicle__owner=customer, dealership=moscow,
                                 sold_on=NOW.date() + dt.timedelta(days=3))
    linked = pipeline.link_results(now=NOW + dt.timedelta(days=4))
    again = pipeline.link_results(now=NOW + dt.timedelta(days=5))
    # then
    assert (before, linked, again) == (0, 1, 0)
    assert Handoff.objects.get().sale == sale != too_late


def test_a_confirmed_visit_is_linked_to_the_visit_imported_later(moscow):
    customer = factories.CustomerFactory(dealership=moscow)
    vehicle = factories.VehicleFactory(owner=customer)
    handoff = _handoff(moscow, customer=customer, topic="service", department="service")
    pipeline.record_handoff_outcome(handoff=handoff, by=None, outcome="visit_confirmed", now=NOW)
    visit = factories.ServiceVisitFactory(vehicle=vehicle, dealership=moscow, visited_on=NOW.date() + dt.timedelta(days=2))
    assert pipeline.link_results(now=NOW + dt.timedelta(days=3)) == 1
    assert Handoff.objects.get().service_visit == visit


def test_a_closed_hand_off_takes_no_more_outcomes(moscow):
    handoff = _handoff(moscow)
    pipeline.record_handoff_outcome(handoff=handoff, by=None, outcome="not_interested", now=NOW)
    with pytest.raises(calls.OutcomeError, match="closed already"):
        pipeline.record_handoff_outcome(handoff=handoff, by=None, outcome="sold", now=NOW)


def test_the_sla_escalates_over_many_days_once_each_never_early_none_missed(moscow):
    """30 days under a faked clock: hand-offs arrive during working hours, some are answered in time,
    some late, some never; the beat's sweep runs every two hours (twice at a time on some runs, as
    with two beats). Every day: none escalated twice, none before its due moment, none missed, and
    none answered in time escalated."""
    rng = random.Random(15)
    start = dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC)  # Monday 09:00 Moscow
    answers: dict[int, dt.datetime] = {}  # hand-off → when it will be answered
    for day in range(30):
        for hour in range(0, 24, 2):
            now = start + dt.timedelta(days=day, hours=hour)
            with time_machine.travel(now, tick=False):
                if moscow.local_date(now).weekday() < 5 and 6 <= now.hour <= 16:
                    for _ in range(rng.randint(0, 2)):
                        handoff = _handoff(moscow, temperature=rng.choice(["hot", "warm", "cold"]), now=now)
                        if rng.random() < 0.7:
                            answers[handoff.pk] = now + dt.timedelta(hours=rng.choice([1, 3, 10, 30, 60]))
                for pk, when in list(answers.items()):
                    if when <= now:
                        pipeline.record_handoff_outcome(handoff=Handoff.objects.get(pk=pk), by=None,
                                                        outcome=rng.choice(["no_answer", "sold", "not_interested"]), now=when)
                        del answers[pk]
                tasks.sweep_handoffs()
                if hour % 6 == 0:
                    tasks.sweep_handoffs()  # a second beat
        # the day's invariants
        last_run = start + dt.timedelta(days=day, hours=22)
        rows = list(Handoff.objects.all())
        events = list(HandoffEvent.objects.filter(kind="escalated").values_list("handoff_id", flat=True))
        assert len(events) == len(set(events)), "a hand-off escalated twice"
        assert {h.pk for h in rows if h.escalated_at} == set(events)
        for h in rows:
            assert h.due_at is not None
            if h.escalated_at:
                assert h.escalated_at >= h.due_at, "escalated before its deadline"
                assert h.responded_at is None or h.responded_at > h.due_at, "answered in time, yet escalated"
            elif h.due_at <= last_run:
                assert h.responded_at is not None and h.responded_at <= last_run, f"hand-off {h.pk} missed"
    assert HandoffEvent.objects.filter(kind="escalated").count() > 5
    assert Handoff.objects.filter(escalated_at__isnull=True, responded_at__isnull=False).count() > 5
