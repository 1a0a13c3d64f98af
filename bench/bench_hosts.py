"""The nightly re-plan on worker machines apart from the database: each worker host is a network
namespace of this machine with its own link to PostgreSQL and Redis (a veth pair, a forwarder on the
database side, and a LAN's latency added by netem), so every query and task crosses a network as it
would between machines. Measures what a capacity plan needs per vehicle: the workers' Python CPU, the
PostgreSQL CPU of the benchmark's own connections, the rows written, the wall time; and, from the same
run, the reference figures: the same sweep with the workers on the database's host, and a raw COPY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_bench_20k REDIS_URL=redis://127.0.0.1:6379/12 \\
        .venv/bin/python bench/bench_hosts.py --hosts 2 --latency-ms 0.25

Needs root (ip netns, veth, tc) and socat. Prints one JSON object; bench/README.md's capacity plan reads it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import bench_replan  # noqa: E402  (sets Django up)
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402

from contacts.models import Touchpoint  # noqa: E402
from customers.forecasting import PRIORS_CACHE_KEY  # noqa: E402
from customers.models import Vehicle  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
SUBNET = "10.77"


def sh(*args: str, check: bool = True) -> None:
    subprocess.run(args, check=check, capture_output=True)


@contextlib.contextmanager
def hosts(count: int, latency_ms: float) -> Iterator[list[str]]:
    """``count`` network namespaces, host N reaching this machine's PostgreSQL and Redis at 10.77.N.1."""
    forwarders: list[subprocess.Popen[bytes]] = []
    names = [f"clmhost{n}" for n in range(1, count + 1)]
    try:
        for n, name in enumerate(names, start=1):
            sh("ip", "netns", "del", name, check=False)
            sh("ip", "link", "del", f"clmv{n}a", check=False)
            sh("ip", "netns", "add", name)
            sh("ip", "link", "add", f"clmv{n}a", "type", "veth", "peer", "name", f"clmv{n}b")
            sh("ip", "link", "set", f"clmv{n}b", "netns", name)
            sh("ip", "addr", "add", f"{SUBNET}.{n}.1/24", "dev", f"clmv{n}a")
            sh("ip", "link", "set", f"clmv{n}a", "up")
            sh("ip", "netns", "exec", name, "ip", "addr", "add", f"{SUBNET}.{n}.2/24", "dev", f"clmv{n}b")
            sh("ip", "netns", "exec", name, "ip", "link", "set", f"clmv{n}b", "up")
            sh("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
            if latency_ms > 0:  # each way: a round trip costs twice this (when the kernel has netem)
                sh("tc", "qdisc", "add", "dev", f"clmv{n}a", "root", "netem", "delay", f"{latency_ms}ms", check=False)
                sh("ip", "netns", "exec", name, "tc", "qdisc", "add", "dev", f"clmv{n}b", "root", "netem", "delay",
                   f"{latency_ms}ms", check=False)
            for port in (5432, 6379):
                forwarders.append(subprocess.Popen(
                    ["socat", f"TCP-LISTEN:{port},bind={SUBNET}.{n}.1,reuseaddr,fork", f"TCP:127.0.0.1:{port}"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                ))
        time.sleep(0.5)
        yield names
    finally:
        for forwarder in forwarders:
            forwarder.terminate()
        for n, name in enumerate(names, start=1):
            sh("ip", "link", "del", f"clmv{n}a", check=False)
            sh("ip", "netns", "del", name, check=False)


def _pointing_at(url: str, address: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host_port = netloc[-1].replace("127.0.0.1", address).replace("localhost", address)
    return urlunsplit(parts._replace(netloc="@".join([*netloc[:-1], host_port])))


_ROUND_TRIP = """
import os, statistics, time, psycopg
with psycopg.connect(os.environ["DSN"], autocommit=True) as c:
    times = []
    for _ in range(300):
        t = time.perf_counter(); c.execute("SELECT 1").fetchone(); times.append(time.perf_counter() - t)
print(round(1000 * statistics.median(times), 3))
"""


def round_trip_ms(namespace: str | None, address: str) -> float:
    """The median time of ``SELECT 1`` from a host to PostgreSQL: the network and the server's turn."""
    settings = connection.settings_dict
    dsn = f"host={address} port={settings['PORT'] or 5432} user={settings['USER']} dbname={settings['NAME']}"
    prefix = ["ip", "netns", "exec", namespace] if namespace else []
    out = subprocess.run([*prefix, sys.executable, "-c", _ROUND_TRIP], env={**os.environ, "DSN": dsn},
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its reaped children."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / TICKS


class PostgresCpu:
    """The CPU used by the server processes of one database's connections, sampled while they live."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psycopg

        with psycopg.connect(self._dsn(), autocommit=True) as watcher:
            own = watcher.info.backend_pid
            while not self._stop.is_set():
                pids = [row[0] for row in watcher.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> %s", (self.database, own)
                )]
                for pid in pids:
                    with contextlib.suppress(OSError):
                        self.seen[pid] = cpu_seconds(pid)
                time.sleep(0.2)

    def _dsn(self) -> str:
        settings = connection.settings_dict
        return f"host={settings['HOST'] or '127.0.0.1'} port={settings['PORT'] or 5432} user={settings['USER']} dbname={self.database}"

    def __enter__(self) -> PostgresCpu:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def total(self) -> float:
        return sum(self.seen.values())


def start_workers(names: list[str] | None, per_host: int) -> list[subprocess.Popen[bytes]]:
    """Solo-pool workers, ``per_host`` on each namespace (or on this host when ``names`` is None)."""
    workers = []
    for n, name in enumerate(names or [None], start=1):  # type: ignore[list-item]
        env = dict(os.environ)
        prefix: list[str] = []
        if name is not None:
            address = f"{SUBNET}.{n}.1"
            for key in ("DATABASE_URL", "REDIS_URL", "CELERY_RESULT_BACKEND", "CELERY_BROKER_URL"):
                if env.get(key):
                    env[key] = _pointing_at(env[key], address)
            prefix = ["ip", "netns", "exec", name]
        for i in range(per_host):
            workers.append(subprocess.Popen(
                [*prefix, sys.executable, "-m", "celery", "-A", "clm", "worker", "--pool=solo", "-Q", "celery,sweeps",
                 "-n", f"host{n}w{i}@%h", "--loglevel=WARNING", "--without-gossip", "--without-mingle"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
    time.sleep(4)
    return workers


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=60)


def cold_sweep(workers_on: list[str] | None, per_host: int, chunk: int, now: dt.datetime) -> dict[str, float]:
    """A cold re-plan of every vehicle (touchpoints, forecasts and fingerprints emptied first)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE contacts_touchpoint, customers_vehicleforecast, customers_forecastsnapshot, "
            "contacts_planfingerprint CASCADE"
        )
        cursor.execute("CHECKPOINT")
    cache.delete(PRIORS_CACHE_KEY)
    workers = start_workers(workers_on, per_host)
    try:
        python_before = sum(cpu_seconds(w.pid) for w in workers)
        with PostgresCpu(connection.settings_dict["NAME"]) as postgres:
            seconds, rows = bench_replan.run_sweep(chunk, now)
        python_cpu = sum(cpu_seconds(w.pid) for w in workers) - python_before
    finally:
        stop_workers(workers)
    return {"seconds": round(seconds, 1), "rows": rows, "python_cpu_seconds": round(python_cpu, 1),
            "postgres_cpu_seconds": round(postgres.total(), 1)}


def statements_per_chunk(chunk: int, now: dt.datetime) -> int:
    """The SQL statements one forced re-plan of a chunk sends (each a network round trip between hosts)."""
    from django.test.utils import CaptureQueriesContext

    from contacts.planning.chunk import replan

    ids = list(Vehicle.objects.order_by("id").values_list("id", flat=True)[:chunk])
    with CaptureQueriesContext(connection) as captured:
        replan(vehicle_ids=ids, now=now, force=True)
    return len(captured.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=2)
    parser.add_argument("--workers-per-host", type=int, default=1)
    parser.add_argument("--latency-ms", type=float, default=0.25)
    parser.add_argument("--chunk", type=int, default=bench_replan.tasks.REPLAN_CHUNK)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Run this on PostgreSQL: set DATABASE_URL.")
    if os.geteuid() != 0:
        raise SystemExit("Run this as root: it creates network namespaces.")
    vehicles = Vehicle.objects.count()
    now = dt.datetime.now(dt.UTC)
    local = cold_sweep(None, args.hosts * args.workers_per_host, args.chunk, now)
    print(f"workers on the database's host: {local}", file=sys.stderr, flush=True)
    local_round_trip = round_trip_ms(None, "127.0.0.1")
    with hosts(args.hosts, args.latency_ms) as names:
        apart_round_trip = round_trip_ms(names[0], f"{SUBNET}.1.1")
        apart = cold_sweep(names, args.workers_per_host, args.chunk, now)
    print(f"workers on {args.hosts} hosts: {apart}", file=sys.stderr, flush=True)
    touchpoints = Touchpoint.objects.count()
    statements = statements_per_chunk(args.chunk, now)
    copy_seconds, copy_rows = bench_replan.copy_ceiling()
    per_vehicle = {
        "python_cpu_ms": round(1000 * apart["python_cpu_seconds"] / vehicles, 3),
        "postgres_cpu_ms": round(1000 * apart["postgres_cpu_seconds"] / vehicles, 3),
        "rows": round(apart["rows"] / vehicles, 1),
    }
    print(json.dumps({
        "vehicles": vehicles,
        "hosts": args.hosts,
        "workers_per_host": args.workers_per_host,
        "latency_ms_each_way_asked": args.latency_ms,
        "select_1_round_trip_ms": {"database_host": local_round_trip, "other_host": apart_round_trip},
        "chunk": args.chunk,
        "statements_per_forced_chunk": statements,
        "workers_on_database_host": local,
        "workers_on_other_hosts": apart,
        "per_vehicle_cold": per_vehicle,
        "touchpoints": touchpoints,
        "raw_copy_seconds_same_rows": round(copy_seconds, 2),
        "raw_copy_rows": copy_rows,
        "load_average_after": os.getloadavg(),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}",
    }, indent=2))


if __name__ == "__main__":
    main()
