"""The morning queue build fanned out over real Celery workers (issue 17, point 4).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_scale_100k REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/bench_build_fanout.py --date 2026-12-01 --workers 1 2

Needs planned touchpoints (``seed_demo`` then ``manage.py replan --all``). For each worker count:
removes the day's build (its tasks, messages, marks and verdicts) so that every run starts from the
same state, starts that many workers (solo pool, queues ``celery,sweeps``), queues
``contacts.tasks.build_queue`` for every dealership as the build sweep does, and waits until every
dealership's day is finished. Reports the wall time, each chunk task's and each capacity pass's time
(from the workers' own log lines), and every worker's peak RSS (VmHWM of the solo worker process).

The reference, measured in this process on the same households before the builds: the pure resolver
alone (``resolve_household``, contacts.core.pressure, with the inputs loaded beforehand and not
timed), i.e. what the build would cost if reading and writing were free; and the same build run
serially in this one process (``contacts.queues.build_queue``, as it ran before the fan-out). Prints
one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clm.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from contacts import tasks  # noqa: E402
from contacts.core import pressure  # noqa: E402
from contacts.models import CallTask, ContactRules, OutboxMessage, QueueBuild, Touchpoint, TouchpointTemplate  # noqa: E402
from contacts.queues import build_queue  # noqa: E402
from contacts.queues.calendar import resolver_rules  # noqa: E402
from contacts.queues.households import (  # noqa: E402
    LOOKAHEAD_DAYS,
    contact_history,
    customer_facts,
    households_with_open_touchpoints,
)
from contacts.queues.resolving import _TP_COLUMNS, resolve_household  # noqa: E402
from customers.models import Customer, Dealership  # noqa: E402

SUCCEEDED = re.compile(r"Task (contacts\.tasks\.\w+)\[[^\]]+\] succeeded in ([0-9.]+)s")


def reset(day: dt.date) -> None:
    """The state before the day's first build."""
    CallTask.objects.filter(scheduled_on=day).delete()
    OutboxMessage.objects.filter(send_on=day).delete()
    QueueBuild.objects.filter(day=day).delete()
    Touchpoint.objects.filter(status__in=["issued", "suppressed"]).update(status="planned", resolution="")
    Touchpoint.objects.exclude(resolution="").update(resolution="")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_touchpoint")


def pure_resolver(day: dt.date, chunk: int) -> dict[str, float]:
    """The resolver alone over the households the build resolves, inputs loaded outside the timing."""
    templates = {t.id: t for t in TouchpointTemplate.objects.select_related("department")}
    seconds = 0.0
    households = 0
    for dealership in Dealership.objects.order_by("code"):
        rules = ContactRules.for_dealership(dealership)
        resolver = resolver_rules(rules=rules, dealership=dealership, first=day, last=day)
        groups = households_with_open_touchpoints(dealership=dealership, day=day)
        for start in range(0, len(groups), chunk):
            part = groups[start : start + chunk]
            ids = [cid for g in part for cid in g.members]
            facts = customer_facts(ids)
            by_customer: dict[int, list[tuple]] = {}
            for row in Touchpoint.objects.filter(
                customer_id__in=ids, status="planned", window_start__lte=day + dt.timedelta(days=LOOKAHEAD_DAYS)
            ).values_list(*_TP_COLUMNS):
                by_customer.setdefault(row[1], []).append(row)
            calls, messages = contact_history(ids + [r for g in part for r in g.relatives], day=day)
            began = time.process_time()
            for group in part:
                rows = [tp for cid in group.members for tp in by_customer.get(cid, [])]
                if not rows:
                    continue
                everyone = group.members + group.relatives
                resolve_household(
                    members={cid: facts[cid] for cid in group.members if cid in facts}, touchpoints=rows,
                    templates=templates, resolver=resolver, day=day, verdicts={},
                    history=pressure.History(
                        calls=tuple(c for cid in everyone for c in calls.get(cid, [])),
                        message_dates=tuple(d for cid in everyone for d in messages.get(cid, [])),
                    ),
                )
                households += 1
            seconds += time.process_time() - began
    return {"households": households, "cpu_seconds": round(seconds, 2),
            "households_per_cpu_second": round(households / seconds) if seconds else 0}


def start_workers(count: int, chunk: int, log_dir: Path) -> list[tuple[subprocess.Popen, Path]]:
    env = dict(os.environ, CELERY_TASK_ALWAYS_EAGER="false", CLM_BUILD_CHUNK_HOUSEHOLDS=str(chunk))
    workers = []
    for n in range(count):
        log = log_dir / f"worker{n}.log"
        workers.append((subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "clm", "worker", "--pool=solo", "-Q", "celery,sweeps",
             "-n", f"fanout{n}@%h", "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        ), log))
    time.sleep(8)  # connected and waiting
    return workers


def peak_rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return 0


def run(day: dt.date, workers: int, chunk: int, log_dir: Path) -> dict[str, object]:
    reset(day)
    processes = start_workers(workers, chunk, log_dir)
    try:
        began = time.monotonic()
        dealerships = list(Dealership.objects.values_list("id", flat=True))
        for dealership_id in dealerships:
            tasks.build_queue.delay(dealership_id, day.isoformat())
        while QueueBuild.objects.filter(day=day, finished_at__isnull=False).count() < len(dealerships):
            time.sleep(0.2)
        wall = time.monotonic() - began
        time.sleep(1)
        peaks = [peak_rss_mb(p.pid) for p, _log in processes]
    finally:
        for process, _log in processes:
            process.terminate()
        for process, _log in processes:
            process.wait(timeout=30)
    times: dict[str, list[float]] = {}
    for _process, log in processes:
        for name, seconds in SUCCEEDED.findall(log.read_text()):
            times.setdefault(name.rsplit(".", 1)[1], []).append(float(seconds))
    chunks = times.get("resolve_build_chunk", [])
    builds = times.get("build_queue", [])
    counts = {b.dealership.code: b.counts for b in QueueBuild.objects.filter(day=day).select_related("dealership")}
    return {
        "workers": workers,
        "wall_seconds": round(wall, 1),
        "chunks": len(chunks),
        "chunk_seconds": {"median": round(statistics.median(chunks), 2), "max": round(max(chunks), 2),
                          "sum": round(sum(chunks), 1)} if chunks else {},
        # Each dealership's build task runs twice: recording the chunks, then the capacity pass.
        "build_task_seconds": sorted(round(s, 2) for s in builds),
        "peak_rss_mb_per_worker": peaks,
        "counts": counts,
    }


def serial(day: dt.date) -> dict[str, object]:
    """The same build in this one process, dealership after dealership, chunk after chunk (as the build
    ran before it fanned out)."""
    reset(day)
    began = time.monotonic()
    for dealership in Dealership.objects.order_by("code"):
        build_queue(dealership=dealership, day=day)
    return {"wall_seconds": round(time.monotonic() - began, 1),
            "peak_rss_mb_this_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--date", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--chunk", type=int, default=settings.CLM_BUILD_CHUNK_HOUSEHOLDS, help="households per chunk")
    args = parser.parse_args()
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        sys.exit("needs REDIS_URL and a PostgreSQL DATABASE_URL")
    log_dir = Path(os.environ.get("TMPDIR", "/tmp")) / "bench_build_fanout"
    log_dir.mkdir(exist_ok=True)
    reset(args.date)
    reference = pure_resolver(args.date, args.chunk)
    print(f"reference: {reference}", file=sys.stderr, flush=True)
    one_process = serial(args.date)
    print(f"serial in one process: {one_process}", file=sys.stderr, flush=True)
    runs = []
    for workers in args.workers:
        runs.append(run(args.date, workers, args.chunk, log_dir))
        print(f"{workers} workers: {runs[-1]['wall_seconds']} s", file=sys.stderr, flush=True)
    with open("/proc/loadavg") as handle:
        load = handle.read().split()[:3]
    print(json.dumps({
        "day": args.date.isoformat(),
        "customers": Customer.objects.count(),
        "households_per_chunk": args.chunk,
        "reference_pure_resolver": reference,
        "serial_in_one_process": one_process,
        "runs": runs,
        "load_average_after": load,
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
    }, indent=2))


if __name__ == "__main__":
    main()
