"""The simulator at a small size keeps every promise; each invariant catches a violation planted for it."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test.utils import override_settings

from contacts.models import CallAttempt, CallTask, OutboxMessage, QueueBuild, Touchpoint, TouchpointTemplate
from contacts.simulation import invariants
from contacts.simulation.invariants import DayContext
from contacts.simulation.run import simulate
from customers.models import Consent
from tests import factories
from tests.conftest import restore_migration_data
from tests.contacts.factories import DAY, make_call_task

UTC = dt.UTC
# Small enough for the suite (the nightly re-plan of every car is most of a simulated day on SQLite),
# long enough for unworked calls to expire (their windows are 14 days) and for a weekly import.
DAYS, VEHICLES = 28, 60
# The demo users' passwords: the default hasher costs about a second each on a busy machine.
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- the simulator at a small size -----------------------------------------------------------------


@pytest.fixture(scope="module")
def small_run(django_db_setup, django_db_blocker):
    """Four weeks of a small group with nobody working half the calls, run once for the module."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER):
        restore_migration_data()
        # The every-minute sweeps hourly: a quarter-hourly sweep only times recovery more finely.
        report = simulate(days=DAYS, vehicles=VEHICLES, seed=5, work_share=0.5, sweep_minutes=60)
        yield report
        call_command("flush", interactive=False, verbosity=0)


def test_every_dealership_gets_its_queue_every_working_day(small_run):
    assert small_run.failed_build_days == []
    assert small_run.task_failures == {}
    assert small_run.violations.get("queue_every_working_day", 0) == 0


def test_nothing_is_duplicated(small_run):
    assert small_run.violations.get("no_duplicates", 0) == 0


def test_audit_contacts_stays_clean(small_run):
    assert small_run.violations.get("audit_contacts_clean", 0) == 0


def test_messages_go_out_inside_message_hours(small_run):
    assert small_run.violations.get("message_hours", 0) == 0


def test_nothing_after_a_refusal_whichever_path_recorded_it(small_run):
    assert small_run.violations.get("nothing_after_refusal", 0) == 0


@pytest.mark.parametrize("invariant", ["no_call_about_sold_car", "missed_touchpoint_has_reason", "contacted_within_a_year"])
def test_the_other_promises_hold_all_the_way(small_run, invariant):
    assert small_run.violations.get(invariant, 0) == 0, small_run.first_violations.get(invariant)


def test_the_group_lived_a_realistic_four_weeks(small_run):
    figures = small_run.figures
    assert figures["calls"] > 15
    assert 0.3 < figures["reach_rate"] < 0.9
    assert figures["bookings"] > 0
    assert figures["maintenance_visits"] > 0
    assert figures["touchpoints_lost"] >= sum(figures["touchpoints_lost_by_reason"].values())


# --- the command -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--days", "0"], "--days must be at least 1"),
        (["--days", "5", "--work-share", "1.5"], "--work-share must be between 0 and 1"),
        (["--days", "5", "--faults", "meteor"], "Unknown fault meteor"),
        (["--days", "5", "--start", "someday"], "--start must be a date"),
    ],
)
@pytest.mark.django_db
def test_command_refuses_bad_arguments_in_plain_words(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("simulate", *arguments)


@pytest.mark.django_db
def test_command_refuses_a_database_that_holds_customers(moscow):
    factories.CustomerFactory(dealership=moscow)
    with pytest.raises(CommandError, match="empty database"):
        call_command("simulate", "--days", "1")


@pytest.mark.django_db(transaction=True)
@override_settings(PASSWORD_HASHERS=FAST_HASHER)
def test_command_prints_a_json_summary_and_is_deterministic_for_a_seed():
    # when: two days of a tiny group, twice with the same seed
    first = io.StringIO()
    call_command("simulate", "--days", "1", "--vehicles", "10", "--seed", "3", "--json", "--faults", "beat-twice", stdout=first)
    summary = json.loads(first.getvalue())
    calls = list(CallAttempt.objects.order_by("id").values_list("customer__external_id", "outcome"))
    call_command("flush", interactive=False, verbosity=0)
    restore_migration_data()
    second = io.StringIO()
    call_command("simulate", "--days", "1", "--vehicles", "10", "--seed", "3", "--json", "--faults", "beat-twice", stdout=second)
    # then
    assert summary["days"] == 1 and summary["faults"] == ["beat-twice"]
    assert set(summary) >= {"failed_build_days", "violations", "figures", "wall_seconds"}
    assert list(CallAttempt.objects.order_by("id").values_list("customer__external_id", "outcome")) == calls
    assert json.loads(second.getvalue())["figures"] == summary["figures"]


# --- each invariant catches a planted violation ------------------------------------------------------


def _ctx(day: dt.date = DAY, **fields) -> DayContext:
    return DayContext(day=day, **fields)


@pytest.mark.django_db
def test_a_working_day_without_a_finished_build_is_caught(moscow):
    assert [v.invariant for v in invariants.queue_built_every_working_day(_ctx())] == ["queue_every_working_day"]
    QueueBuild.objects.create(dealership=moscow, day=DAY, finished_at=dt.datetime(2026, 11, 23, 4, 5, tzinfo=UTC))
    assert invariants.queue_built_every_working_day(_ctx()) == []
    # a Sunday is no working day of the default rules
    assert invariants.queue_built_every_working_day(_ctx(DAY - dt.timedelta(days=1))) == []


@pytest.mark.django_db
def test_two_calls_of_one_household_on_one_day_are_caught(moscow):
    task = make_call_task(moscow)
    assert invariants.no_duplicates(_ctx()) == []
    # a second customer on the same phone (PostgreSQL's exclusion constraint forbids two calls of one
    # customer inside the gap, so the household is where a duplicate could slip through)
    mate = factories.CustomerFactory(dealership=moscow, phone=task.customer.phone)
    make_call_task(moscow, customer=mate, topics=("first_weeks",))
    assert [v.detail for v in invariants.no_duplicates(_ctx())] == [f"household {task.customer.phone} has 2 calls on {DAY}"]


@pytest.mark.django_db
def test_a_touchpoint_planned_twice_and_a_message_sent_twice_are_caught(moscow):
    task = make_call_task(moscow)
    touchpoint = task.items.get().touchpoint
    twin = Touchpoint.objects.create(
        vehicle=touchpoint.vehicle, customer=touchpoint.customer, template=touchpoint.template, cycle_start=touchpoint.cycle_start,
        occurrence=touchpoint.occurrence + 1, due_on=touchpoint.due_on, window_start=touchpoint.window_start,
        window_end=touchpoint.window_end, reason="due",
    )
    birthday = TouchpointTemplate.objects.get(code="birthday")
    for occurrence in (1, 2):
        greeting = Touchpoint.objects.create(
            vehicle=twin.vehicle, customer=twin.customer, template=birthday, cycle_start=twin.cycle_start,
            occurrence=occurrence, due_on=DAY + dt.timedelta(days=occurrence), window_start=DAY, window_end=DAY, reason="b",
            status=Touchpoint.Status.ISSUED,
        )
        OutboxMessage.objects.create(dealership=moscow, customer=twin.customer, touchpoint=greeting, channel="sms",
                                     recipient=twin.customer.phone, body="С днём рождения!", send_on=DAY)
    details = [v.detail for v in invariants.no_duplicates(_ctx())]
    assert details == [
        f"vehicle {twin.vehicle_id} has several '{touchpoint.template.code}' touchpoints due on one day",
        f"customer {twin.customer_id} gets 2 'birthday' messages on {DAY}",
    ]


@pytest.mark.django_db
def test_a_call_on_a_holiday_fails_the_audit(moscow):
    make_call_task(moscow, scheduled_on=dt.date(2027, 1, 1))
    assert [v.detail for v in invariants.audit_clean(_ctx())] == ["holiday: 1"]


def _message(dealership, *, sent_at: dt.datetime, send_on: dt.date = DAY) -> OutboxMessage:
    task = make_call_task(dealership)
    return OutboxMessage.objects.create(
        dealership=dealership, customer=task.customer, touchpoint=task.items.get().touchpoint, channel="sms",
        recipient=task.customer.phone, body="Пора на ТО", send_on=send_on, status=OutboxMessage.Status.SENT, sent_at=sent_at,
    )


@pytest.mark.django_db
def test_a_message_sent_at_the_builds_hour_or_on_another_day_is_caught(moscow):
    _message(moscow, sent_at=dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC))  # 12:00 in Moscow: fine
    assert invariants.messages_inside_message_hours(_ctx()) == []
    early = _message(moscow, sent_at=dt.datetime(2026, 11, 23, 4, 10, tzinfo=UTC))  # 07:10 in Moscow
    late = _message(moscow, sent_at=dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC), send_on=DAY - dt.timedelta(days=1))
    assert [v.detail for v in invariants.messages_inside_message_hours(_ctx())] == [
        f"message {early.pk} (msk) sent at 2026-11-23 07:10 local",
        f"message {late.pk} (msk) for {DAY - dt.timedelta(days=1)} sent on local {DAY}",
    ]


@pytest.mark.django_db
def test_a_call_after_a_refusal_and_a_call_left_open_are_caught(moscow, agent):
    task = make_call_task(moscow)
    refused_at = dt.datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    Consent.objects.create(customer=task.customer, channel="call", is_allowed=False, changed_at=refused_at, reason="admin")
    CallAttempt.objects.create(call_task=task, customer=task.customer, agent=agent, ended_at=refused_at + dt.timedelta(hours=1),
                               outcome="no_answer")
    assert [v.detail for v in invariants.nothing_after_a_refusal(_ctx())] == [
        f"customer {task.customer_id} called (attempt {CallAttempt.objects.get().pk}) after refusing calls",
        f"customer {task.customer_id} refused calls but call {task.pk} is still open",
    ]


@pytest.mark.django_db
def test_an_open_call_about_a_sold_car_is_caught(moscow):
    task = make_call_task(moscow)
    assert invariants.no_call_about_a_sold_car(_ctx()) == []
    vehicle = task.items.get().touchpoint.vehicle
    vehicle.is_active = False
    vehicle.save(update_fields=["is_active"])
    assert [v.detail for v in invariants.no_call_about_a_sold_car(_ctx())] == [f"open call {task.pk} is about sold vehicle {vehicle.pk}"]


@pytest.mark.django_db
def test_a_customer_nobody_contacted_for_a_year_is_caught_once_the_run_is_a_year_long(moscow, agent):
    # given: a customer with a car, there before the run began
    task = make_call_task(moscow)
    start = dt.date.today() + dt.timedelta(days=2)  # noqa: DTZ011 - after the rows' created_at, which is the real clock
    year_on = start + dt.timedelta(days=365)
    # then: not judged before a year has passed; judged after
    assert invariants.everyone_contacted_within_a_year(_ctx(year_on - dt.timedelta(days=1), simulation_start=start)) == []
    assert [v.invariant for v in invariants.everyone_contacted_within_a_year(_ctx(year_on, simulation_start=start))] == [
        "contacted_within_a_year"
    ]
    # when: a call reaches them
    CallAttempt.objects.create(call_task=task, customer=task.customer, agent=agent, outcome="reached",
                               ended_at=dt.datetime.combine(year_on - dt.timedelta(days=30), dt.time(9), tzinfo=UTC))
    assert invariants.everyone_contacted_within_a_year(_ctx(year_on, simulation_start=start)) == []


@pytest.mark.django_db
def test_a_touchpoint_dropped_without_a_reason_is_caught(moscow):
    task = make_call_task(moscow)
    touchpoint = task.items.get().touchpoint
    Touchpoint.objects.filter(pk=touchpoint.pk).update(status=Touchpoint.Status.SUPPRESSED, resolution="window_closed:capacity")
    assert invariants.every_missed_touchpoint_has_a_reason(_ctx()) == []
    Touchpoint.objects.filter(pk=touchpoint.pk).update(resolution="")
    assert [v.detail for v in invariants.every_missed_touchpoint_has_a_reason(_ctx())] == [
        f"touchpoint {touchpoint.pk} is suppressed without a reason"
    ]
    CallTask.objects.all().delete()


@pytest.mark.django_db(transaction=True)
@override_settings(PASSWORD_HASHERS=FAST_HASHER)
def test_a_build_that_dies_half_way_is_built_again_within_minutes():
    # when: on the third day each dealership's first build dies after resolving, before issuing calls
    report = simulate(days=3, vehicles=10, seed=2, faults=("build-crash",))
    # then: both were built again by the sweep minutes later, and no day is left without its queue
    recoveries = dict(report.recovery_minutes)
    assert sorted(recoveries) == ["build ekb 2027-03-03", "build msk 2027-03-03"]
    assert all(minutes is not None and minutes <= 10 for minutes in recoveries.values())
    assert report.failed_build_days == []
    assert report.task_failures == {"contacts.tasks.build_queue": 2}
    assert report.violations.get("queue_every_working_day", 0) == 0
