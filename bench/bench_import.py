"""Import throughput: 100,000 rows of each kind through customers.importing, and the API's bulk upsert.

    createdb -h 127.0.0.1 -U postgres clm_bench_import
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_bench_import .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_bench_import .venv/bin/python bench/bench_import.py --rows 100000

Each kind is imported as a file (cp1251 CSV with Russian headers for customers, UTF-8 for the rest)
into an emptied database, then the same file again (the idempotent rerun). The API part posts batches
of 1,000 customers through Django's full request stack (test client: middleware, token auth, DRF).
Prints one JSON object: rows/s, wall seconds, peak RSS, machine.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clm.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from clm.celery import app  # noqa: E402
from customers.importing import import_file  # noqa: E402
from customers.models import Customer, Dealership, OdometerReading, Sale, ServiceVisit, Vehicle  # noqa: E402

VIN = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def vin(n: int) -> str:
    chars = []
    for _ in range(17):
        n, r = divmod(n, len(VIN))
        chars.append(VIN[r])
    return "".join(reversed(chars))


def files(rows: int) -> dict[str, tuple[bytes, str]]:
    customers = ["Код клиента;Фамилия;Имя;Телефон;Дата рождения"] + [
        f"C{n};Иванов{n};Пётр;+7 916 {n % 1000:03d}-{n // 1000 % 100:02d}-{n % 100:02d};20.06.1985" for n in range(rows)
    ]
    vehicles = ["vin;make;model;year;plate;owner_external_id"] + [f"{vin(n)};Kia;Rio;2023;А{n % 1000:03d}ВС 77;C{n}" for n in range(rows)]
    sales = ["external_id;vin;customer_external_id;sold_on;kind;odometer_km"] + [
        f"S{n};{vin(n)};C{n};15.01.2024;new;0" for n in range(rows)]
    visits = ["external_id;vin;visited_on;odometer_km;kind"] + [f"V{n};{vin(n)};2024-11-15;15 000;ТО" for n in range(rows)]
    readings = ["vin;read_on;odometer_km"] + [f"{vin(n)};2025-06-01;{22000 + n % 5000}" for n in range(rows)]
    return {
        "customers": ("\n".join(customers).encode("cp1251"), "customers.csv"),
        "vehicles": ("\n".join(vehicles).encode(), "vehicles.csv"),
        "sales": ("\n".join(sales).encode(), "sales.csv"),
        "visits": ("\n".join(visits).encode(), "visits.csv"),
        "readings": ("\n".join(readings).encode(), "readings.csv"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, task_always_eager=False, broker_url="memory://")
    for model in (OdometerReading, ServiceVisit, Sale, Vehicle, Customer):
        model.objects.all().delete()
    dealership, _created = Dealership.objects.get_or_create(code="bench", defaults={"name": "Bench"})
    results = {}
    for kind, (content, name) in files(args.rows).items():
        started = time.monotonic()
        report = import_file(kind=kind, content=content, file_name=name, dealership=dealership, dry_run=False)
        first = time.monotonic() - started
        started = time.monotonic()
        again = import_file(kind=kind, content=content, file_name=name, dealership=dealership, dry_run=False)
        second = time.monotonic() - started
        results[kind] = {
            "rows": report.total, "created": report.created, "refused": len(report.refused),
            "seconds": round(first, 1), "rows_per_second": round(report.total / first),
            "rerun_seconds": round(second, 1), "rerun_unchanged": again.unchanged,
        }
        print(kind, results[kind], file=sys.stderr, flush=True)
    user, _ = User.objects.get_or_create(username="bench-api")
    user.groups.add(Group.objects.get(name="manager"))
    dealership.staff.add(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    api_rows = min(args.rows, 20_000)
    latencies = []
    started = time.monotonic()
    for start in range(0, api_rows, 1000):
        rows = [{"external_id": f"API{n}", "last_name": f"Петров{n}", "first_name": "Олег", "phone": "+79161234567"}
                for n in range(start, start + 1000)]
        t = time.monotonic()
        response = client.post("/api/customers/", {"dealership": "bench", "rows": rows}, format="json")
        latencies.append(time.monotonic() - t)
        assert response.status_code == 200, response.content[:300]
    api_seconds = time.monotonic() - started
    latencies.sort()
    results["api_bulk_customers"] = {
        "rows": api_rows, "seconds": round(api_seconds, 1), "rows_per_second": round(api_rows / api_seconds),
        "request_p50_ms": round(latencies[len(latencies) // 2] * 1000), "request_p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000),
    }
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    results["machine"] = f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
