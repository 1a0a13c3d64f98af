"""The audit trail's cost on an import: N customers created, then every row's phone and name changed,
with the trail on (one entry per written row, old and new values, bulk-inserted in the batch's
transaction) and off (customers.importing.writing.audit_entries answering nothing).

    DATABASE_URL=sqlite:///var/bench-audit.sqlite3 .venv/bin/python manage.py migrate
    DATABASE_URL=sqlite:///var/bench-audit.sqlite3 .venv/bin/python bench/bench_audit.py --rows 10000

It writes dealerships named bench-audit-* and refuses a database whose name lacks "bench" (or
"clm_audit", the helper's own). Each (on, off) pair runs on its own new dealership, the order alternating,
``--repeat`` times; prints JSON with every run's seconds and the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clm.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from audit.models import AuditEntry  # noqa: E402
from clm.celery import app  # noqa: E402
from customers.importing import import_file, writing  # noqa: E402
from customers.models import Dealership  # noqa: E402


def customers_file(rows: int, version: int) -> bytes:
    lines = ["external_id;last_name;first_name;phone;email"]
    for n in range(rows):
        lines.append(f"C-{n};Иванов{version};Пётр;+7916{version:01d}{n:06d};c{n}.v{version}@example.ru")
    return "\n".join(lines).encode()


def run(code: str, rows: int, audited: bool) -> dict[str, float]:
    dealership = Dealership.objects.create(code=code, name=code, time_zone="Europe/Moscow")
    original = writing.audit_entries
    if not audited:
        writing.audit_entries = lambda changes, ctx: []
    try:
        seconds = {}
        for label, version in (("create", 1), ("update", 2)):
            content = customers_file(rows, version)
            before = AuditEntry.objects.count()
            started = time.perf_counter()
            report = import_file(kind="customers", content=content, dealership=dealership, dry_run=False)
            seconds[label] = round(time.perf_counter() - started, 3)
            assert report.created + report.updated == rows, report
            seconds[f"{label}_entries"] = AuditEntry.objects.count() - before
    finally:
        writing.audit_entries = original
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    name = str(connection.settings_dict["NAME"])
    if "bench" not in name and "clm_audit" not in name:
        sys.exit(f"refusing to write to {name}: use a database whose name has 'bench' in it")
    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://"
    stamp = int(time.time())
    runs: dict[str, list[dict[str, float]]] = {"on": [], "off": []}
    for i in range(args.repeat):
        order = ("on", "off") if i % 2 == 0 else ("off", "on")
        for mode in order:
            runs[mode].append(run(f"bench-audit-{stamp}-{i}-{mode}", args.rows, mode == "on"))
    medians = {mode: {k: statistics.median(r[k] for r in rs) for k in ("create", "update")} for mode, rs in runs.items()}
    print(json.dumps({"database": connection.vendor, "rows": args.rows, "runs": runs, "medians": medians,
                      "overhead_percent": {k: round(100 * (medians["on"][k] / medians["off"][k] - 1), 1)
                                           for k in ("create", "update")}}, indent=1))


if __name__ == "__main__":
    main()
