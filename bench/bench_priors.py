"""The mileage priors' cost: time and peak memory of computing them over the whole fleet (issue 17 point 4,
issue 14 point 6).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_bench REDIS_URL=redis://127.0.0.1:6379/12 \
        nice .venv/bin/python bench/bench_priors.py --way database
    ... --way streamed    # the SQLite way (each vehicle's days in order, its rate in Python), on the same data
    ... --way forecasts   # the way until 2026-12-02: the medians of the stored forecasts (``replan --all`` first)

Each way runs in its own process (``--way``) so that its peak RSS (ru_maxrss) is its own; the figure
printed is the peak over the process's RSS after Django's start. The priors are learned from the
facts (``seed_demo`` is enough); ``forecasts`` needs the forecasts stored. Prints one JSON object.
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
from django.utils import timezone  # noqa: E402

from customers import forecasting  # noqa: E402
from customers.core import priors as priors_core  # noqa: E402
from customers.models import OdometerReading, ServiceVisit, Vehicle, VehicleForecast  # noqa: E402


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# The priors' query until 2026-12-02 (the medians of the forecasts resting on readings), for comparison.
FORECASTS_SQL = """
    SELECT v.dealership_id::text || '|' || v.make || '|' || v.model, count(*),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY f.km_per_month)
      FROM customers_vehicleforecast f JOIN customers_vehicle v ON v.id = f.vehicle_id
     WHERE f.source = 'readings' GROUP BY v.dealership_id, v.make, v.model
    UNION ALL
    SELECT v.dealership_id::text, count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY f.km_per_month)
      FROM customers_vehicleforecast f JOIN customers_vehicle v ON v.id = f.vehicle_id
     WHERE f.source = 'readings' GROUP BY v.dealership_id
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--way", choices=("database", "streamed", "forecasts", "shipped"), default="shipped")
    args = parser.parse_args()
    counts = {
        "vehicles": Vehicle.objects.count(), "readings": OdometerReading.objects.count(),
        "visits": ServiceVisit.objects.count(), "forecasts_observed": VehicleForecast.objects.filter(source="readings").count(),
    }
    connection.ensure_connection()
    today = timezone.localdate()
    baseline = rss_kb()
    started = time.perf_counter()
    if args.way == "shipped":
        priors = forecasting.mileage_priors(refresh=True)
    elif args.way == "database":
        priors = forecasting._priors_in_database(today)
    elif args.way == "streamed":
        priors = forecasting._priors_streamed(today)
    else:
        with connection.cursor() as cursor:
            cursor.execute(FORECASTS_SQL)
            priors = priors_core.priors_from_medians((key, cars, float(median)) for key, cars, median in cursor.fetchall())
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "way": args.way,
        "vendor": connection.vendor,
        **counts,
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
