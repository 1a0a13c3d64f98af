"""50 simulated agents working the queue over loopback: latency of the queue page, next call and outcome.

    # a server on the benchmark database (here: gunicorn, 4 workers, DEBUG off)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_bench_100k DEBUG=false SECRET_KEY=bench \
      ALLOWED_HOSTS=127.0.0.1 SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false \
      .venv/bin/gunicorn clm.wsgi -w 4 -b 127.0.0.1:8900
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_bench_100k \
      .venv/bin/python bench/bench_agents.py --base-url http://127.0.0.1:8900 --agents 50 --duration 60

Creates agents bench_agent_1..N in the dealership (password "bench"), opens the dealership's call
hours around the clock and fills today's queue with enough tasks; then each agent, in its own thread
and HTTP session, loops: queue page → next call → outcome "reached" (which opens the next call).
Reports p50/p95/p99 per request kind, throughput, and the double claims (a task handed to two agents).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clm.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.utils import timezone  # noqa: E402

from contacts.models import CallTask, ContactRules  # noqa: E402
from customers.models import Customer, Dealership  # noqa: E402

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def prepare(code: str, agents: int, tasks: int) -> list[str]:
    dealership = Dealership.objects.get(code=code)
    dealership.call_hours_start, dealership.call_hours_end = dt.time(0, 0), dt.time(23, 59)
    dealership.save()
    ContactRules.objects.filter(dealership=dealership).update(working_weekdays="1234567", claim_timeout_minutes=60)
    group = Group.objects.get(name="agent")
    names = []
    for n in range(1, agents + 1):
        user, created = User.objects.get_or_create(username=f"bench_agent_{n}")
        if created:
            user.set_password("bench")
            user.save()
        user.groups.add(group)
        dealership.staff.add(user)
        names.append(user.username)
    today = dealership.local_date(timezone.now())
    CallTask.objects.filter(dealership=dealership, status__in=["open", "claimed"]).update(status="cancelled")
    busy = set(CallTask.objects.filter(dealership=dealership).exclude(status="cancelled").values_list("customer_id", flat=True))
    customers = Customer.objects.filter(dealership=dealership).exclude(id__in=busy).values_list("id", flat=True)[:tasks]
    CallTask.objects.bulk_create([
        CallTask(dealership=dealership, customer_id=cid, scheduled_on=today, window_start=today,
                 window_end=today + dt.timedelta(days=10), blocks_until=today + dt.timedelta(days=7),
                 agenda=[{"code": "service_invite", "title": "Invite", "why": "bench"}], script="## Invite\nHello")
        for cid in customers
    ], batch_size=2000)
    return names


def agent_loop(base: str, username: str, until: float, timings: dict[str, list[float]], claims: list[tuple[str, int]],
               errors: list[str], lock: threading.Lock, think: float) -> None:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/")
    token = CSRF.search(page.text).group(1)
    session.post(f"{base}/accounts/login/", data={"username": username, "password": "bench", "csrfmiddlewaretoken": token},
                 headers={"Referer": f"{base}/accounts/login/"})

    def timed(kind: str, method: str, url: str, **kwargs: object) -> requests.Response:
        started = time.perf_counter()
        response = session.request(method, url, allow_redirects=False, **kwargs)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
        with lock:
            timings[kind].append(elapsed)
            if response.status_code >= 500:
                errors.append(f"{kind} {response.status_code}")
        return response

    queue = timed("queue page", "GET", f"{base}/calls/queue/")
    token = CSRF.search(queue.text).group(1)
    headers = {"X-CSRFToken": token, "Referer": f"{base}/calls/queue/"}
    location = timed("next call", "POST", f"{base}/calls/next/", headers=headers).headers.get("Location", "")
    while time.monotonic() < until:
        match = re.search(r"/calls/task/(\d+)/", location)
        if not match:
            timed("queue page", "GET", f"{base}/calls/queue/")
            location = timed("next call", "POST", f"{base}/calls/next/", headers=headers).headers.get("Location", "")
            if not re.search(r"/calls/task/(\d+)/", location):
                break
            continue
        task_id = int(match.group(1))
        with lock:
            claims.append((username, task_id))
        time.sleep(think)  # the agent talks to the customer
        response = timed("outcome (and next call)", "POST", f"{base}/calls/task/{task_id}/outcome/",
                         data={"outcome": "reached", "note": "bench"}, headers=headers)
        location = response.headers.get("Location", "")
        if len(timings["outcome (and next call)"]) % 10 == 0:
            timed("queue page", "GET", f"{base}/calls/queue/")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--dealership", default="msk")
    parser.add_argument("--tasks", type=int, default=20000)
    parser.add_argument("--think", type=float, default=0.0, help="Seconds an agent spends on each call (0: flat out).")
    args = parser.parse_args()
    names = prepare(args.dealership, args.agents, args.tasks)
    timings: dict[str, list[float]] = defaultdict(list)
    claims: list[tuple[str, int]] = []
    errors: list[str] = []
    lock = threading.Lock()
    until = time.monotonic() + args.duration
    started = time.monotonic()
    threads = [threading.Thread(target=agent_loop, args=(args.base_url, n, until, timings, claims, errors, lock, args.think)) for n in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    by_task: dict[int, set[str]] = defaultdict(set)
    for username, task_id in claims:
        by_task[task_id].add(username)
    result = {
        "agents": args.agents, "think_seconds": args.think, "seconds": round(wall, 1),
        "outcomes_recorded": len(timings["outcome (and next call)"]),
        "calls_per_second": round(len(timings["outcome (and next call)"]) / wall, 1),
        "double_claims": sum(1 for users in by_task.values() if len(users) > 1),
        "server_errors": len(errors),
        "latency_ms": {kind: {"n": len(v), "p50": round(statistics.median(v) * 1000), "p95": round(percentile(v, 0.95)),
                              "p99": round(percentile(v, 0.99))} for kind, v in timings.items()},
        "machine": f"{platform.machine()} {os.cpu_count()} cores (client and server on one machine)",
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
