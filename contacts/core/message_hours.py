"""When may a stored message go out? Pure: the caller passes the dealership's local moment.

docs/program.md version 2: messages go out only inside the dealership's message hours (default
10:00-20:00 local), on the message's own local calendar day; a greeting (a birthday) may go on a
weekend or a public holiday, any other message only on a working day, unless its template says it may
(TouchpointTemplate.may_go_on_days_off: on for the birthday template, off by default). Calls never go on
those days; the call side keeps its own rules (contacts.calls).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    SEND = "send"
    # Not yet: before the hours of its day, after them (it is then missed at local midnight), or a later day.
    WAIT = "wait"
    # Its local day is over and it did not go out: it must not go out on another day.
    MISSED = "missed"
    # Its day is a weekend or a holiday and its template does not let it go on those days.
    CLOSED_DAY = "closed_day"


@dataclass(frozen=True)
class MessageHours:
    """[start, end) in local wall-clock time."""

    start: dt.time
    end: dt.time

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError(f"message hours must end after they start ({self.start}-{self.end})")

    def contains(self, moment: dt.time) -> bool:
        return self.start <= moment < self.end


def sending_verdict(
    *, send_on: dt.date, local_now: dt.datetime, hours: MessageHours, may_go_on_days_off: bool,
    is_working_day: bool
) -> Verdict:
    """May a message meant for ``send_on`` go out at ``local_now`` (the dealership's wall clock)?

    ``is_working_day`` is about ``local_now``'s date (it only matters when that is ``send_on``);
    ``may_go_on_days_off`` is the message's template's setting (weekends and holidays allowed).
    """
    today = local_now.date()
    if send_on < today:
        return Verdict.MISSED
    if send_on > today:
        return Verdict.WAIT
    if not may_go_on_days_off and not is_working_day:
        return Verdict.CLOSED_DAY
    if not hours.contains(local_now.time().replace(tzinfo=None)):
        return Verdict.WAIT
    return Verdict.SEND
