"""Import throughput: N rows of each kind through customers.importing, and the API's bulk upsert.

    createdb -h 127.0.0.1 -U postgres clm_bench_import
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_bench_import .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_bench_import .venv/bin/python bench/bench_import.py --rows 100000

It empties the facts of the database it runs on, so it refuses a database whose name lacks "bench".
Per kind, in the order a dealer imports them, the same file is run four times: the dry run (the
preview), the import (every row created), the same file again (every row unchanged: nothing is
written), and a file with every tenth row changed (updates). Customers come as a Windows-1251 CSV with
Russian headers and national phone formats, the rest as UTF-8 CSV; a customers XLSX is read too.
The API part posts batches of 1,000 customers through Django's whole request stack (test client:
middleware, token authentication, DRF, the import workflow). Re-plan tasks go to an in-memory broker:
queued, not run (bench_replan.py measures the planner). Prints one JSON object: rows/s, wall seconds,
the process's RSS before each run and its peak during it (Linux: VmHWM, reset before each run; the
files are built by a child process, so the measuring process holds only Django and the file read),
the machine.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clm.settings")
os.environ.setdefault("DEBUG", "1")  # the development profile (DEBUG is off by default)

import django  # noqa: E402

django.setup()

import openpyxl  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from clm.celery import app  # noqa: E402
from customers.api_tokens import issue_token  # noqa: E402
from customers.importing import ImportReport, import_file  # noqa: E402
from customers.models import Customer, Dealership, OdometerReading, Sale, ServiceVisit, Vehicle  # noqa: E402

VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
MOBILE_CODES = ("916", "926", "903", "905", "909", "915", "925", "985", "977", "999")


def vin(n: int) -> str:
    chars = []
    for _ in range(17):
        n, r = divmod(n, len(VIN_CHARS))
        chars.append(VIN_CHARS[r])
    return "".join(reversed(chars))


def phone(n: int) -> str:
    """Mobile numbers in the formats DMS exports mix: 8 (9xx) ..., +7 9xx ..., 9xxxxxxxxx."""
    digits = f"{MOBILE_CODES[n % len(MOBILE_CODES)]}{n // 10 % 10_000_000:07d}"
    return (f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}", f"+7 {digits}", digits)[n % 3]


def files(rows: int, changed: bool) -> dict[str, tuple[bytes, str]]:
    """One file per kind; ``changed``: every tenth row differs (a new phone, plate, salesperson, km)."""

    def alt(n: int, same: str, other: str) -> str:
        return other if changed and n % 10 == 0 else same

    customers = ["Код клиента;Фамилия;Имя;Отчество;Телефон;Дата рождения;E-mail"] + [
        f"C{n};Иванов{n};Пётр;Сергеевич;{alt(n, phone(n), phone(n + 1))};{1 + n % 28:02d}.06.1985;c{n}@example.ru"
        for n in range(rows)
    ]
    vehicles = ["vin;make;model;year;plate;owner_external_id"] + [
        f"{vin(n)};Kia;Rio;2023;{alt(n, 'А', 'В')}{n % 1000:03d}ВС 77;C{n}" for n in range(rows)
    ]
    sales = ["external_id;vin;customer_external_id;sold_on;kind;odometer_km;salesperson"] + [
        f"S{n};{vin(n)};C{n};15.01.2024;новый;0;{alt(n, 'Орлов', 'Соколов')}" for n in range(rows)
    ]
    visits = ["Заказ-наряд;VIN;Дата заезда;Пробег;Вид работ"] + [
        f"V{n};{vin(n)};2024-11-15;{alt(n, '15 000', '15 100')};ТО-1" for n in range(rows)
    ]
    readings = ["vin;read_on;odometer_km;source"] + [
        f"{vin(n)};01.06.2025;{22_000 + n % 5000 + (7 if changed and n % 10 == 0 else 0)};telematics" for n in range(rows)
    ]
    return {
        "customers": ("\n".join(customers).encode("cp1251"), "customers.csv"),
        "vehicles": ("\n".join(vehicles).encode(), "vehicles.csv"),
        "sales": ("\n".join(sales).encode(), "sales.csv"),
        "visits": ("\n".join(visits).encode(), "visits.csv"),
        "readings": ("\n".join(readings).encode(), "readings.csv"),
    }


def customers_xlsx(rows: int) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["Код клиента", "Фамилия", "Имя", "Телефон"])
    for n in range(rows):
        sheet.append([f"X{n}", f"Петров{n}", "Олег", int("7" + phone(n)[-10:]) if n % 3 == 2 else phone(n)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def rss_mb(field: str) -> int:
    """VmRSS (now) or VmHWM (the peak since the last reset) of this process, from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024)
    return 0


def reset_peak_rss() -> None:
    """Linux: writing 5 to clear_refs resets VmHWM, so each run's own peak can be read."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def timed(run: Callable[[], ImportReport]) -> dict[str, Any]:
    gc.collect()
    before = rss_mb("VmRSS")
    reset_peak_rss()
    started = time.monotonic()
    report = run()
    seconds = time.monotonic() - started
    return {
        "seconds": round(seconds, 1), "rows_per_second": round(report.total / seconds),
        "counts": [report.created, report.updated, report.unchanged, len(report.refused)],
        "rss_before_mb": before, "peak_rss_mb": rss_mb("VmHWM"),
    }


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
        database = cursor.fetchone()[0].split(" on ")[0]
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}, {database}"


def empty_the_facts() -> None:
    """TRUNCATE on PostgreSQL: Django's delete() would first load every row (and their plans) in memory."""
    models = (OdometerReading, ServiceVisit, Sale, Vehicle, Customer)
    if connection.vendor != "postgresql":
        for model in models:
            model.objects.all().delete()
        return
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(model._meta.db_table for model in models)} CASCADE")


def write_files(directory: Path, rows: int) -> None:
    """The input files, written by a child process so that building them does not count in the
    measuring process's memory."""
    for changed in (False, True):
        for kind, (content, _name) in files(rows, changed).items():
            (directory / f"{kind}{'-changed' if changed else ''}.csv").write_bytes(content)
    (directory / "customers.xlsx").write_bytes(customers_xlsx(rows))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--api-rows", type=int, default=20_000)
    parser.add_argument("--write-files", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_files:
        write_files(args.write_files, args.rows)
        return
    if "bench" not in str(connection.settings_dict["NAME"]):
        sys.exit(f"Refusing to empty {connection.settings_dict['NAME']}: run on a scratch database named *bench*.")
    # The app reads the CELERY_-namespaced keys first: set both spellings.
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, task_always_eager=False,
                    CELERY_BROKER_URL="memory://", broker_url="memory://")
    empty_the_facts()
    dealership, _created = Dealership.objects.get_or_create(code="bench", defaults={"name": "Bench"})
    results: dict[str, Any] = {"rows_per_file": args.rows}
    directory = Path(tempfile.mkdtemp(prefix="bench-import-"))
    subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--write-files", str(directory)], check=True)
    results["rss_after_django_setup_mb"] = rss_mb("VmRSS")
    for kind in ("customers", "vehicles", "sales", "visits", "readings"):
        content = (directory / f"{kind}.csv").read_bytes()
        changed = (directory / f"{kind}-changed.csv").read_bytes()

        def run(data: bytes, dry_run: bool, kind: str = kind) -> Callable[[], ImportReport]:
            return lambda: import_file(kind=kind, content=data, dealership=dealership, dry_run=dry_run)

        results[kind] = {
            "file_mb": round(len(content) / 2**20, 1),
            "dry_run": timed(run(content, True)),
            "import": timed(run(content, False)),
            "same_file_again": timed(run(content, False)),
            "tenth_of_rows_changed": timed(run(changed, False)),
        }
        del content, changed
        print(kind, json.dumps(results[kind]), file=sys.stderr, flush=True)
    xlsx = (directory / "customers.xlsx").read_bytes()
    shutil.rmtree(directory)
    results["customers_xlsx"] = {"file_mb": round(len(xlsx) / 2**20, 1), "import": timed(
        lambda: import_file(kind="customers", content=xlsx, dealership=dealership, dry_run=False))}
    print("customers_xlsx", json.dumps(results["customers_xlsx"]), file=sys.stderr, flush=True)
    results["api_bulk_customers"] = bench_api(dealership, args.api_rows)
    results["peak_rss_mb_of_the_whole_run"] = peak_rss_mb()
    results["machine"] = machine()
    print(json.dumps(results, indent=2, ensure_ascii=False))


def bench_api(dealership: Dealership, rows: int) -> dict[str, Any]:
    """POST /api/customers/bulk/ in batches of 1,000: new rows, then the same rows again (unchanged)."""
    user, _created = User.objects.get_or_create(username="bench-api")
    user.groups.add(Group.objects.get(name="manager"))
    dealership.staff.add(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user=user, name='bench', scopes=['read', 'write'], now=timezone.now()).secret}")
    result: dict[str, Any] = {"rows": rows}
    for run in ("new", "unchanged"):
        latencies = []
        started = time.monotonic()
        for start in range(0, rows, 1000):
            batch = [{"external_id": f"API{n}", "last_name": f"Петров{n}", "first_name": "Олег", "phone": phone(n + 1),
                      "birthday": "20.06.1985"} for n in range(start, min(rows, start + 1000))]
            began = time.monotonic()
            response = client.post("/api/customers/bulk/?dealership=bench", {"rows": batch}, format="json")
            latencies.append(time.monotonic() - began)
            assert response.status_code == 200 and not response.json()["refused"], response.content[:300]
        seconds = time.monotonic() - started
        latencies.sort()
        result[run] = {
            "seconds": round(seconds, 1), "rows_per_second": round(rows / seconds),
            "request_p50_ms": round(latencies[len(latencies) // 2] * 1000),
            "request_p95_ms": round(latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000),
        }
    return result


if __name__ == "__main__":
    main()
