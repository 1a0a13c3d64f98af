"""The mileage priors' cost: time and peak memory of computing them over the whole fleet (issue 17, point 4).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_bench REDIS_URL=redis://127.0.0.1:6379/12 \
        nice .venv/bin/python bench/bench_priors.py --way database
    ... --way streamed   # the SQLite way (counts, then rates in order: the middle ones kept), on the same data
    ... --way python     # the SQLite way before (every rate held in lists, medians in Python)

Each way runs in its own process (``--way``) so that its peak RSS (ru_maxrss) is its own; the figure
printed is the peak over the process's RSS after Django's start. On a database whose forecasts were
computed (``manage.py replan --all`` after ``seed_demo``). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clm.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from customers import forecasting  # noqa: E402
from customers.core import priors as priors_core  # noqa: E402
from customers.models import VehicleForecast  # noqa: E402


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--way", choices=("database", "python", "streamed", "shipped"), default="shipped")
    args = parser.parse_args()
    observed = VehicleForecast.objects.filter(source="readings").count()
    connection.ensure_connection()
    baseline = rss_kb()
    started = time.perf_counter()
    if args.way == "shipped":
        priors = forecasting.mileage_priors(refresh=True)
    elif args.way == "database":
        priors = forecasting._priors_in_database()
    elif args.way == "streamed":  # the SQLite way now: counts, then each group's rates in order
        priors = forecasting._priors_streamed()
    else:
        priors = priors_core.median_priors(
            VehicleForecast.objects.filter(source="readings").values_list(
                "vehicle__dealership_id", "vehicle__make", "vehicle__model", "km_per_month"
            ).iterator(chunk_size=20_000)
        )
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "way": args.way,
        "vendor": connection.vendor,
        "forecasts_observed": observed,
        "priors": len(priors),
        "seconds": round(elapsed, 2),
        "rss_mb_before": round(baseline / 1024, 1),
        "peak_rss_mb": round(peak / 1024, 1),
        "peak_over_before_mb": round((peak - baseline) / 1024, 1),
        "load_average": os.getloadavg(),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}",
    }, indent=2))


if __name__ == "__main__":
    main()
