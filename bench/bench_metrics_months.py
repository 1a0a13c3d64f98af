"""Would the nightly metrics snapshot gain from one task per scope and month? (issue 17, point 4)

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_bench nice .venv/bin/python bench/bench_metrics_months.py

For the first dealership (by name) and the group: the default view (last 24 months) computed at once
(``contacts.dashboard.compute_figures``, one task per scope, as the nightly job does), then its series
month by month, each calendar month on its own (``monthly_series`` of a one-month scope, what one task
per month would compute), and the figures of the whole period that are not sums of months
(``all_figures`` given the series: what the joining task would add). In this process, one after the
other: the sum of the months is the work, the longest month plus the period's figures the wall time
with enough workers. Prints one JSON object.
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

from django.utils import timezone  # noqa: E402

from contacts import metrics  # noqa: E402
from contacts.dashboard import compute_figures  # noqa: E402
from contacts.tasks import SNAPSHOT_PARAMS, metrics_scopes  # noqa: E402
from customers.core.calendar import add_months  # noqa: E402
from customers.models import Dealership  # noqa: E402


def measure(ids: list[int]) -> dict[str, object]:
    first = Dealership.objects.get(pk=ids[0])
    end = first.local_date(timezone.now())
    start = add_months(end, -24) + dt.timedelta(days=1)
    scope = tuple(sorted(ids))
    started = time.perf_counter()
    compute_figures(dealership_ids=scope, start=start, end=end, params=SNAPSHOT_PARAMS, today=end)
    at_once_seconds = time.perf_counter() - started
    months = []
    for month in metrics.month_buckets(start, end):
        started = time.perf_counter()
        metrics.monthly_series(metrics.Scope(scope, month.start, month.end, as_of=end), **SNAPSHOT_PARAMS)
        months.append(time.perf_counter() - started)
    series = metrics.monthly_series(metrics.Scope(scope, start, end, as_of=end), **SNAPSHOT_PARAMS)
    started = time.perf_counter()
    metrics.all_figures(metrics.Scope(scope, start, end, as_of=end), **SNAPSHOT_PARAMS, series=series)
    period_seconds = time.perf_counter() - started
    return {
        "dealerships": len(ids), "at_once_seconds": round(at_once_seconds, 2), "months": len(months),
        "month_seconds_sum": round(sum(months), 2), "month_seconds_max": round(max(months), 2),
        "period_figures_seconds": round(period_seconds, 2),
        "wall_with_enough_workers_seconds": round(max(months) + period_seconds, 2),
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
