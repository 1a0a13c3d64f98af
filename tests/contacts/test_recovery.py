"""Lost work comes back in minutes: builds and nightly chunks that a killed worker or a restarted broker
lost are queued again once a task time limit has passed, and never while they may still be running."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from contacts import recovery, tasks
from contacts.models import Problem, QueueBuild, SweepChunk, Touchpoint
from tests import factories

pytestmark = pytest.mark.django_db
# Monday 2026-11-23, 07:30 in Moscow.
NOW = dt.datetime(2026, 11, 23, 4, 30, tzinfo=dt.UTC)


def test_a_lost_build_is_queued_again_after_the_time_limit_and_only_then(moscow):
    # given: the build sweep queued the day's build, and nothing ran it (its worker was killed)
    assert [b.day for b in recovery.builds_to_queue(now=NOW)] == [dt.date(2026, 11, 23)]
    # when / then: while it may still be running, it is not queued again; once it cannot be, it is
    limit = recovery.requeue_after()
    assert recovery.builds_to_queue(now=NOW + limit - dt.timedelta(seconds=5)) == []
    again = recovery.builds_to_queue(now=NOW + limit + dt.timedelta(seconds=5))
    assert [(b.dealership_id, b.day) for b in again] == [(moscow.id, dt.date(2026, 11, 23))]
    assert QueueBuild.objects.get().attempts == 2
    # queued again by the next every-minute sweep: within five minutes of being lost
    assert limit + dt.timedelta(minutes=1) <= dt.timedelta(minutes=5)


def test_the_build_sweep_every_minute_builds_once_and_then_leaves_the_day_alone(moscow):
    # given / when: the sweep runs every minute through the morning (tasks run in-process here)
    for minute in range(0, 30, 1):
        with time_machine.travel(NOW + dt.timedelta(minutes=minute), tick=False):
            tasks.build_due_queues()
    # then: the day's build ran once and finished
    build = QueueBuild.objects.get()
    assert build.finished_at is not None and build.attempts == 1


def test_a_lost_sweep_chunk_is_queued_again_and_finished(moscow):
    # given: a vehicle, and tonight's sweep recorded with its one chunk never run
    sale = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2026, 11, 1))
    night = NOW.date()
    assert recovery.record_sweep(night=night, bounds=[(sale.vehicle.id, sale.vehicle.id + 10)], now=NOW)
    # beat run twice the same night records (and queues) nothing new
    assert recovery.record_sweep(night=night, bounds=[(sale.vehicle.id, sale.vehicle.id + 10)], now=NOW) == []
    # when: the lost-work sweep runs, first too early, then a time limit later
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        assert tasks.requeue_lost_work() == 0
    with time_machine.travel(NOW + recovery.requeue_after() + dt.timedelta(minutes=1), tick=False):
        assert tasks.requeue_lost_work() == 1
    # then: the chunk ran (in-process here) and is finished; its vehicle is planned
    chunk = SweepChunk.objects.get()
    assert chunk.finished_at is not None and chunk.attempts == 2
    assert Touchpoint.objects.filter(vehicle=sale.vehicle).exists()


def test_a_chunk_that_keeps_getting_lost_is_given_up_and_recorded(moscow):
    night = NOW.date()
    recovery.record_sweep(night=night, bounds=[(1, 11)], now=NOW)
    SweepChunk.objects.update(attempts=recovery.MAX_CHUNK_ATTEMPTS)
    assert recovery.chunks_to_requeue(now=NOW + recovery.requeue_after() + dt.timedelta(seconds=1)) == []
    assert SweepChunk.objects.get().finished_at is not None
    assert Problem.objects.get().subject == "chunk:1-11"


def test_one_bad_vehicle_never_fails_the_re_plan_chunk(moscow, monkeypatch):
    # given: three vehicles, and the plan engine failing on the second
    from contacts.planning import computing, sweep

    sales = [factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2026, 11, 1)) for _ in range(3)]
    broken = sales[1].vehicle.id
    real = computing.plan_vehicle

    def failing(specs, facts):
        if facts.vehicle_id == broken:
            raise OverflowError("date value out of range")
        return real(specs, facts)

    monkeypatch.setattr(computing, "plan_vehicle", failing)
    # when
    result = sweep.replan_isolating_failures(vehicle_ids=[s.vehicle.id for s in sales], now=NOW)
    # then: the other two are planned, the bad one is on record with what and why
    assert result.vehicles == 3
    assert {s.vehicle.id for s in sales if Touchpoint.objects.filter(vehicle=s.vehicle).exists()} == {
        sales[0].vehicle.id, sales[2].vehicle.id
    }
    problem = Problem.objects.get()
    assert (problem.stage, problem.vehicle_id, problem.subject) == ("replan", broken, f"vehicle:{broken}")
    assert "date value out of range" in problem.error


def test_health_and_the_problems_page_show_late_builds_and_problems(client, moscow, supervisor):
    # given: the morning has come, the build is not done, and one vehicle failed last night
    Problem.objects.create(stage="replan", day=NOW.date(), subject="vehicle:7", error="OverflowError: boom",
                           occurred_at=NOW, dealership=moscow)
    with time_machine.travel(NOW, tick=False):
        # when
        health = client.get(reverse("health")).json()
        client.force_login(supervisor)
        page = client.get(reverse("contacts:problems"))
    # then
    assert {"dealership": "msk", "day": "2026-11-23", "attempts": 0, "queued_at": None} in health["late_builds"]
    assert health["problems_last_day"] == 1 and health["problems"][0]["subject"] == "vehicle:7"
    assert page.status_code == 200
    assert "OverflowError: boom" in page.content.decode()
    assert "not started yet" in page.content.decode()


def test_the_nights_last_chunk_refreshes_the_planner_statistics(moscow):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")
    # given: a sweep of two chunks
    sales = [factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2026, 11, 1)) for _ in range(2)]
    first, second = sorted(s.vehicle.id for s in sales)
    night = NOW.date()
    recovery.record_sweep(night=night, bounds=[(first, first + 1), (second, second + 1)], now=NOW)

    def statistics_match_the_table() -> bool:
        # ANALYZE sets reltuples in this transaction; rows written since are not in it
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'contacts_touchpoint'")
            estimated = cursor.fetchone()[0]
        return estimated == Touchpoint.objects.count()

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_touchpoint")  # statistics of the empty table
    # when / then: the first chunk leaves them, the last refreshes them
    tasks.replan_vehicle_range(first, first + 1, NOW.isoformat(), night.isoformat())
    assert Touchpoint.objects.exists() and not statistics_match_the_table()
    tasks.replan_vehicle_range(second, second + 1, NOW.isoformat(), night.isoformat())
    assert statistics_match_the_table()


def test_a_sweep_asked_for_by_a_change_runs_even_after_the_nights_sweep(moscow):
    # given: tonight's sweep already ran
    factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2026, 11, 1))
    with time_machine.travel(NOW, tick=False):
        assert tasks.replan_all_vehicles() == 1
        # when: the nightly sweep is started again (beat twice), and a published template asks for one
        again = tasks.replan_all_vehicles()
        asked = tasks.replan_all_vehicles(nightly=False)
    # then: the second nightly one queues nothing, the asked-for one queues the fleet
    assert (again, asked) == (0, 1)
    assert SweepChunk.objects.count() == 1


def test_the_supervisor_sees_the_contact_data_to_refresh_of_their_dealerships_only(client, moscow, yekaterinburg):
    # given: an unreachable phone and a bounced e-mail in Moscow, an unreachable phone in Yekaterinburg
    supervisor = factories.make_user("vera", "supervisor", dealerships=(moscow,))
    phone = factories.CustomerFactory(dealership=moscow, last_name="Звонова", phone_unreachable_since=NOW.date())
    mail = factories.CustomerFactory(dealership=moscow, last_name="Почтова", email="a@example.com",
                                     email_unreachable_since=NOW.date())
    factories.CustomerFactory(dealership=moscow, last_name="Доступнова")
    factories.CustomerFactory(dealership=yekaterinburg, last_name="Чужова", phone_unreachable_since=NOW.date())
    client.force_login(supervisor)
    # when
    page = client.get(reverse("contacts:problems")).content.decode()
    # then
    section = page[page.index('id="data-refresh"'):]
    assert phone.last_name in section and mail.last_name in section
    assert "Доступнова" not in section and "Чужова" not in section
