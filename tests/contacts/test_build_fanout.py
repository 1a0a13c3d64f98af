"""The morning build fanned out: household chunks resolved as tasks of their own, then one capacity pass
per dealership; a lost chunk is queued again by the recovery sweep. Under a moving clock for days."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from contacts import queues, recovery, tasks
from contacts.models import CallTask, CallTaskItem, ContactRules, Problem, QueueBuild, SweepChunk, Touchpoint
from contacts.planning.chunk import replan
from customers.models import Dealership
from tests import factories

pytestmark = pytest.mark.django_db

# Monday 2026-11-23, 07:30 in Moscow.
NOW = dt.datetime(2026, 11, 23, 4, 30, tzinfo=dt.UTC)
DAY = dt.date(2026, 11, 23)


def _customers_due(dealership: Dealership, count: int, start: dt.date, *, shared_phone_every: int = 0) -> list[int]:
    """Buyers whose first maintenance falls due over the coming weeks; every ``shared_phone_every``-th
    shares the previous one's phone (a household of two)."""
    vehicle_ids = []
    previous_phone = ""
    for n in range(count):
        sold_on = start - dt.timedelta(days=330 - 3 * n)
        extra = {"phone": previous_phone} if shared_phone_every and n % shared_phone_every == 0 and previous_phone else {}
        owner = factories.CustomerFactory(dealership=dealership, **extra)
        previous_phone = owner.phone
        sale = factories.SaleFactory(vehicle__owner=owner, sold_on=sold_on)
        factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=sold_on, odometer_km=0, source="sale")
        factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=start - dt.timedelta(days=40),
                                         odometer_km=9000 + 500 * n)
        vehicle_ids.append(sale.vehicle.id)
    return vehicle_ids


def _due_on_the_build_day(dealership: Dealership) -> int:
    """Bought 2025-12-20, ~1,290 km a month: the first maintenance's invitation is open on DAY."""
    owner = factories.CustomerFactory(dealership=dealership)
    sale = factories.SaleFactory(vehicle__owner=owner, sold_on=dt.date(2025, 12, 20))
    factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=dt.date(2025, 12, 20), odometer_km=0, source="sale")
    factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=dt.date(2026, 10, 1), odometer_km=12300)
    return sale.vehicle.id


def _tasks_of_the_day(day: dt.date) -> list[tuple[int, str]]:
    return sorted(
        (customer_id, str(agenda))
        for customer_id, agenda in CallTask.objects.filter(scheduled_on=day).values_list("customer_id", "agenda")
    )


def _build_in_chunks_of(size: int, settings, dealership: Dealership) -> tuple[list[tuple[int, str]], int, int]:
    """The build of DAY with chunks of ``size`` households, rolled back: its calls, over-capacity count
    and number of chunks."""
    settings.CLM_BUILD_CHUNK_HOUSEHOLDS = size
    with transaction.atomic():
        counts = queues.build_queue(dealership=dealership, day=DAY, now=NOW)
        result = (_tasks_of_the_day(DAY), counts.over_capacity, SweepChunk.objects.filter(build__isnull=False).count())
        transaction.set_rollback(True)
    return result


def test_a_build_in_many_chunks_issues_the_same_calls_as_one_chunk(moscow, settings):
    # given: 14 customers due, some sharing a phone, and capacity for 2 calls: capacity must pick
    # across chunks
    ContactRules.objects.update_or_create(dealership=moscow, defaults={"calls_per_agent": 2, "default_agents_on_shift": 1})
    replan(vehicle_ids=_customers_due(moscow, 14, DAY, shared_phone_every=4), now=NOW)
    # when
    whole, over_whole, chunks_whole = _build_in_chunks_of(10_000, settings, moscow)
    split, over_split, chunks_split = _build_in_chunks_of(2, settings, moscow)
    # then
    assert chunks_whole == 1 and chunks_split >= 4
    assert len(whole) == 2 and over_whole > 0
    assert split == whole and over_split == over_whole


def test_the_capacity_pass_holds_one_chunk_and_the_day_s_capacity(moscow, settings):
    # given: capacity 2, chunks of two households
    ContactRules.objects.update_or_create(dealership=moscow, defaults={"calls_per_agent": 2, "default_agents_on_shift": 1})
    replan(vehicle_ids=_customers_due(moscow, 14, DAY), now=NOW)
    settings.CLM_BUILD_CHUNK_HOUSEHOLDS = 2
    build, fresh = queues.start_build(dealership=moscow, day=DAY, now=NOW)
    for chunk_id in fresh:
        queues.resolve_build_chunk(chunk_id=chunk_id, now=NOW)
    # when: the chunks are read back as the capacity pass reads them
    from contacts.queues.build import _candidates_by_chunk
    from contacts.queues.issuing import _pick

    by_chunk = list(_candidates_by_chunk(build))
    chosen = _pick(iter(by_chunk), room=2)
    # then: one list per chunk; the two most urgent of all are picked, whichever chunk holds them
    assert len(by_chunk) == len(fresh) >= 5
    everyone = sorted((c for chunk in by_chunk for c in chunk if not c.plan.is_requested), key=lambda c: c.order)
    assert len(everyone) > 2 and len({c.plan.key for c in everyone[:2]}) == 2
    assert chosen == {c.plan.key for c in everyone[:2]}
    # and the finished build keeps the chunk rows as its record, without their candidates
    queues.finish_build(build=build, now=NOW)
    assert CallTask.objects.filter(scheduled_on=DAY).count() == 2
    assert all(p == {} for p in SweepChunk.objects.filter(build=build).values_list("payload", flat=True))


def test_a_chunk_given_up_is_a_problem_and_the_day_finishes_with_the_rest(moscow, settings):
    # given: a build of three chunks whose first chunk was lost every time it was queued
    replan(vehicle_ids=[_due_on_the_build_day(moscow) for _ in range(3)], now=NOW)
    settings.CLM_BUILD_CHUNK_HOUSEHOLDS = 1
    build, fresh = queues.start_build(dealership=moscow, day=DAY, now=NOW)
    for chunk_id in fresh[1:]:
        queues.resolve_build_chunk(chunk_id=chunk_id, now=NOW)
    SweepChunk.objects.filter(pk=fresh[0]).update(attempts=recovery.MAX_CHUNK_ATTEMPTS)
    # when: the recovery sweep comes after a task's time limit
    later = NOW + recovery.requeue_after() + dt.timedelta(seconds=1)
    assert recovery.chunks_to_requeue(now=later) == []
    # then: recorded for the supervisor; the build finishes with the other chunks
    problem = Problem.objects.get()
    assert (problem.stage, problem.dealership_id) == (Problem.Stage.BUILD, moscow.id)
    counts = queues.finish_build(build=build, now=later)
    assert counts.calls == 2
    assert QueueBuild.objects.get(pk=build.pk).finished_at is not None


def test_the_re_plan_sweep_and_the_builds_keep_separate_chunk_records(moscow, settings):
    # a build chunk and a sweep chunk may start at the same id on the same day; the health page's
    # sweep figures count only the sweep's
    from contacts.operations import last_sweep

    replan(vehicle_ids=_customers_due(moscow, 1, DAY), now=NOW)
    build, fresh = queues.start_build(dealership=moscow, day=DAY, now=NOW)
    first_id = SweepChunk.objects.get(pk=fresh[0]).first_id
    assert recovery.record_sweep(night=DAY, bounds=[(first_id, first_id + 10)], now=NOW) == [(first_id, first_id + 10)]
    assert recovery.record_sweep(night=DAY, bounds=[(first_id, first_id + 10)], now=NOW) == []
    progress = last_sweep()
    assert progress is not None and progress.chunks == 1


# ------------------------------------------------------------------------------------ over time


def _night(day: dt.date) -> None:
    with time_machine.travel(dt.datetime.combine(day, dt.time(0, 30), tzinfo=dt.UTC), tick=False):
        tasks.replan_all_vehicles()


def _assert_invariants(dealership: Dealership, day: dt.date, capacity: int) -> None:
    build = QueueBuild.objects.get(dealership=dealership, day=day)
    assert build.finished_at is not None, f"no finished build on {day}"
    # no touchpoint on two calls, nobody called twice a day, capacity kept, no chunk left unfinished
    assert CallTaskItem.objects.count() == CallTaskItem.objects.values("touchpoint_id").distinct().count()
    today = CallTask.objects.filter(dealership=dealership, scheduled_on=day)
    assert today.count() == today.values("customer_id").distinct().count()
    assert today.count() <= capacity
    assert not SweepChunk.objects.filter(build=build, finished_at__isnull=True).exists()
    assert all(p == {} for p in SweepChunk.objects.filter(build=build).values_list("payload", flat=True))
    # an issued touchpoint is on a call or a message; a suppressed one says why
    assert not Touchpoint.objects.filter(status=Touchpoint.Status.ISSUED, call_item__isnull=True,
                                         message__isnull=True).exists()
    assert not Touchpoint.objects.filter(status=Touchpoint.Status.SUPPRESSED, resolution="").exists()


def test_builds_fanned_out_over_two_weeks_with_a_chunk_lost_on_one_morning(moscow, settings):
    # given: 22 customers falling due over the coming weeks, eight of them around DAY, chunks of 3
    # households, capacity 3, and nobody working the queue (calls expire, touchpoints come back)
    settings.CLM_BUILD_CHUNK_HOUSEHOLDS = 3
    ContactRules.objects.update_or_create(dealership=moscow, defaults={"calls_per_agent": 3, "default_agents_on_shift": 1})
    start = DAY - dt.timedelta(days=7)
    _customers_due(moscow, 14, start, shared_phone_every=5)
    for _ in range(8):
        _due_on_the_build_day(moscow)
    lost_on = DAY
    issued_days = 0
    for n in range(14):
        day = start + dt.timedelta(days=n)
        _night(day)
        morning = dt.datetime.combine(day, dt.time(4, 5), tzinfo=dt.UTC)  # 07:05 in Moscow
        with time_machine.travel(morning, tick=False):
            if day != lost_on:
                # when: the build sweep queues the build; eager Celery runs its chunks and the capacity pass
                assert tasks.build_due_queues() == 1
            else:
                # when: the build sweep queued it, its first run recorded the chunks, and the broker lost
                # one of the chunk tasks (the others ran)
                [due] = recovery.builds_to_queue(now=timezone.now())
                build, fresh = queues.start_build(dealership=moscow, day=due.day, now=timezone.now())
                assert len(fresh) >= 3
                for chunk_id in fresh[1:]:
                    tasks.resolve_build_chunk(chunk_id)
                assert QueueBuild.objects.get(pk=build.pk).finished_at is None
                assert list(SweepChunk.objects.filter(build=build, finished_at__isnull=True).values_list("id", flat=True)) == [fresh[0]]
        if day == lost_on:
            # then: a task's time limit later the recovery sweep queues the lost chunk again, which, the
            # last of its build, issues the day's calls
            with time_machine.travel(morning + recovery.requeue_after() + dt.timedelta(seconds=5), tick=False):
                assert tasks.requeue_lost_work() == 1
                assert tasks.requeue_lost_work() == 0
            assert SweepChunk.objects.get(pk=fresh[0]).attempts == 2
        # then, every day
        _assert_invariants(moscow, day, capacity=3)
        if CallTask.objects.filter(scheduled_on=day).exists():
            issued_days += 1
    assert issued_days >= 3, "the scenario must issue calls on several days, or it tests little"
    lost_day = QueueBuild.objects.get(dealership=moscow, day=lost_on)
    assert lost_day.counts["customers"] >= 8 and lost_day.chunks.count() >= 3
    assert CallTask.objects.filter(outcome="expired").exists(), "the scenario must make calls expire"
