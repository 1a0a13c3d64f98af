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
from django.db import connection
from django.utils import timezone

from contacts import tasks
from contacts.models import BeatTick, CallTask, QueueBuild, Touchpoint
from tests import factories
from tests.conftest import set_eager

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and PostgreSQL (CI)")
    db = connection.settings_dict
    env = dict(
        os.environ,
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        CELERY_TASK_ALWAYS_EAGER="false",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "clm", "worker", "--pool=solo", "--loglevel=WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    set_eager(False)
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


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
