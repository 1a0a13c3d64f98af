"""Faults the simulator can inject in-process, and what became of them.

- ``build-crash``: on each chosen day the first morning build of each dealership raises half-way
  (after the households were resolved and their verdicts and messages written, before the calls are
  issued), as a worker killed mid-task would leave it; the next hourly beat must build it again.
- ``replan-crash``: on each chosen night the first chunk of the nightly re-plan raises before writing.
- ``beat-twice``: every beat entry fires twice, every day (two beat processes by mistake).
- ``broker-down``: on each chosen day the broker is gone from 01:00 to 04:00 UTC: beat cannot send
  its entries (they are lost) and every ``delay`` raises, as kombu does when Redis is unreachable.

Not injectable in-process: killing a real worker process (the broker's redelivery of an unacknowledged
task after ``visibility_timeout`` is broker behaviour, and tasks here run eagerly in this process);
run bench/bench_simulate.py against a real worker for that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kombu.exceptions import OperationalError

FAULTS = ("build-crash", "replan-crash", "beat-twice", "broker-down")
# Each fault fires on its own first day and then every seventh day, so that two faults never share a
# day and each recovery is timed alone; beat-twice fires on every day.
FIRST_DAY = {"build-crash": 2, "broker-down": 4, "replan-crash": 6, "beat-twice": 0}
EVERY = 7
BROKER_DOWN_HOURS = (1, 4)


class InjectedFault(RuntimeError):
    """Raised by an injected fault (never by the product)."""


@dataclass
class FaultLog:
    """Each injected fault: when, what, and when the work it broke was done again."""

    injected: list[tuple[dt.datetime, str, str]] = field(default_factory=list)  # at, fault, what
    recovered: dict[str, dt.datetime] = field(default_factory=dict)  # what → when it was done again

    def recovery_minutes(self) -> list[tuple[str, float | None]]:
        return [
            (what, None if what not in self.recovered else round((self.recovered[what] - at).total_seconds() / 60, 1))
            for at, _fault, what in self.injected
        ]


def fault_day(index: int, fault: str) -> bool:
    if fault == "beat-twice":
        return True
    return index >= FIRST_DAY[fault] and (index - FIRST_DAY[fault]) % EVERY == 0


@contextmanager
def _patched(module: Any, name: str, replacement: Callable[..., Any]) -> Iterator[None]:
    original = getattr(module, name)
    setattr(module, name, replacement)
    try:
        yield
    finally:
        setattr(module, name, original)


@contextmanager
def crash_first_builds(*, log: FaultLog, now: Callable[[], dt.datetime]) -> Iterator[None]:
    """The first build of each dealership this day raises half-way (see the module docstring)."""
    from contacts.queues import build

    original = build.issue_calls
    crashed: set[int] = set()

    def issue_or_crash(*, dealership: Any, day: dt.date, **kwargs: Any) -> int:
        if dealership.id not in crashed:
            crashed.add(dealership.id)
            log.injected.append((now(), "build-crash", f"build {dealership.code} {day}"))
            raise InjectedFault(f"injected: the build of {dealership.code} for {day} died half-way")
        return original(dealership=dealership, day=day, **kwargs)

    with _patched(build, "issue_calls", issue_or_crash):
        yield


@contextmanager
def crash_first_replan_chunk(*, log: FaultLog, now: Callable[[], dt.datetime], day: dt.date) -> Iterator[None]:
    from contacts.planning import chunk

    original = chunk.write_difference
    state = {"crashed": False}

    def write_or_crash(*args: Any, **kwargs: Any) -> Any:
        if not state["crashed"]:
            state["crashed"] = True
            log.injected.append((now(), "replan-crash", f"replan chunk of {day}"))
            raise InjectedFault("injected: a re-plan chunk died before writing")
        return original(*args, **kwargs)

    with _patched(chunk, "write_difference", write_or_crash):
        yield


@contextmanager
def broker_gone() -> Iterator[None]:
    """Every task send raises as kombu does with Redis unreachable."""
    from celery.app.task import Task

    def refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise OperationalError("injected: Error 111 connecting to the broker. Connection refused.")

    with _patched(Task, "apply_async", refuse):
        yield


def broker_is_down(moment: dt.datetime, *, index: int, faults: frozenset[str]) -> bool:
    return "broker-down" in faults and fault_day(index, "broker-down") and BROKER_DOWN_HOURS[0] <= moment.hour < BROKER_DOWN_HOURS[1]
