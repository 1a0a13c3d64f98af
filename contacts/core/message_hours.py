"""When may a stored message go out? Pure: the caller passes the dealership's local moment.

docs/program.md version 2: messages go out only inside the dealership's message hours (default
10:00-20:00 local), on the message's own local calendar day; a greeting (a birthday) may go on a
weekend or a public holiday, any other message only on a working day. Calls never go on those days;
the call side keeps its own rules (contacts.calls).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

# The anchors of greetings: they may go on a weekend or a public holiday (docs/program.md version 2). The
# resolver places them there (contacts.core.pressure), the sender sends them (contacts.sending) and the
# auditor accepts them (contacts.core.pressure_audit).
GREETING_ANCHORS: Final[frozenset[str]] = frozenset({"birthday"})


def is_greeting(anchor: str) -> bool:
    return anchor in GREETING_ANCHORS


class Verdict(StrEnum):
    SEND = "send"
    # Not yet: before the hours of its day, after them (it is then missed at local midnight), or a later day.
    WAIT = "wait"
    # Its local day is over and it did not go out: it must not go out on another day.
    MISSED = "missed"
    # Its day is a weekend or a holiday and it is not a greeting.
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
    *, send_on: dt.date, local_now: dt.datetime, hours: MessageHours, is_greeting: bool, is_working_day: bool
) -> Verdict:
    """May a message meant for ``send_on`` go out at ``local_now`` (the dealership's wall clock)?

    ``is_working_day`` is about ``local_now``'s date (it only matters when that is ``send_on``).
    """
    today = local_now.date()
    if send_on < today:
        return Verdict.MISSED
    if send_on > today:
        return Verdict.WAIT
    if not is_greeting and not is_working_day:
        return Verdict.CLOSED_DAY
    if not hours.contains(local_now.time().replace(tzinfo=None)):
        return Verdict.WAIT
    return Verdict.SEND
