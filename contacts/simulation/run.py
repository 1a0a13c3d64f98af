"""The day loop: the beat's real tasks, the agents, the customers and the checks, in time order.

Tasks run eagerly in this process, each as a worker would run it: a task that raises is recorded
(Celery's ``task_failure`` signal) and the caller goes on, so one dealership's failed build does not
stop the other's, exactly as two separate tasks on a worker.
"""

from __future__ import annotations

import datetime as dt
import heapq
import io
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from celery.signals import task_failure
from django.core.management import call_command
from django.test.utils import override_settings

from clm.celery import app as celery_app
from contacts import tasks
from contacts.calls import is_working_day
from contacts.models import CallAttempt, CallTask, ContactRules, OutboxMessage, QueueBuild, SweepChunk
from contacts.queues import dealerships_due
from contacts.senders import Sent
from contacts.simulation import faults as fault_injection
from contacts.simulation.agents import ShiftCounts, agents_for, work_shift
from contacts.simulation.clock import (
    BEAT_TASKS,
    MINUTE_SWEEPS_AFTER_TROUBLE,
    UTC,
    Event,
    beat_events,
    faked_clock,
    local_moment,
    minute_sweeps,
)
from contacts.simulation.customers import World
from contacts.simulation.dms import ImportCounts, edit_template, import_week, mark_traded_in, refuse_in_admin
from contacts.simulation.invariants import DayContext, check_day
from contacts.simulation.ledger import DayLine, Report, business_figures
from customers.models import Customer, Dealership, Vehicle

DEFAULT_START = dt.date(2027, 3, 1)  # a Monday
# Agents work two sessions a working day (local time): the morning's queue, then callbacks and the rest.
SHIFTS = ((10, 1.0), (14, 0.5))
# A supervisor types a refusal into the admin for this share of customers a day.
ADMIN_REFUSALS_PER_CUSTOMER_DAY = 0.0004
TEMPLATE_EDIT_EVERY_DAYS = 28


class DiscardingSender:
    """The simulation's SMS/e-mail gateway: accepts every message (send_due_messages marks it sent)."""

    name = "simulation"

    def send(self, message: Any) -> Sent:
        return Sent()


@dataclass
class Failure:
    at: dt.datetime
    task: str
    error: str
    args: tuple[Any, ...]


@dataclass
class Run:
    """The state of one simulation run."""

    report: Report
    world: World
    rng: random.Random
    dealerships: list[Dealership]
    faults: frozenset[str]
    emit: Callable[[str], None]
    failures: list[Failure] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)
    log: fault_injection.FaultLog = field(default_factory=fault_injection.FaultLog)
    sweep_minutes: int = 15


@contextmanager
def eager_tasks(failures: list[Failure], now: Callable[[], dt.datetime]) -> Iterator[None]:
    """Tasks run in-process, and a failing task is recorded instead of raised (like a worker)."""
    keys = ("CELERY_TASK_ALWAYS_EAGER", "task_always_eager", "CELERY_TASK_EAGER_PROPAGATES", "task_eager_propagates")
    previous = {key: celery_app.conf.get(key) for key in keys}
    celery_app.conf.update(CELERY_TASK_ALWAYS_EAGER=True, task_always_eager=True,
                           CELERY_TASK_EAGER_PROPAGATES=False, task_eager_propagates=False)

    def on_failure(sender: Any = None, exception: BaseException | None = None, args: Any = None, **_: Any) -> None:
        failures.append(Failure(now(), getattr(sender, "name", str(sender)), repr(exception)[:300], tuple(args or ())))

    task_failure.connect(on_failure, weak=False)
    try:
        yield
    finally:
        task_failure.disconnect(on_failure)
        celery_app.conf.update(previous)


def simulate(
    *, days: int, vehicles: int, seed: int = 7, work_share: float = 1.0, faults: tuple[str, ...] = (),
    start: dt.date = DEFAULT_START, emit: Callable[[str], None] | None = None, sweep_minutes: int = 15,
) -> Report:
    """Seed the demo group on an empty database and live ``days`` days; returns the report."""
    started = time.monotonic()
    # A line per task run would drown the ledger, and a failed task's traceback is in the report.
    quiet = {name: logging.getLogger(name) for name in ("celery", "celery.app.trace", "contacts", "customers")}
    levels = {name: logger.level for name, logger in quiet.items()}
    for name, logger in quiet.items():
        logger.setLevel(logging.CRITICAL if name == "celery.app.trace" else logging.WARNING)
    try:
        return _simulate(days=days, vehicles=vehicles, seed=seed, work_share=work_share, faults=faults, start=start,
                         emit=emit, started=started, sweep_minutes=sweep_minutes)
    finally:
        for name, logger in quiet.items():
            logger.setLevel(levels[name])


def _simulate(
    *, days: int, vehicles: int, seed: int, work_share: float, faults: tuple[str, ...], start: dt.date,
    emit: Callable[[str], None] | None, started: float, sweep_minutes: int,
) -> Report:
    report = Report(days=days, vehicles=vehicles, seed=seed, work_share=work_share, faults=sorted(faults), start=start)
    rng = random.Random(seed)
    with ExitStack() as stack:
        clock = stack.enter_context(faked_clock(dt.datetime.combine(start, dt.time.min, tzinfo=UTC)))
        failures: list[Failure] = []
        stack.enter_context(eager_tasks(failures, lambda: clock.now))
        sender = "contacts.simulation.run.DiscardingSender"
        stack.enter_context(override_settings(MESSAGE_SENDER=sender, SMS_SENDER=sender, EMAIL_SENDER=sender))
        call_command("seed_demo", vehicles=vehicles, seed=seed, today=start, stdout=io.StringIO())
        world = World(seed=seed, demo_today=start, vehicles=vehicles, rng=rng)
        world.load(today=start)
        dealerships = list(Dealership.objects.order_by("code"))
        run = Run(report=report, world=world, rng=rng, dealerships=dealerships, faults=frozenset(faults),
                  emit=emit or (lambda line: None), failures=failures, sweep_minutes=sweep_minutes)
        agents = {d.id: agents_for(d, ContactRules.for_dealership(d).default_agents_on_shift) for d in dealerships}
        for index in range(days):
            _live_day(run, index=index, day=start + dt.timedelta(days=index), clock=clock, agents=agents, work_share=work_share)
        report.recovery_minutes = run.log.recovery_minutes()
        report.figures = business_figures(world=world, start=start, end=start + dt.timedelta(days=days - 1))
    report.wall_seconds = time.monotonic() - started
    return report


def _day_events(run: Run, *, index: int, day: dt.date) -> list[Event]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=UTC)
    events = beat_events(day, sweep_minutes=run.sweep_minutes)
    events.append(Event(start + dt.timedelta(hours=12), 5, "world:live"))
    events.append(Event(start + dt.timedelta(hours=11), 5, "world:admin-refusal"))
    if day.weekday() == 0 and index > 0:
        events.append(Event(start + dt.timedelta(hours=5, minutes=30), 5, "world:import"))
    if index % TEMPLATE_EDIT_EVERY_DAYS == 9:
        events.append(Event(start + dt.timedelta(hours=9), 5, "world:template-edit"))
    for dealership in run.dealerships:
        for hour, _share in SHIFTS:
            events.append(Event(local_moment(day, hour, 0, dealership.zone), 6, f"agents:{hour}", dealership.id))
    events.append(Event(start + dt.timedelta(hours=23, minutes=50), 9, "world:check"))
    return sorted(events)


def _live_day(run: Run, *, index: int, day: dt.date, clock: Any, agents: dict[int, list[Any]], work_share: float) -> None:
    line = DayLine(day=day)
    failures_before = len(run.failures)
    inactive = frozenset(Vehicle.objects.filter(is_active=False).values_list("id", flat=True))
    imports = ImportCounts()
    shift = ShiftCounts()
    with ExitStack() as day_faults:
        if "build-crash" in run.faults and fault_injection.fault_day(index, "build-crash"):
            day_faults.enter_context(fault_injection.crash_first_builds(log=run.log, now=lambda: clock.now))
        events = _day_events(run, index=index, day=day)
        heapq.heapify(events)
        scheduled = {(event.at, event.name) for event in events}
        trouble_seen = len(run.failures) + len(run.log.injected)
        day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=UTC)
        was_down = False
        while events:
            event = heapq.heappop(events)
            clock.move_to(event.at)
            down = fault_injection.broker_is_down(event.at, index=index, faults=run.faults)
            if was_down and not down:
                run.log.injected.append((event.at, "broker-down", f"lost work while the broker was down {day}"))
            was_down = down
            with ExitStack() as moment:
                if down:
                    moment.enter_context(fault_injection.broker_gone())
                if event.name.startswith("beat:"):
                    _beat(run, event=event, index=index, day=day, down=down, now=lambda: clock.now)
                elif event.name.startswith("agents:"):
                    _shift(run, event=event, day=day, clock=clock, agents=agents, work_share=work_share, counts=shift)
                elif event.name == "world:live":
                    visits, traded_in = run.world.live(day=day)
                    line.visits = visits
                    for vehicle_id in traded_in:
                        mark_traded_in(vehicle_id=vehicle_id)
                elif event.name == "world:import":
                    import_week(world=run.world, dealerships=run.dealerships, today=day, counts=imports)
                elif event.name == "world:template-edit":
                    line.notes.append(f"template {edit_template(day=day, number=index)} edited")
                elif event.name == "world:admin-refusal":
                    _admin_refusals(run, now=clock.now, line=line)
                elif event.name == "world:check":
                    _close_day(run, line=line, day=day, inactive=inactive, imports=imports, shift=shift,
                               failures_before=failures_before)
            trouble = len(run.failures) + len(run.log.injected)
            if trouble > trouble_seen:
                # Something failed: the every-minute sweeps run every minute for a while (clock docstring).
                trouble_seen = trouble
                for minute in range(1, int(MINUTE_SWEEPS_AFTER_TROUBLE.total_seconds() // 60) + 1):
                    at = event.at.replace(second=0, microsecond=0) + dt.timedelta(minutes=minute)
                    for sweep in minute_sweeps(at):
                        if at < day_end - dt.timedelta(minutes=10) and (at, sweep.name) not in scheduled:
                            scheduled.add((at, sweep.name))
                            heapq.heappush(events, sweep)


def _beat(run: Run, *, event: Event, index: int, day: dt.date, down: bool, now: Callable[[], dt.datetime]) -> None:
    name = event.name.removeprefix("beat:")
    if down:
        # Beat cannot reach the broker: this entry is lost (beat does not resend a missed entry).
        return
    task = getattr(tasks, BEAT_TASKS[name])
    with ExitStack() as stack:
        if name == "replan-all-vehicles" and "replan-crash" in run.faults and fault_injection.fault_day(index, "replan-crash"):
            stack.enter_context(fault_injection.crash_first_replan_chunk(log=run.log, now=now, day=day))
        for _ in range(2 if "beat-twice" in run.faults else 1):
            task.delay()
    _note_recoveries(run, now=now(), day=day)


def _night_is_replanned(day: dt.date) -> bool:
    chunks = SweepChunk.objects.filter(night=day, build__isnull=True)
    return chunks.exists() and not chunks.filter(finished_at__isnull=True).exists()


def _note_recoveries(run: Run, *, now: dt.datetime, day: dt.date) -> None:
    """When the work an injected fault broke is done again: a crashed build when that build has
    finished; a crashed re-plan chunk when every chunk of the night has; the work lost while the
    broker was down when no build is due unbuilt and the night's re-plan is complete."""
    for _at, _fault, what in run.log.injected:
        if what in run.log.recovered:
            continue
        kind, _space, rest = what.partition(" ")
        if kind == "build":
            code, on = rest.split(" ")
            done = QueueBuild.objects.filter(dealership__code=code, day=on, finished_at__isnull=False).exists()
        elif kind == "replan":
            done = _night_is_replanned(day)
        else:
            done = not dealerships_due(now=now) and _night_is_replanned(day)
        if done:
            run.log.recovered[what] = now


def _shift(run: Run, *, event: Event, day: dt.date, clock: Any, agents: dict[int, list[Any]], work_share: float,
           counts: ShiftCounts) -> None:
    dealership = next(d for d in run.dealerships if d.id == event.dealership_id)
    hour = int(event.name.split(":")[1])
    rules = ContactRules.for_dealership(dealership)
    if not is_working_day(day, dealership=dealership, rules=rules):
        return
    share = work_share * dict(SHIFTS)[hour]
    work_shift(dealership=dealership, agents=agents[dealership.id], share=share, local_day=day, start_hour=hour,
               clock=clock, world=run.world, rng=run.rng, counts=counts)


def _admin_refusals(run: Run, *, now: dt.datetime, line: DayLine) -> None:
    people = sorted(run.world.people)
    count = sum(1 for _ in people if run.rng.random() < ADMIN_REFUSALS_PER_CUSTOMER_DAY)
    for _ in range(count):
        customer = Customer.objects.filter(pk=run.rng.choice(people)).first()
        if customer is None:
            continue
        channel = "call" if run.rng.random() < 0.7 else "sms"
        refuse_in_admin(customer=customer, channel=channel, now=now)
        line.notes.append(f"admin refusal {channel} customer {customer.pk}")


def _close_day(run: Run, *, line: DayLine, day: dt.date, inactive: frozenset[int], imports: ImportCounts,
               shift: ShiftCounts, failures_before: int) -> None:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=UTC)
    end = start + dt.timedelta(days=1)
    today_failures = run.failures[failures_before:]
    finished = dict(QueueBuild.objects.filter(day=day, finished_at__isnull=False).values_list("dealership_id", "finished_at"))
    failed_builds = {f.args[0] for f in today_failures if f.task == "contacts.tasks.build_queue" and f.args}
    # A build that failed on its own, not by an injected fault (those are timed as recoveries).
    broken_builds = {f.args[0] for f in today_failures if f.task == "contacts.tasks.build_queue" and f.args
                     and not f.error.startswith("InjectedFault")}
    for dealership in run.dealerships:
        state = "ok" if dealership.id in finished else "FAILED" if dealership.id in failed_builds else "-"
        if state == "ok" and dealership.id in failed_builds:
            state = "late"
        line.builds[dealership.code] = state
    if broken_builds or any(state == "FAILED" for state in line.builds.values()):
        run.report.failed_build_days.append(day.isoformat())
    for failure in today_failures:
        run.report.task_failures[failure.task] += 1
        if len(run.report.first_failures) < 5:
            run.report.first_failures.append(f"{failure.at:%Y-%m-%d %H:%M} {failure.task}{failure.args}: {failure.error}")
    line.task_failures = len(today_failures)
    line.calls_issued = CallTask.objects.filter(created_at__gte=start, created_at__lt=end).count()
    attempts = CallAttempt.objects.filter(ended_at__gte=start, ended_at__lt=end)
    line.calls_made = attempts.count()
    line.reached = attempts.filter(outcome__in=["reached", "booked", "hot_lead", "call_back", "do_not_call",
                                                "serviced_elsewhere", "sold_car"]).count()
    line.booked = attempts.filter(outcome="booked").count()
    line.messages_sent = OutboxMessage.objects.filter(sent_at__gte=start, sent_at__lt=end).count()
    line.purchases = run.world.purchases
    run.world.purchases = 0
    line.imported_rows = imports.rows
    if imports.refused:
        line.notes.append(f"import refused {imports.refused} rows ({imports.first_refusal})")
    if shift.refused_inputs:
        line.notes.append(f"outcomes refused {dict(shift.refused_inputs)}")
    violations = check_day(DayContext(day=day, simulation_start=run.report.start, inactive_at_day_start=inactive))
    line.new_violations = run.report.record(day, violations, run.seen)
    run.emit(line.text())
