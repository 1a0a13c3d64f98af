"""The faked clock and the beat's day: which real task runs at which UTC moment.

The beat schedule (clm/settings.py CELERY_BEAT_SCHEDULE) has entries every minute, five and ten minutes;
the simulator runs the hourly and nightly entries at their times and the frequent ones once an hour
(send-due-messages at :10, release-stale-claims at :15), which is what changes anything in a day whose
agents work in two sessions. The heartbeat and the dashboards' nightly snapshot change no contact and
are left out.
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
    "send-due-messages": "send_due_messages",
    "release-stale-claims": "release_stale_claims",
}


def beat_events(day: dt.date) -> list[Event]:
    """The beat entries of one UTC day, at the moments the schedule fires them."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=UTC)
    events = [Event(start + dt.timedelta(minutes=30), 0, "beat:replan-all-vehicles")]
    for hour in range(24):
        top = start + dt.timedelta(hours=hour)
        events.append(Event(top + dt.timedelta(minutes=5), 1, "beat:build-due-queues"))
        events.append(Event(top + dt.timedelta(minutes=10), 2, "beat:send-due-messages"))
        events.append(Event(top + dt.timedelta(minutes=15), 3, "beat:release-stale-claims"))
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
