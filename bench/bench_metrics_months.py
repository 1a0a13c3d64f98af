"""The nightly metrics snapshot of one scope, month by month against at once (issue 17, point 4).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_bench nice .venv/bin/python bench/bench_metrics_months.py

For the first dealership (by name) and the group: the default view (last 24 months) computed at once
(``contacts.dashboard.compute_figures``, as one task per scope did), then as the nightly job now does it,
one ``month_figures`` per calendar month (each a task on any worker) and the ``joined_figures`` that puts
them together; checks both give the same value. In this process, one after the other: the sum of the
month pieces is the work, the longest piece plus the join is the wall time with enough workers.
Prints one JSON object.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clm.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.core.serializers.json import DjangoJSONEncoder  # noqa: E402
from django.utils import timezone  # noqa: E402

from contacts import metrics  # noqa: E402
from contacts.dashboard import compute_figures, joined_figures, month_figures  # noqa: E402
from contacts.tasks import SNAPSHOT_PARAMS, metrics_scopes  # noqa: E402
from customers.core.calendar import add_months  # noqa: E402
from customers.models import Dealership  # noqa: E402


def measure(ids: list[int]) -> dict[str, object]:
    first = Dealership.objects.get(pk=ids[0])
    end = first.local_date(timezone.now())
    start = add_months(end, -24) + dt.timedelta(days=1)
    scope = tuple(sorted(ids))
    started = time.perf_counter()
    at_once = compute_figures(dealership_ids=scope, start=start, end=end, params=SNAPSHOT_PARAMS, today=end)
    at_once_seconds = time.perf_counter() - started
    months = []
    for month in metrics.month_buckets(start, end):
        started = time.perf_counter()
        month_figures(dealership_ids=scope, start=month.start, end=month.end, params=SNAPSHOT_PARAMS, today=end)
        months.append(time.perf_counter() - started)
    started = time.perf_counter()
    joined = joined_figures(dealership_ids=scope, start=start, end=end, params=SNAPSHOT_PARAMS, today=end)
    join_seconds = time.perf_counter() - started
    same = joined.value == json.loads(json.dumps(at_once, cls=DjangoJSONEncoder))
    return {
        "dealerships": len(ids), "at_once_seconds": round(at_once_seconds, 2), "months": len(months),
        "month_seconds_sum": round(sum(months), 2), "month_seconds_max": round(max(months), 2),
        "join_seconds": round(join_seconds, 2),
        "wall_with_enough_workers_seconds": round(max(months) + join_seconds, 2), "same_value": same,
    }


def main() -> None:
    scopes = metrics_scopes()
    chosen = [scopes[0]] + ([scopes[-1]] if len(scopes) > 1 else [])
    print(json.dumps({
        "scopes": [measure(ids) for ids in chosen],
        "load_average": os.getloadavg(),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}",
    }, indent=2))


if __name__ == "__main__":
    main()
