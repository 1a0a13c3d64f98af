from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from contacts.audit import audit_stored_contacts
from contacts.models import CallTask, ContactRules, DailyCapacity, OutboxMessage, QueueBuild, Touchpoint
from contacts.planning.chunk import replan
from contacts.queues import build_queue, dealerships_due
from customers.models import Consent
from tests import factories

pytestmark = pytest.mark.django_db
# Monday 2026-11-23, 07:30 in Moscow.
NOW = dt.datetime(2026, 11, 23, 4, 30, tzinfo=dt.UTC)
DAY = dt.date(2026, 11, 23)


def _customer_due_for_service(moscow, **customer):
    """Bought 2025-12-20 at 0 km, 12,300 km by 2026-10-01 (~1,290 km a month): maintenance falls due
    early in December 2026, so its invitation is open on the build day, as is the insurance renewal."""
    owner = factories.CustomerFactory(dealership=moscow, **customer)
    sale = factories.SaleFactory(vehicle__owner=owner, sold_on=dt.date(2025, 12, 20))
    factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=dt.date(2025, 12, 20), odometer_km=0, source="sale")
    factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=dt.date(2026, 10, 1), odometer_km=12300)
    replan(vehicle_ids=[sale.vehicle.id], now=NOW)
    return owner


def test_build_creates_a_call_with_a_script_and_an_explanation(moscow):
    # given
    customer = _customer_due_for_service(moscow)
    # when
    counts = build_queue(dealership=moscow, day=DAY, now=NOW)
    # then
    task = CallTask.objects.get(customer=customer)
    assert counts.calls == 1
    assert task.scheduled_on == DAY
    assert task.window_start <= DAY <= task.window_end
    # the service invite and the insurance renewal, due within days, are merged; service goes first
    # (and the keep-alive: nobody reached them for 11 months), in department priority order
    assert [item["code"] for item in task.agenda] == ["service_invite", "insurance_renewal", "keep_alive"]
    assert "maintenance due" in task.agenda[0]["why"] and "km a month" in task.agenda[0]["why"]
    assert "[[agent]]" in task.script
    assert Touchpoint.objects.get(id=task.agenda[0]["touchpoint_id"]).status == Touchpoint.Status.ISSUED


def test_build_runs_once_per_dealership_and_day(moscow):
    # given
    _customer_due_for_service(moscow)
    build_queue(dealership=moscow, day=DAY, now=NOW)
    tasks = list(CallTask.objects.values_list("id", "customer_id", "scheduled_on"))
    # when
    build_queue(dealership=moscow, day=DAY, now=NOW)
    # then
    assert list(CallTask.objects.values_list("id", "customer_id", "scheduled_on")) == tasks
    assert QueueBuild.objects.filter(dealership=moscow, day=DAY).count() == 1


def test_a_build_killed_half_way_and_rerun_gives_the_same_tasks(moscow):
    # given: a build that wrote its tasks but died before marking the day finished
    _customer_due_for_service(moscow)
    _customer_due_for_service(moscow)
    build_queue(dealership=moscow, day=DAY, now=NOW)
    first = sorted(CallTask.objects.values_list("customer_id", "scheduled_on", "agenda"), key=str)
    QueueBuild.objects.update(finished_at=None)
    # when
    build_queue(dealership=moscow, day=DAY, now=NOW)
    # then
    assert sorted(CallTask.objects.values_list("customer_id", "scheduled_on", "agenda"), key=str) == first


def test_do_not_call_customer_gets_no_call(moscow):
    # given
    customer = _customer_due_for_service(moscow)
    Consent.objects.create(customer=customer, channel="call", is_allowed=False, changed_at=NOW, reason="asked")
    # when
    build_queue(dealership=moscow, day=DAY, now=NOW)
    # then
    assert not CallTask.objects.filter(customer=customer).exists()
    assert Touchpoint.objects.filter(customer=customer, resolution="do_not_contact:call").exists()


def test_holdout_customer_gets_no_planned_contact(moscow):
    customer = _customer_due_for_service(moscow, is_holdout=True)
    build_queue(dealership=moscow, day=DAY, now=NOW)
    assert not CallTask.objects.filter(customer=customer).exists()
    assert not OutboxMessage.objects.filter(customer=customer).exists()
    assert Touchpoint.objects.filter(customer=customer, status="suppressed", resolution="holdout").exists()


def test_nothing_is_called_on_a_weekend(moscow):
    # given: Sunday 2026-11-22
    customer = _customer_due_for_service(moscow)
    # when
    build_queue(dealership=moscow, day=dt.date(2026, 11, 22), now=NOW - dt.timedelta(days=1))
    # then
    assert not CallTask.objects.filter(customer=customer).exists()


def test_capacity_moves_the_overflow_to_later_days_with_a_reason(moscow):
    # given: capacity of one call (1 agent x 1 call)
    ContactRules.objects.update_or_create(dealership=moscow, defaults={"calls_per_agent": 1, "default_agents_on_shift": 1})
    customers = [_customer_due_for_service(moscow) for _ in range(3)]
    # when
    counts = build_queue(dealership=moscow, day=DAY, now=NOW)
    # then
    assert CallTask.objects.filter(scheduled_on=DAY).count() == 1
    assert counts.over_capacity == 2
    moved = Touchpoint.objects.filter(customer__in=customers, resolution="deferred:capacity")
    assert moved.count() >= 2
    assert all(tp.status == "planned" for tp in moved)


def test_supervisor_capacity_for_the_day_wins_over_the_default(moscow, supervisor):
    ContactRules.objects.update_or_create(dealership=moscow, defaults={"calls_per_agent": 1, "default_agents_on_shift": 1})
    DailyCapacity.objects.create(dealership=moscow, day=DAY, agents_on_shift=3, set_by=supervisor)
    for _ in range(3):
        _customer_due_for_service(moscow)
    build_queue(dealership=moscow, day=DAY, now=NOW)
    assert CallTask.objects.filter(scheduled_on=DAY).count() == 3


def test_product_output_audits_to_zero(moscow):
    for _ in range(5):
        _customer_due_for_service(moscow)
    build_queue(dealership=moscow, day=DAY, now=NOW)
    build_queue(dealership=moscow, day=DAY + dt.timedelta(days=1), now=NOW + dt.timedelta(days=1))
    report = audit_stored_contacts()
    assert report["checked"] > 0
    assert set(report["violations"].values()) == {0}


def test_audit_contacts_reports_a_call_on_a_holiday(moscow, capsys):
    # given: a task placed by hand on 1 January, a Russian public holiday
    customer = factories.CustomerFactory(dealership=moscow)
    CallTask.objects.create(
        dealership=moscow, customer=customer, scheduled_on=dt.date(2027, 1, 1), window_start=dt.date(2027, 1, 1),
        window_end=dt.date(2027, 1, 5), blocks_until=dt.date(2027, 1, 8),
    )
    # when
    call_command("audit_contacts", "--json")
    # then
    import json

    report = json.loads(capsys.readouterr().out)
    assert report["checked"] == 1
    assert report["violations"]["holiday"] == 1


def test_morning_comes_at_different_hours_in_each_zone(moscow, yekaterinburg):
    # given: 03:30 UTC = 06:30 in Moscow, 08:30 in Yekaterinburg; the build hour is 07:00
    ContactRules.for_dealership(moscow)
    ContactRules.for_dealership(yekaterinburg)
    now = dt.datetime(2026, 11, 23, 3, 30, tzinfo=dt.UTC)
    # then
    assert [(d.code, day) for d, day in dealerships_due(now=now)] == [("ekb", DAY)]


def test_year_end_build_uses_the_local_new_year_day(yekaterinburg):
    # given: 20:00 UTC on 31 December is already 1 January in Yekaterinburg (a holiday)
    ContactRules.for_dealership(yekaterinburg)
    ContactRules.objects.filter(dealership=yekaterinburg).update(queue_build_hour=0)
    now = dt.datetime(2026, 12, 31, 20, 0, tzinfo=dt.UTC)
    # then
    assert [day for _d, day in dealerships_due(now=now)] == [dt.date(2027, 1, 1)]


def test_two_tasks_closer_than_the_gap_are_impossible_on_postgresql(moscow):
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint exists on PostgreSQL")
    customer = factories.CustomerFactory(dealership=moscow)
    fields = {"dealership": moscow, "customer": customer, "window_start": DAY, "window_end": DAY + dt.timedelta(days=14)}
    CallTask.objects.create(scheduled_on=DAY, blocks_until=DAY + dt.timedelta(days=7), **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        CallTask.objects.create(
            scheduled_on=DAY + dt.timedelta(days=3), blocks_until=DAY + dt.timedelta(days=10), **fields
        )
    # a requested callback is allowed
    CallTask.objects.create(
        scheduled_on=DAY + dt.timedelta(days=3), blocks_until=DAY + dt.timedelta(days=10), is_requested=True, **fields
    )
    assert CallTask.objects.filter(customer=customer).count() == 2


def _build_in_a_thread(dealership, errors: list[BaseException]) -> threading.Thread:
    """A thread (not started) that builds the day's queue on its own connection, keeping its errors."""

    def run() -> None:
        try:
            build_queue(dealership=dealership, day=DAY, now=NOW)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    return threading.Thread(target=run)


@pytest.mark.django_db(transaction=True)
def test_two_builds_at_once_give_the_same_tasks_as_one(moscow):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL")
    # given
    for _ in range(6):
        _customer_due_for_service(moscow)
    errors: list[BaseException] = []
    # when
    threads = [_build_in_a_thread(moscow, errors) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then: no duplicate call, every placed touchpoint on exactly one task
    raced = sorted(CallTask.objects.values_list("customer_id", "scheduled_on"))
    assert len(raced) == len(set(raced)) == 6
    assert all(not isinstance(e, IntegrityError) for e in errors)


def test_why_this_call_is_said_in_the_agents_language():
    from django.utils import translation

    from contacts.queues import why

    detail = {"due_on": "2026-12-03", "km_per_month": "1420.4", "maintenance_number": "2"}
    with translation.override("en"):
        assert why("x", detail) == "maintenance due 2026-12-03 (TO-2), predicted from 1420 km a month"
    with translation.override("ru"):
        assert why("x", detail) == "ТО-2 ожидается 2026-12-03, прогноз по пробегу 1420 км в месяц"


def _wait_until_a_backend_waits_for_a_lock(seconds: float = 20) -> bool:
    import time

    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # The statistics views are read once per transaction unless the snapshot is cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_do_not_call_recorded_while_the_build_runs_leaves_no_call(moscow):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL")
    from contacts.calls import set_do_not_contact
    from customers.models import Customer

    # given: two customers due for a call; an agent is recording a do-not-call for the first one
    refusing, other = _customer_due_for_service(moscow), _customer_due_for_service(moscow)
    errors: list[BaseException] = []
    thread = _build_in_a_thread(moscow, errors)

    with transaction.atomic():
        Customer.objects.select_for_update().get(pk=refusing.pk)
        # when: the build reaches the customer while the refusal is being written
        thread.start()
        assert _wait_until_a_backend_waits_for_a_lock(), f"the build never waited for the customer's row {errors}"
        set_do_not_contact(customer=refusing, channels=["call"], now=NOW, reason="asked during a build")
    thread.join(timeout=60)
    # then: no call for the customer who refused, the other one is called
    assert errors == []
    assert not CallTask.objects.filter(customer=refusing).exclude(status="cancelled").exists()
    assert CallTask.objects.filter(customer=other, scheduled_on=DAY).exists()
    assert audit_stored_contacts()["violations"]["do_not_contact"] == 0


# --- failure isolation ---------------------------------------------------------------------------


def test_a_household_that_cannot_be_resolved_is_recorded_and_the_rest_is_built(moscow, monkeypatch):
    # given: three customers due, and the resolver failing on the second one's household
    from contacts.models import Problem
    from contacts.queues import resolving

    customers = [_customer_due_for_service(moscow) for _ in range(3)]
    broken = customers[1].id
    real = resolving.resolve_household

    def failing(**kwargs):
        if broken in kwargs["members"]:
            raise ValueError("window arithmetic overflowed")
        return real(**kwargs)

    monkeypatch.setattr(resolving, "resolve_household", failing)
    # when
    build_queue(dealership=moscow, day=DAY, now=NOW)
    # then: the day is built for the others, and the failure is on record for a supervisor
    assert QueueBuild.objects.get(dealership=moscow, day=DAY).finished_at is not None
    assert set(CallTask.objects.values_list("customer_id", flat=True)) == {customers[0].id, customers[2].id}
    problem = Problem.objects.get()
    assert (problem.stage, problem.day, problem.subject, problem.customer_id) == ("build", DAY, f"household:{broken}", broken)
    assert "window arithmetic overflowed" in problem.error


def test_a_call_that_cannot_be_written_is_recorded_and_the_other_calls_are_issued(moscow, monkeypatch):
    # given: the script of one customer's call fails to render
    from contacts.models import Problem
    from contacts.queues import rendering

    customers = [_customer_due_for_service(moscow) for _ in range(3)]
    broken = customers[0].id
    real = rendering.call_task_for

    def failing(**kwargs):
        if kwargs["customer"].id == broken:
            raise KeyError("forecast")
        return real(**kwargs)

    monkeypatch.setattr(rendering, "call_task_for", failing)
    # when
    build_queue(dealership=moscow, day=DAY, now=NOW)
    # then
    assert QueueBuild.objects.get(dealership=moscow, day=DAY).finished_at is not None
    assert set(CallTask.objects.values_list("customer_id", flat=True)) == {customers[1].id, customers[2].id}
    assert Problem.objects.get().subject == f"customer:{broken}"
    # and its touchpoints stay planned: tomorrow's build tries again
    assert not Touchpoint.objects.filter(customer_id=broken, status=Touchpoint.Status.ISSUED).exists()


# --- one budget per person across the group --------------------------------------------------------


@pytest.mark.parametrize("across", [True, False])
def test_one_person_in_two_dealerships_gets_one_call_a_day(moscow, yekaterinburg, settings, across):
    # given: the same phone at both dealerships, both due for service
    settings.CLM_HOUSEHOLD_ACROSS_DEALERSHIPS = across
    in_moscow = _customer_due_for_service(moscow, phone="+79160000001")
    in_ekb = _customer_due_for_service(yekaterinburg, phone="+79160000001")
    # when: Yekaterinburg's morning comes first, then Moscow's
    build_queue(dealership=yekaterinburg, day=DAY, now=NOW - dt.timedelta(hours=2))
    build_queue(dealership=moscow, day=DAY, now=NOW)
    # then
    called = set(CallTask.objects.filter(scheduled_on=DAY).values_list("customer_id", flat=True))
    if across:
        assert called == {in_ekb.id}
        assert Touchpoint.objects.filter(customer=in_moscow, status="planned").exclude(resolution="").exists()
    else:
        assert called == {in_ekb.id, in_moscow.id}


# --- a car that is gone -------------------------------------------------------------------------


def test_an_open_call_about_a_car_that_was_traded_in_is_withdrawn_and_never_made(moscow):
    # given: a customer with two cars, both due, on one open call
    owner = _customer_due_for_service(moscow)
    second = factories.SaleFactory(vehicle__owner=owner, sold_on=dt.date(2025, 12, 20))
    factories.OdometerReadingFactory(vehicle=second.vehicle, read_on=dt.date(2025, 12, 20), odometer_km=0, source="sale")
    factories.OdometerReadingFactory(vehicle=second.vehicle, read_on=dt.date(2026, 10, 1), odometer_km=12500)
    replan(vehicle_ids=[second.vehicle.id], now=NOW)
    build_queue(dealership=moscow, day=DAY, now=NOW)
    task = CallTask.objects.get(customer=owner)
    gone = task.items.first().touchpoint.vehicle
    assert {item.touchpoint.vehicle_id for item in task.items.all()} >= {gone.id}
    # when: that car is traded in (inactive) and re-planned, as an import or the admin does
    type(gone).objects.filter(pk=gone.pk).update(is_active=False)
    replan(vehicle_ids=[gone.id], now=NOW + dt.timedelta(hours=3), force=True)
    # then: the open call is withdrawn; the traded-in car's topics are closed, the other car's go back
    task.refresh_from_db()
    assert (task.status, task.outcome) == (CallTask.Status.CANCELLED, "vehicle_gone")
    assert not Touchpoint.objects.filter(vehicle=gone, status__in=["planned", "issued"]).exists()
    # and the next days' builds call the customer about the other car only
    for offset in range(1, 8):
        day = DAY + dt.timedelta(days=offset)
        replan(vehicle_ids=[gone.id, second.vehicle.id, *owner.vehicles.values_list("id", flat=True)],
               now=NOW + dt.timedelta(days=offset))
        build_queue(dealership=moscow, day=day, now=NOW + dt.timedelta(days=offset))
    live = CallTask.objects.filter(customer=owner).exclude(status=CallTask.Status.CANCELLED)
    assert not Touchpoint.objects.filter(call_item__call_task__in=live, vehicle=gone).exists()


def test_a_phone_mate_with_nothing_open_still_counts_against_the_households_budget(moscow):
    # given: two customers on one phone; the first was called yesterday and has nothing open now
    from tests.contacts.factories import make_call_task

    first = factories.CustomerFactory(dealership=moscow, phone="+79160000002")
    make_call_task(moscow, customer=first, scheduled_on=DAY - dt.timedelta(days=1), status=CallTask.Status.DONE)
    second = _customer_due_for_service(moscow, phone="+79160000002")
    # when
    build_queue(dealership=moscow, day=DAY, now=NOW)
    # then: the second is not called the day after the first (the gap is per household)
    assert not CallTask.objects.filter(customer=second, scheduled_on=DAY).exists()


def test_the_build_writes_the_days_message_with_its_rendered_text(moscow):
    # given: a customer whose birthday greeting falls on the build day, nothing else open
    from contacts.models import TouchpointTemplate

    owner = factories.CustomerFactory(dealership=moscow, first_name="Анна", birthday=dt.date(1985, 11, 23), language="ru")
    vehicle = factories.SaleFactory(vehicle__owner=owner, sold_on=dt.date(2024, 6, 1)).vehicle
    greeting = Touchpoint.objects.create(
        vehicle=vehicle, customer=owner, template=TouchpointTemplate.objects.get(code="birthday"),
        cycle_start=dt.date(2024, 6, 1), occurrence=1, due_on=DAY, window_start=DAY, window_end=DAY, reason="birthday",
    )
    # when
    counts = build_queue(dealership=moscow, day=DAY, now=NOW)
    # then: one message in the outbox, for today, to the customer's phone, rendered in Russian
    message = OutboxMessage.objects.get(touchpoint=greeting)
    assert counts.messages == 1
    assert (message.send_on, message.channel, message.recipient, message.status) == (DAY, "sms", owner.phone, "pending")
    assert "Анна" in message.body and "{{" not in message.body
    greeting.refresh_from_db()
    assert greeting.status == Touchpoint.Status.ISSUED
