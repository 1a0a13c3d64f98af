"""N simulated agents working the queue over loopback: latency of the queue page, next call and outcome.

Run a server on the database to measure, then this script with the same DATABASE_URL (it prepares the
agents and the calls through Django directly, then talks to the server over HTTP only):

    # the server (here gunicorn, 4 workers, DEBUG off)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_bench_100k DEBUG=false SECRET_KEY=bench \\
      ALLOWED_HOSTS=127.0.0.1 SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false \\
      .venv/bin/gunicorn clm.wsgi -w 4 -b 127.0.0.1:8900
    # the agents
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_bench_100k \\
      .venv/bin/python bench/bench_agents.py --base-url http://127.0.0.1:8900 --agents 50 --duration 60

Setup (no management command needed): users agent_bench_1..N are created (or reused) in the agent
group with password "bench" and attached to the dealership (--dealership, default msk); the
dealership's call hours are opened around the clock for the run and restored afterwards; --tasks
extra calls are added for today, requested (so PostgreSQL's call-gap constraint lets them sit beside
the customers' planned calls) and most urgent (priority 0), so the agents work them first. Each agent,
in its own thread and HTTP session, logs in through the login form and loops: queue page → next
call → call screen → (think time) → outcome "reached", whose answer already claims the next call
(then the call screen of that one, as the browser follows the redirect).

Reports p50/p95/p99 per request kind, throughput, server errors, and double claims counted twice:
by the client (a task id handed to two agents) and by the database (a task with attempts of two
agents). The run writes real call attempts: use a benchmark database. Bench calls left open at the end
are cancelled.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import statistics
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clm.settings")
os.environ.setdefault("DEBUG", "1")  # the development profile (DEBUG is off by default)

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from contacts.models import CallAttempt, CallTask, ContactRules  # noqa: E402
from contacts.queues import refresh_call_task_statistics  # noqa: E402
from customers.models import Customer, Dealership  # noqa: E402

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TASK_URL = re.compile(r"/calls/task/(\d+)/")
BENCH_CODE = "bench"
QUEUE, NEXT, CALL, OUTCOME = "queue page", "next call", "call screen", "outcome (+ next call)"


@dataclass
class Run:
    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    claims: list[tuple[str, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Logins (PBKDF2, deliberately slow) all happen before the clock starts: the run measures work.
    logged_in: threading.Barrier | None = None
    until: float = 0.0


def prepare(*, code: str, agents: int, tasks: int) -> tuple[Dealership, tuple[dt.time, dt.time], list[str], list[int]]:
    dealership = Dealership.objects.get(code=code)
    hours = (dealership.call_hours_start, dealership.call_hours_end)
    dealership.call_hours_start, dealership.call_hours_end = dt.time(0, 0), dt.time(23, 59)
    dealership.save(update_fields=["call_hours_start", "call_hours_end"])
    rules = ContactRules.for_dealership(dealership)
    ContactRules.objects.filter(pk=rules.pk).update(claim_timeout_minutes=60)
    group = Group.objects.get(name="agent")
    names = []
    for n in range(1, agents + 1):
        user, created = User.objects.get_or_create(username=f"agent_bench_{n}", defaults={"first_name": f"Bench{n}"})
        if created:
            user.set_password("bench")
            user.save()
        user.groups.add(group)
        dealership.staff.add(user)
        names.append(user.username)
    # Claims left over by an interrupted earlier run would be handed back first: release them.
    CallTask.objects.filter(claimed_by__username__startswith="agent_bench_", status="claimed").update(status="open")
    today = dealership.local_date(timezone.now())
    customer_ids = list(Customer.objects.filter(dealership=dealership).order_by("id").values_list("id", flat=True)[:tasks])
    created_tasks = CallTask.objects.bulk_create(
        [
            CallTask(dealership=dealership, customer_id=cid, scheduled_on=today, window_start=today,
                     window_end=today + dt.timedelta(days=10), blocks_until=today + dt.timedelta(days=rules.min_days_between_calls),
                     is_requested=True, priority=0,
                     agenda=[{"code": BENCH_CODE, "title": "Benchmark call", "why": "bench"}],
                     script="## Benchmark call\nHello, this is [[agent]].")
            for cid in customer_ids
        ],
        batch_size=2000,
    )
    refresh_call_task_statistics()  # as the daily build does once it has written the day's calls
    return dealership, hours, names, [t.pk for t in created_tasks]


def agent_loop(*, base: str, username: str, think: float, run: Run) -> None:
    session = requests.Session()
    is_logged_in = False
    try:
        login = session.get(f"{base}/accounts/login/", timeout=120)
        token = CSRF.search(login.text).group(1)  # type: ignore[union-attr]
        answer = session.post(f"{base}/accounts/login/", timeout=120, allow_redirects=False,
                              data={"username": username, "password": "bench", "csrfmiddlewaretoken": token},
                              headers={"Referer": f"{base}/accounts/login/"})
        is_logged_in = answer.status_code == 302
    except (requests.RequestException, AttributeError) as error:
        with run.lock:
            run.errors.append(f"login {username}: {error}")
    assert run.logged_in is not None
    run.logged_in.wait()
    if not is_logged_in:
        return
    until = run.until
    # Real agents neither start nor finish their calls in step: each waits a random part of one call
    # before the first request, and talks for 0.5-1.5 times the mean think time (seeded per agent).
    rng = random.Random(username)
    time.sleep(rng.uniform(0, think))

    def timed(kind: str, method: str, url: str, **kwargs: object) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response = session.request(method, url, allow_redirects=False, timeout=60, **kwargs)  # type: ignore[arg-type]
        except requests.RequestException as error:
            with run.lock:
                run.errors.append(f"{kind}: {error}")
            return None
        elapsed = time.perf_counter() - started
        with run.lock:
            run.timings[kind].append(elapsed)
            if response.status_code >= 500:
                run.errors.append(f"{kind}: HTTP {response.status_code}")
        return response

    queue = timed(QUEUE, "GET", f"{base}/calls/queue/")
    match = CSRF.search(queue.text) if queue is not None else None
    if match is None:
        with run.lock:
            run.errors.append(f"{username}: no queue page (login failed?)")
        return
    headers = {"X-CSRFToken": match.group(1), "Referer": f"{base}/calls/queue/"}
    response = timed(NEXT, "POST", f"{base}/calls/next/", headers=headers)
    location = response.headers.get("Location", "") if response is not None else ""
    outcomes = 0
    while time.monotonic() < until:
        found = TASK_URL.search(location)
        if not found:
            # The queue was empty, or the answer was lost: look at the queue, ask again, stop when dry.
            timed(QUEUE, "GET", f"{base}/calls/queue/")
            response = timed(NEXT, "POST", f"{base}/calls/next/", headers=headers)
            location = response.headers.get("Location", "") if response is not None else ""
            if not TASK_URL.search(location):
                break
            continue
        task_id = int(found.group(1))
        with run.lock:
            run.claims.append((username, task_id))
        timed(CALL, "GET", f"{base}/calls/task/{task_id}/")  # the browser follows the redirect to the call screen
        time.sleep(think * rng.uniform(0.5, 1.5))  # the agent talks to the customer
        response = timed(OUTCOME, "POST", f"{base}/calls/task/{task_id}/outcome/",
                         data={"outcome": "reached", "note": "bench"}, headers=headers)
        location = response.headers.get("Location", "") if response is not None else ""
        outcomes += 1
        if outcomes % 10 == 0:
            timed(QUEUE, "GET", f"{base}/calls/queue/")  # agents glance at their queue now and then


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="the running server, e.g. http://127.0.0.1:8900")
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60, help="seconds")
    parser.add_argument("--dealership", default="msk", help="dealership code")
    parser.add_argument("--tasks", type=int, default=20000, help="benchmark calls to add for today")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds an agent spends on each call, 0.5-1.5 times it at random (0: flat out)")
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    dealership, hours, names, bench_ids = prepare(code=args.dealership, agents=args.agents, tasks=args.tasks)
    run = Run()

    def start_the_clock() -> None:  # runs once, when the last agent has logged in, before any is released
        run.until = time.monotonic() + args.duration

    run.logged_in = threading.Barrier(len(names) + 1, action=start_the_clock)
    threads = [threading.Thread(target=agent_loop, kwargs={"base": base, "username": n, "think": args.think, "run": run})
               for n in names]
    logins_started = time.monotonic()
    started = logins_started
    login_seconds = 0.0
    try:
        for thread in threads:
            thread.start()
        run.logged_in.wait()
        started = time.monotonic()
        login_seconds = started - logins_started
        for thread in threads:
            thread.join()
    finally:
        wall = time.monotonic() - started
        dealership.call_hours_start, dealership.call_hours_end = hours
        dealership.save(update_fields=["call_hours_start", "call_hours_end"])
        CallTask.objects.filter(pk__in=bench_ids, status__in=["open", "claimed"]).update(status="cancelled", outcome="bench_left")
    by_task: dict[int, set[str]] = defaultdict(set)
    for username, task_id in run.claims:
        by_task[task_id].add(username)
    attempts_by_two = (
        CallAttempt.objects.filter(call_task_id__in=bench_ids).values("call_task").annotate(agents=Count("agent", distinct=True))
        .filter(agents__gt=1).count()
    )
    result = {
        "agents": args.agents,
        "think_seconds": args.think,
        "seconds": round(wall, 1),
        "login_burst_seconds": round(login_seconds, 1),
        "outcomes_recorded": len(run.timings[OUTCOME]),
        "calls_per_second": round(len(run.timings[OUTCOME]) / wall, 1),
        "double_claims_seen_by_clients": sum(1 for users in by_task.values() if len(users) > 1),
        "double_claims_in_database": attempts_by_two,
        "errors": len(run.errors),
        "first_errors": run.errors[:5],
        "latency_ms": {
            kind: {"n": len(v), "p50": round(statistics.median(v) * 1000), "p95": round(percentile(v, 0.95)),
                   "p99": round(percentile(v, 0.99))}
            for kind, v in run.timings.items() if v
        },
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (client and server on one machine)",
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
