"""The faked clock and the beat's day: which real task runs at which UTC moment.

The beat schedule (clm/settings.py CELERY_BEAT_SCHEDULE) fires some entries every minute. Running
each of them 1,440 times a simulated day would make the simulation mostly idle sweeps, so the
simulator runs the nightly and daily entries at their times, the every-minute sweeps (builds due,
lost work) every quarter of an hour (``sweep_minutes``; the test suite takes an hour) and, after any task failure or injected fault, every minute for
the next half hour (``MINUTE_SWEEPS_AFTER_TROUBLE``), so that recovery is timed to the minute; the
ten- and five-minute entries run once an hour (send-due-messages at :10, release-stale-claims at :20).
The heartbeat and the dashboards' nightly snapshot change no contact and are left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import time_machine

UTC = dt.UTC


@dataclass(frozen=True, order=True)
class Event:
    """One thing that happens at ``at``: a beat task (``beat:<name>``) or a step of the simulated world."""

    at: dt.datetime
    order: int  # ties at one moment keep this order
    name: str
    dealership_id: int = 0


BEAT_TASKS = {
    # name in the simulator → the task in contacts.tasks (the same names as the beat schedule's entries)
    "replan-all-vehicles": "replan_all_vehicles",
    "build-due-queues": "build_due_queues",
    "requeue-lost-work": "requeue_lost_work",
    "send-due-messages": "send_due_messages",
    "release-stale-claims": "release_stale_claims",
}
EVERY_MINUTE = ("build-due-queues", "requeue-lost-work")
MINUTE_SWEEPS_AFTER_TROUBLE = dt.timedelta(minutes=30)


def minute_sweeps(at: dt.datetime) -> list[Event]:
    """The every-minute entries at one moment."""
    return [Event(at, 1 + number, f"beat:{name}") for number, name in enumerate(EVERY_MINUTE)]


def beat_events(day: dt.date, *, sweep_minutes: int = 15) -> list[Event]:
    """The beat entries of one UTC day, at the moments the simulator fires them (module docstring)."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=UTC)
    events = [Event(start + dt.timedelta(minutes=30), 0, "beat:replan-all-vehicles")]
    for number in range(24 * 60 // sweep_minutes):
        events += minute_sweeps(start + dt.timedelta(minutes=sweep_minutes * number))
    for hour in range(24):
        top = start + dt.timedelta(hours=hour)
        events.append(Event(top + dt.timedelta(minutes=10), 3, "beat:send-due-messages"))
        events.append(Event(top + dt.timedelta(minutes=20), 4, "beat:release-stale-claims"))
    return events


def local_moment(day: dt.date, hour: int, minute: int, zone: Any) -> dt.datetime:
    """``hour:minute`` of the local calendar ``day`` in ``zone``, as a UTC instant."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone).astimezone(UTC)


class Clock:
    """A faked clock for the whole process (time-machine): ``timezone.now()`` reads it everywhere."""

    def __init__(self, start: dt.datetime) -> None:
        self._traveller = time_machine.travel(start, tick=False)
        self._coordinates: Any = None
        self.now = start

    def start(self) -> None:
        self._coordinates = self._traveller.start()

    def stop(self) -> None:
        self._traveller.stop()

    def move_to(self, moment: dt.datetime) -> None:
        """Move forward (never back: a re-run of a moment keeps the later time)."""
        if moment > self.now:
            self._coordinates.move_to(moment)
            self.now = moment

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        self.move_to(self.now + delta)
        return self.now


@contextmanager
def faked_clock(start: dt.datetime) -> Iterator[Clock]:
    clock = Clock(start)
    clock.start()
    try:
        yield clock
    finally:
        clock.stop()
