"""Manager dashboard benchmark: the page served from its snapshot (warm) and without one (cold), and
the nightly metrics job that fills the snapshots.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_bench_100k .venv/bin/python bench/bench_dashboard.py

Needs a seeded database (``manage.py seed_demo --vehicles 100000 --seed 1 --today 2026-12-01`` and
``manage.py replan --all``). ``seed_demo`` writes no call history, so ``--calls N`` (default 200,000)
first adds N finished calls by ten bench agents over the two years before today, once (a rerun finds
them and adds nothing), so that the call figures have real volume.

Then, in this process: the nightly job ``contacts.tasks.compute_metrics_snapshot`` for every dealership
and the group (one task per scope on the workers, here one after another), the default dashboard page of the "manager" demo user (both dealerships)
``--warm`` times from the snapshot, and ``--cold`` times with the snapshot row deleted first (the
computation a worker does for a view without a snapshot, run in-process by eager Celery), through
Django's test Client (the whole request: middleware, access checks, the snapshot read, rendering).
Prints one JSON object with p50/p95, the job's time, the data sizes, the machine and the peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clm.settings")
os.environ.setdefault("DEBUG", "1")  # the development profile (DEBUG is off by default)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from clm.celery import app as celery_app  # noqa: E402
from contacts import tasks  # noqa: E402
from contacts.dashboard import snapshot_key  # noqa: E402
from contacts.models import CallAttempt, CallTask, MetricSnapshot, Touchpoint  # noqa: E402
from customers.models import Customer, Dealership, Sale, ServiceVisit, Vehicle  # noqa: E402

OUTCOMES = [("reached", 34), ("no_answer", 38), ("booked", 12), ("call_back", 5), ("wrong_number", 4),
            ("serviced_elsewhere", 3), ("hot_lead", 2), ("do_not_call", 1), ("sold_car", 1)]
BATCH = 5_000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def add_call_history(count: int, today: dt.date) -> int:
    """``count`` finished calls by bench agents over the 730 days before today; none if already there."""
    if count <= 0 or CallAttempt.objects.filter(agent__username__startswith="bench_agent").exists():
        return 0
    rng = random.Random(1)
    agent_group = Group.objects.get(name="agent")
    agents = []
    for n in range(1, 11):
        user, _created = User.objects.get_or_create(username=f"bench_agent{n}")
        user.groups.add(agent_group)
        agents.append(user)
    customers = list(Customer.objects.values_list("id", "dealership_id"))
    outcomes, weights = zip(*OUTCOMES, strict=True)
    made = 0
    while made < count:
        size = min(BATCH, count - made)
        picks = [rng.choice(customers) for _ in range(size)]
        days = [today - dt.timedelta(days=rng.randrange(1, 731)) for _ in range(size)]
        with transaction.atomic():
            call_tasks = CallTask.objects.bulk_create([
                CallTask(dealership_id=dealership_id, customer_id=customer_id, scheduled_on=day, window_start=day,
                         window_end=day, blocks_until=day, is_requested=True, status=CallTask.Status.DONE)
                for (customer_id, dealership_id), day in zip(picks, days, strict=True)
            ])
            attempts = []
            for task, day in zip(call_tasks, days, strict=True):
                ended = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC) + dt.timedelta(minutes=rng.randrange(0, 540))
                attempts.append(CallAttempt(call_task=task, customer_id=task.customer_id, agent=rng.choice(agents),
                                            outcome=rng.choices(outcomes, weights)[0],
                                            started_at=ended - dt.timedelta(seconds=rng.randrange(60, 600)), ended_at=ended))
            CallAttempt.objects.bulk_create(attempts)
        made += size
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_calltask")
        cursor.execute("ANALYZE contacts_callattempt")
    return made


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory_gib = None
    try:
        memory_kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                              if line.startswith("MemTotal")))
        memory_gib = round(memory_kib / 1024 / 1024, 1)
    except (OSError, StopIteration):
        pass
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
        database = cursor.fetchone()[0]
    try:
        system = subprocess.run(["uname", "-sr"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        system = platform.platform()
    return {"arch": platform.machine(), "cores": os.cpu_count(), "cpu": cpu, "memory_gib": memory_gib, "system": system,
            "python": platform.python_version(), "database": database.split(",")[0],
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warm", type=int, default=30, help="page requests from the snapshot (default 30)")
    parser.add_argument("--cold", type=int, default=5, help="page requests without a snapshot (default 5)")
    parser.add_argument("--calls", type=int, default=200_000, help="call history to add once (default 200,000)")
    parser.add_argument("--user", default="manager", help="the manager whose page is measured (default: the demo one)")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        parser.error("set DATABASE_URL (the benchmark is meant for PostgreSQL)")
    # Query logging (DEBUG's cursor wrapper) would add its own cost and memory to every query.
    settings.DEBUG = False
    info = machine()
    today = timezone.now().date()
    started = time.perf_counter()
    added = add_call_history(args.calls, today)
    adding_seconds = round(time.perf_counter() - started, 1)

    # The nightly job, as beat runs it (in this process rather than a worker, to time it alone).
    started = time.perf_counter()
    scopes = 0
    for scope in tasks.metrics_scopes():  # one task per scope on the workers; here one after another
        tasks.compute_metrics_snapshot(scope)
        scopes += 1
    job_seconds = time.perf_counter() - started

    user = User.objects.get(username=args.user)
    client = Client()
    client.force_login(user)
    group = tuple(sorted(Dealership.objects.filter(staff=user).values_list("id", flat=True)))
    key = snapshot_key(group, {"repeat_years": 3, "return_months": 15, "active_months": 12})

    def request() -> tuple[float, str]:
        began = time.perf_counter()
        response = client.get("/calls/dashboard/")
        elapsed = time.perf_counter() - began
        assert response.status_code == 200, response.status_code
        return elapsed, response.content.decode()

    request()  # first request: templates compiled, connection opened
    warm = []
    for _ in range(args.warm):
        elapsed, page = request()
        assert "are being computed" not in page, "the default view was not served from the nightly snapshot"
        warm.append(elapsed)
    computed_shown = "computed " in page and "UTC" in page
    page_kib = round(len(page.encode()) / 1024, 1)
    # Without a snapshot the page queues the computation for a worker (contacts.tasks.compute_dashboard_figures);
    # with Celery in-process the request runs it, so "cold" times the worker's whole computation.
    celery_app.conf.update(task_always_eager=True, CELERY_TASK_ALWAYS_EAGER=True)
    cold = []
    for _ in range(args.cold):
        MetricSnapshot.objects.filter(key=key, dealership__isnull=len(group) != 1).delete()
        elapsed, _page = request()
        cold.append(elapsed)

    def summary(values: list[float]) -> dict[str, Any]:
        return {"requests": len(values), "p50_s": round(percentile(values, 0.5), 4), "p95_s": round(percentile(values, 0.95), 4),
                "mean_s": round(statistics.mean(values), 4), "max_s": round(max(values), 4)}

    print(json.dumps({
        "benchmark": "dashboard",
        "date": today.isoformat(),
        "machine": info,
        "data": {
            "dealerships": Dealership.objects.count(), "customers": Customer.objects.count(),
            "vehicles": Vehicle.objects.count(), "sales": Sale.objects.count(), "service_visits": ServiceVisit.objects.count(),
            "call_attempts": CallAttempt.objects.count(), "touchpoints": Touchpoint.objects.count(),
            "call_attempts_added_now": added, "adding_seconds": adding_seconds,
        },
        "nightly_job": {"task": "contacts.tasks.compute_metrics_snapshots", "scopes": scopes,
                        "seconds": round(job_seconds, 2), "seconds_per_scope": round(job_seconds / max(1, scopes), 2)},
        "page_warm_from_snapshot": summary(warm),
        "page_cold_no_snapshot": summary(cold),
        "page_kib": page_kib,
        "page_says_when_computed": computed_shown,
        "goal_warm_p95_under_1_s": percentile(warm, 0.95) < 1.0,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }, indent=2))


if __name__ == "__main__":
    main()
