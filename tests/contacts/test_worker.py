"""End to end through a real Celery worker on Redis and PostgreSQL (CI)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from contacts import tasks
from contacts.models import BeatTick, CallTask, QueueBuild, Touchpoint
from tests import factories
from tests.conftest import set_eager

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _start_worker(**extra_env: str) -> subprocess.Popen:
    db = connection.settings_dict
    env = dict(
        os.environ,
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        CELERY_TASK_ALWAYS_EAGER="false",
        **extra_env,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "clm", "worker", "--pool=solo", "-Q", "celery,sweeps", "--loglevel=WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def worker():
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and PostgreSQL (CI)")
    process = _start_worker()
    set_eager(False)
    yield process
    _stop(process)


def _wait_for(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


def _next_working_monday(after: dt.date) -> dt.date:
    """The first Monday after ``after`` that is not a Russian public holiday."""
    from contacts.queues import holiday_dates

    day = after + dt.timedelta(days=1)
    while day.weekday() != 0 or day in holiday_dates("RU", "", day.year):
        day += dt.timedelta(days=1)
    return day


def test_worker_replans_and_builds_the_daily_queue(worker, moscow):
    # given: a customer whose first maintenance falls due four weeks after the build day. The worker
    # re-plans with the real clock, so the dates are relative to today (the build day is in the week ahead).
    build_day = _next_working_monday(moscow.local_date(timezone.now()))
    owner = factories.CustomerFactory(dealership=moscow)
    sold_on = build_day - dt.timedelta(days=338)
    sale = factories.SaleFactory(vehicle__owner=owner, sold_on=sold_on)
    factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=sold_on, odometer_km=0, source="sale")
    factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=build_day - dt.timedelta(days=53), odometer_km=12300)
    # when: the worker re-plans the vehicle, then builds that Monday's queue, then beats
    tasks.replan_vehicles.delay([sale.vehicle.id])
    assert _wait_for(lambda: Touchpoint.objects.filter(vehicle=sale.vehicle).exists()), "the worker did not re-plan"
    tasks.build_queue.delay(moscow.id, build_day.isoformat())
    assert _wait_for(lambda: QueueBuild.objects.filter(dealership=moscow, finished_at__isnull=False).exists())
    tasks.record_beat_tick.delay()
    assert _wait_for(lambda: BeatTick.objects.filter(name="beat").exists())
    # then
    task = CallTask.objects.get(customer=owner)
    assert task.scheduled_on == build_day
    assert task.agenda[0]["code"] == "service_invite"


def test_worker_imports_ten_thousand_rows_with_progress(worker, moscow):
    # given
    from customers import tasks as customer_tasks
    from customers.models import Customer, ImportBatch

    lines = ["Код клиента;Фамилия;Имя"] + [f"W{n};Фамилия{n};Имя" for n in range(10_000)]
    batch = ImportBatch.objects.create(kind="customers", dealership=moscow, file_name="big.csv",
                                       file_content="\n".join(lines).encode("cp1251"), is_dry_run=False)
    # when
    customer_tasks.run_import.delay(batch.pk)
    seen_progress: set[int] = set()

    def finished() -> bool:
        batch.refresh_from_db()
        seen_progress.add(batch.processed_rows)
        return batch.status == "done"

    assert _wait_for(finished, seconds=120), f"import did not finish: {batch.status} {batch.error}"
    # then
    assert (batch.total_rows, batch.processed_rows, batch.created_count) == (10_000, 10_000, 10_000)
    assert Customer.objects.filter(external_id__startswith="W").count() == 10_000


def _due_customer(dealership, build_day: dt.date):
    owner = factories.CustomerFactory(dealership=dealership)
    sold_on = build_day - dt.timedelta(days=338)
    sale = factories.SaleFactory(vehicle__owner=owner, sold_on=sold_on)
    factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=sold_on, odometer_km=0, source="sale")
    factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=build_day - dt.timedelta(days=53), odometer_km=12300)
    return owner, sale.vehicle


def test_a_build_killed_with_its_worker_is_redone_by_the_build_sweep(worker, moscow):
    # given: a re-planned customer, and the worker's build of the day held mid-way (the test holds the
    # day's QueueBuild row, which the build locks before it writes its calls)
    import signal

    import time_machine

    from contacts import recovery

    build_day = _next_working_monday(moscow.local_date(timezone.now()))
    owner, vehicle = _due_customer(moscow, build_day)
    tasks.replan_vehicles.delay([vehicle.id])
    assert _wait_for(lambda: Touchpoint.objects.filter(vehicle=vehicle).exists()), "the worker did not re-plan"
    # queued by the build sweep at 07:30 that Monday morning in Moscow
    morning = dt.datetime.combine(build_day, dt.time(4, 30), tzinfo=dt.UTC)
    build = QueueBuild.objects.create(dealership=moscow, day=build_day, queued_at=morning, attempts=1)
    with transaction.atomic():
        QueueBuild.objects.select_for_update().get(pk=build.pk)
        tasks.build_queue.delay(moscow.id, build_day.isoformat())
        assert _wait_for(_a_query_waits_for_a_lock), "the worker's build never reached the lock"
        # when: the worker is killed mid-build
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    assert QueueBuild.objects.get(pk=build.pk).finished_at is None
    assert not CallTask.objects.filter(customer=owner).exists()
    replacement = _start_worker()
    try:
        # the build sweep, a task time limit later, finds the build unfinished and queues it again
        with time_machine.travel(morning + recovery.requeue_after() + dt.timedelta(seconds=1), tick=True):
            requeued = recovery.builds_to_queue(now=timezone.now())
        for due in requeued:
            tasks.build_queue.delay(due.dealership_id, due.day.isoformat())
        # then
        assert [(due.dealership_id, due.day) for due in requeued] == [(moscow.id, build_day)]
        assert _wait_for(lambda: QueueBuild.objects.get(pk=build.pk).finished_at is not None), "the build was not redone"
        assert CallTask.objects.filter(customer=owner, scheduled_on=build_day).count() == 1
        assert QueueBuild.objects.get(pk=build.pk).attempts == 2
    finally:
        _stop(replacement)


def _a_query_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


def test_two_workers_resolve_a_build_s_chunks_and_a_lost_chunk_is_redone(worker, moscow, settings):
    # given: three re-planned customers due on a Monday, a second worker, builds in chunks of one
    # household (the workers and this process alike)
    from contacts import queues, recovery
    from contacts.models import SweepChunk

    _stop(worker)
    settings.CLM_BUILD_CHUNK_HOUSEHOLDS = 1
    workers = [_start_worker(CLM_BUILD_CHUNK_HOUSEHOLDS="1") for _ in range(2)]
    try:
        build_day = _next_working_monday(moscow.local_date(timezone.now()))
        owners = []
        for _ in range(3):
            owner, vehicle = _due_customer(moscow, build_day)
            owners.append(owner)
            tasks.replan_vehicles.delay([vehicle.id])
        assert _wait_for(lambda: Touchpoint.objects.filter(customer__in=owners).values("customer").distinct().count() == 3)
        # and: the build's first run recorded its chunks, and the broker lost the first chunk's task
        # (the other two were queued to the workers)
        build, fresh = queues.start_build(dealership=moscow, day=build_day, now=timezone.now())
        assert len(fresh) == 3
        for chunk_id in fresh[1:]:
            tasks.resolve_build_chunk.delay(chunk_id)
        assert _wait_for(lambda: SweepChunk.objects.filter(build=build, finished_at__isnull=False).count() == 2)
        assert QueueBuild.objects.get(pk=build.pk).finished_at is None
        # when: the recovery sweep runs a task's time limit later
        later = timezone.now() + recovery.requeue_after() + dt.timedelta(seconds=1)
        import time_machine

        with time_machine.travel(later, tick=True):
            assert tasks.requeue_lost_work() == 1
        # then: a worker resolves the lost chunk; as the build's last, it queues the capacity pass
        assert _wait_for(lambda: QueueBuild.objects.get(pk=build.pk).finished_at is not None), "the build never finished"
        assert sorted(CallTask.objects.filter(scheduled_on=build_day).values_list("customer_id", flat=True)) == sorted(
            o.id for o in owners
        )
        assert SweepChunk.objects.get(pk=fresh[0]).attempts == 2
    finally:
        for process in workers:
            _stop(process)
