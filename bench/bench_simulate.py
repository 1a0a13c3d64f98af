"""A year of the dealer group's life (``manage.py simulate``), timed, with its promises checked every day.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_sim_bench REDIS_URL=redis://127.0.0.1:6379/13 \
        .venv/bin/python bench/bench_simulate.py --days 365 --vehicles 5000 --work-share 0.5

Migrates the database named by DATABASE_URL, which must hold no customers (without DATABASE_URL: a
fresh SQLite file in a temporary directory), runs the simulation in this process (the beat's tasks run
eagerly, as one worker would run them one after another) and prints the ledger's summary and one JSON
object: wall time, days with a failed build, invariant violations by invariant, recovery after each
injected fault, and the business figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clm.settings")
os.environ.setdefault("DEBUG", "1")  # the development profile (DEBUG is off by default)
if not os.environ.get("DATABASE_URL"):
    os.environ["CLM_VAR_DIR"] = tempfile.mkdtemp(prefix="clm-sim-")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from contacts.simulation.faults import FAULTS  # noqa: E402
from contacts.simulation.run import simulate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--vehicles", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work-share", type=float, default=0.5)
    parser.add_argument("--faults", nargs="*", default=[], choices=FAULTS)
    parser.add_argument("--sweep-minutes", type=int, default=15,
                        help="How often the every-minute sweeps run when nothing failed (contacts.simulation.clock).")
    parser.add_argument("--quiet", action="store_true", help="No ledger line per day.")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    started = time.monotonic()
    report = simulate(days=args.days, vehicles=args.vehicles, seed=args.seed, work_share=args.work_share,
                      faults=tuple(args.faults), sweep_minutes=args.sweep_minutes, emit=None if args.quiet else (lambda line: print(line, flush=True)))
    wall = time.monotonic() - started
    for line in report.text():
        print(line)
    print(json.dumps({
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "database": connection.vendor,
        "wall_seconds": round(wall, 1),
        "seconds_per_simulated_day": round(wall / args.days, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        **report.as_dict(),
    }, ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    main()
