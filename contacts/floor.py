"""The supervisor's floor as a read model: who works, who is on which call, today's capacity, what waits.

``floor_summary`` reads a fixed number of queries whatever the number of dealerships, agents or calls
(tests/contacts/test_floor.py counts them): every per-dealership figure is one grouped query over all
the supervisor's dealerships, each dealership's "today" taken in its own time zone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Avg, Count, DurationField, F, Max, Min, Q

from contacts.calls import local_day_bounds, queue_for
from contacts.models import (
    REACHED_OUTCOMES,
    AgentPresence,
    CallAttempt,
    CallTask,
    ContactRules,
    DailyCapacity,
)
from customers import access
from customers.models import Dealership

FLOOR_WAITING_ROWS = 15


@dataclass(frozen=True)
class ClaimRow:
    """A call in progress: how long it has been held, whether too long, and whom it may be given to."""

    task: CallTask
    age_minutes: int
    is_stale: bool
    assignable: list[User]


class AgentState:
    """What an agent is doing now: their open claim, what they said (contacts.presence), their outcomes."""

    ON_A_CALL = "on_a_call"  # holds a claim
    PAUSED = "paused"  # chose "pause after this call" or the queue's Pause, and took no call since
    LOGGED_OUT = "logged_out"  # logged out, and not back since
    BETWEEN_CALLS = "between_calls"  # recorded an outcome within BETWEEN_CALLS_MINUTES
    READY = "ready"  # logged in or took the next call, no outcome yet
    AWAY = "away"  # worked today, but not for a while, and said nothing
    NOT_STARTED = "not_started"  # no call today, not logged in today


# An agent whose last outcome is older than this, with no call open, is away (a break, a meeting).
BETWEEN_CALLS_MINUTES = 10


@dataclass(frozen=True)
class AgentRow:
    user: User
    calls: int
    reached: int
    reach_rate: int | None  # percent, None before the first call
    claim: ClaimRow | None
    state: str = AgentState.NOT_STARTED
    minutes_in_state: int | None = None  # since the claim, or since the last outcome
    calls_per_hour: float | None = None  # over the span from the first call's start to now
    handling_minutes: float | None = None  # mean claim-to-outcome time of today's calls
    dealerships: tuple[Dealership, ...] = ()  # those of the floor the agent works for, in the floor's order


@dataclass(frozen=True)
class CapacityRow:
    dealership: Dealership
    agents_on_shift: int
    is_default: bool  # nobody set today's figure: the rules' default applies
    calls: int
    done: int
    left: int


@dataclass(frozen=True)
class WaitingRow:
    task: CallTask
    assignable: list[User]


@dataclass(frozen=True)
class FloorSummary:
    agents: list[AgentRow]
    claims: list[ClaimRow]
    stale_count: int
    capacities: list[CapacityRow]
    waiting: list[WaitingRow]
    done: int
    reach_rate: int | None


def _agent_state(claim: ClaimRow | None, last_ended: dt.datetime | None, presence: tuple[str, dt.datetime] | None,
                 now: dt.datetime, day_start: dt.datetime) -> tuple[str, int | None]:
    """The agent's state and its minutes: a claim first, then what they said, then their outcomes."""
    if claim is not None:
        return AgentState.ON_A_CALL, claim.age_minutes
    said, since = presence if presence is not None else (None, None)
    if since is not None and since < day_start:
        said = since = None  # yesterday's word says nothing about today
    if said in (AgentState.PAUSED, AgentState.LOGGED_OUT) and since is not None:
        return said, int((now - since).total_seconds() // 60)
    if last_ended is not None and (since is None or last_ended >= since):
        minutes = int((now - last_ended).total_seconds() // 60)
        return (AgentState.BETWEEN_CALLS if minutes < BETWEEN_CALLS_MINUTES else AgentState.AWAY), minutes
    if said == AgentState.READY and since is not None:
        return AgentState.READY, int((now - since).total_seconds() // 60)
    return AgentState.NOT_STARTED, None


def _agent_row(person: User, count: dict[str, Any], claim: ClaimRow | None, now: dt.datetime,
               dealerships: tuple[Dealership, ...], presence: tuple[str, dt.datetime] | None,
               day_start: dt.datetime) -> AgentRow:
    last_ended, first_started, handling = count.get("last_ended"), count.get("first_started"), count.get("handling")
    state, minutes = _agent_state(claim, last_ended, presence, now, day_start)
    hours = (now - first_started).total_seconds() / 3600 if first_started else 0
    return AgentRow(
        user=person, calls=count["calls"], reached=count["reached"], reach_rate=_rate(count["reached"], count["calls"]),
        claim=claim, state=state, minutes_in_state=minutes,
        calls_per_hour=round(count["calls"] / hours, 1) if hours >= 0.25 else None,
        handling_minutes=round(handling.total_seconds() / 60, 1) if handling is not None else None,
        dealerships=dealerships,
    )


def _rate(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


def floor_summary(
    *, dealerships: Sequence[Dealership], now: dt.datetime, day_start: dt.datetime, day_end: dt.datetime
) -> FloorSummary:
    """The floor of these dealerships at ``now``; agents' counts cover [day_start, day_end)."""
    ids = [d.pk for d in dealerships]
    stored = {r.dealership_id: r for r in ContactRules.objects.filter(dealership_id__in=ids)}
    rules = {d.pk: stored.get(d.pk) or ContactRules.for_dealership(d) for d in dealerships}
    dealerships_of_user: dict[int, set[int]] = defaultdict(set)
    for user_id, dealership_id in Dealership.staff.through.objects.filter(dealership_id__in=ids).values_list(
        "user_id", "dealership_id"
    ):
        dealerships_of_user[user_id].add(dealership_id)
    agents = list(
        User.objects.filter(pk__in=dealerships_of_user, groups__name=access.AGENT, is_active=True)
        .distinct()
        .order_by("first_name", "username")
    )

    def assignable(task: CallTask) -> list[User]:
        return [a for a in agents if task.dealership_id in dealerships_of_user.get(a.pk, set())]

    counts = {
        row["agent"]: row
        for row in CallAttempt.objects.filter(call_task__dealership_id__in=ids, ended_at__gte=day_start, ended_at__lt=day_end)
        .values("agent")
        .annotate(
            calls=Count("id"), reached=Count("id", filter=Q(outcome__in=REACHED_OUTCOMES)),
            first_started=Min("started_at"), last_ended=Max("ended_at"),
            handling=Avg(F("ended_at") - F("started_at"), output_field=DurationField()),
        )
    }
    claims = []
    for task in (
        CallTask.objects.filter(dealership_id__in=ids, status=CallTask.Status.CLAIMED)
        .select_related("claimed_by", "customer", "dealership")
        .order_by("claimed_at")
    ):
        minutes = int((now - task.claimed_at).total_seconds() // 60) if task.claimed_at else 0
        is_stale = minutes >= rules[task.dealership_id].claim_timeout_minutes
        claims.append(ClaimRow(task=task, age_minutes=minutes, is_stale=is_stale, assignable=assignable(task)))
    claim_of = {row.task.claimed_by_id: row for row in claims}
    # Anyone holding a claim appears, agent or not (a supervisor may take calls too).
    people = agents + [
        row.task.claimed_by for row in claims if row.task.claimed_by is not None and row.task.claimed_by not in agents
    ]
    # Agents grouped by dealership, in the floor's order (who works for the first and the second comes
    # between the two), then by name; someone of none of them (a superuser holding a call) last.
    position = {d.pk: i for i, d in enumerate(dealerships)}
    presences = {
        user_id: (state, since)
        for user_id, state, since in AgentPresence.objects.filter(user__in=people).values_list("user_id", "state", "since")
    }
    agent_rows = []
    for person in people:
        count = counts.get(person.pk, {"calls": 0, "reached": 0})
        works_for = tuple(d for d in dealerships if d.pk in dealerships_of_user.get(person.pk, set()))
        agent_rows.append(_agent_row(person, count, claim_of.get(person.pk), now, works_for, presences.get(person.pk),
                                     day_start))
    agent_rows.sort(key=lambda row: [position[d.pk] for d in row.dealerships] or [len(position)])
    done_calls = sum(r["calls"] for r in counts.values())
    return FloorSummary(
        agents=agent_rows,
        claims=claims,
        stale_count=sum(row.is_stale for row in claims),
        capacities=_capacities(dealerships, rules=rules, now=now),
        waiting=[
            WaitingRow(task=task, assignable=assignable(task))
            for task in queue_for(dealerships=dealerships, now=now)
            .select_related("customer", "assigned_to", "dealership")
            .order_by("priority", "window_end", "id")[:FLOOR_WAITING_ROWS]
        ],
        done=done_calls,
        reach_rate=_rate(sum(r["reached"] for r in counts.values()), done_calls),
    )


def _capacities(dealerships: Sequence[Dealership], *, rules: dict[int, ContactRules], now: dt.datetime) -> list[CapacityRow]:
    """Today's capacity, calls done and calls left per dealership: three grouped queries in all."""
    days = {d.pk: d.local_date(now) for d in dealerships}
    set_today = {
        (row.dealership_id, row.day): row
        for row in DailyCapacity.objects.filter(dealership_id__in=days, day__in=set(days.values()))
    }
    in_local_day = Q(pk__in=[])
    for dealership in dealerships:
        start, end = local_day_bounds(dealership, days[dealership.pk])
        in_local_day |= Q(call_task__dealership_id=dealership.pk, ended_at__gte=start, ended_at__lt=end)
    done = dict(
        CallAttempt.objects.filter(in_local_day).values("call_task__dealership_id").annotate(n=Count("id")).values_list(
            "call_task__dealership_id", "n"
        )
    )
    left = dict(
        queue_for(dealerships=dealerships, now=now).order_by().values("dealership_id").annotate(n=Count("id")).values_list(
            "dealership_id", "n"
        )
    )
    rows = []
    for dealership in dealerships:
        dealership_rules = rules[dealership.pk]
        capacity = set_today.get((dealership.pk, days[dealership.pk]))
        on_shift = capacity.agents_on_shift if capacity else dealership_rules.default_agents_on_shift
        rows.append(CapacityRow(
            dealership=dealership, agents_on_shift=on_shift, is_default=capacity is None,
            calls=on_shift * dealership_rules.calls_per_agent, done=done.get(dealership.pk, 0),
            left=left.get(dealership.pk, 0),
        ))
    return rows
