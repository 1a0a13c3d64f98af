"""The daily queue build: open touchpoints + contact history + rules → today's call tasks and messages.

``build`` runs it for one dealership and day; ``calendar`` says when and under which rules;
``households`` groups the customers; ``resolving`` and ``issuing`` are its two steps; ``rendering``
writes what agents read and customers receive.
"""

from __future__ import annotations

from contacts.queues.build import (
    CUSTOMER_CHUNK,
    build_queue,
    counts_of,
    finish_build,
    refresh_call_task_statistics,
    resolve_build_chunk,
    start_build,
    unfinished_chunks,
)
from contacts.queues.calendar import capacity_for, dealerships_due, holiday_dates, resolver_rules
from contacts.queues.households import HISTORY_DAYS, LOOKAHEAD_DAYS, Household
from contacts.queues.rendering import AGENT_MARKER, why
from contacts.queues.resolving import BuildCounts, Candidate, write_resolutions

__all__ = [
    "AGENT_MARKER", "CUSTOMER_CHUNK", "HISTORY_DAYS", "LOOKAHEAD_DAYS", "BuildCounts", "Candidate", "Household",
    "build_queue", "capacity_for", "counts_of", "finish_build", "resolve_build_chunk", "start_build",
    "unfinished_chunks", "dealerships_due", "holiday_dates", "refresh_call_task_statistics",
    "resolver_rules", "why", "write_resolutions",
]
