"""Daily queue build benchmark: every dealership's queue for one day, as the build task runs it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_bench_100k .venv/bin/python bench/bench_queue_build.py --date 2026-11-23

Needs planned touchpoints (run bench_replan.py or ``manage.py replan --all`` first). Removes the day's
previous build (its tasks, messages and marks) so each run starts from the same state, then builds
each dealership in this process and prints one JSON object: wall time per dealership and in all,
customers resolved per second, tasks and messages written, peak RSS, and the audit of the result.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clm.settings")
os.environ.setdefault("DEBUG", "1")  # the development profile (DEBUG is off by default)

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from contacts.audit import audit_stored_contacts  # noqa: E402
from contacts.models import CallTask, OutboxMessage, QueueBuild, Touchpoint  # noqa: E402
from contacts.queues import build_queue  # noqa: E402
from customers.models import Dealership, Vehicle  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--date", type=dt.date.fromisoformat, required=True)
    args = parser.parse_args()
    CallTask.objects.filter(scheduled_on=args.date).delete()
    OutboxMessage.objects.filter(send_on=args.date).delete()
    QueueBuild.objects.filter(day=args.date).delete()
    Touchpoint.objects.filter(status__in=["issued", "suppressed"]).update(status="planned", resolution="")
    Touchpoint.objects.exclude(resolution="").update(resolution="")
    results = {}
    started_all = time.monotonic()
    customers = 0
    for dealership in Dealership.objects.order_by("code"):
        started = time.monotonic()
        counts = build_queue(dealership=dealership, day=args.date, now=timezone.now())
        results[dealership.code] = {**counts.as_dict(), "seconds": round(time.monotonic() - started, 1)}
        customers += counts.customers
    wall = time.monotonic() - started_all
    audit_started = time.monotonic()
    audit = audit_stored_contacts()
    print(json.dumps({
        "vehicles": Vehicle.objects.count(),
        "day": args.date.isoformat(),
        "wall_seconds": round(wall, 1),
        "customers_resolved_per_second": round(customers / wall),
        "dealerships": results,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "audit": audit,
        "audit_seconds": round(time.monotonic() - audit_started, 1),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
    }, indent=2))


if __name__ == "__main__":
    main()
