"""Step one of the build: every household resolved by the pure resolver (contacts.core.pressure); the
verdicts and today's messages written; today's calls returned as candidates. A household that cannot
be resolved or written is recorded (contacts.problems) and skipped."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from django.db import transaction

from contacts.core import pressure
from contacts.core.program import ESSENTIAL_CODES
from contacts.models import (
    Anchor,
    Explanation,
    ExplanationItem,
    OutboxMessage,
    Problem,
    Touchpoint,
    TouchpointTemplate,
)
from contacts.problems import record_problem
from contacts.queues.households import (
    LOOKAHEAD_DAYS,
    CustomerFacts,
    Household,
    contact_history,
    customer_facts,
)
from contacts.queues.rendering import message_for
from contacts.refusals import refusal_resolution
from customers import bulk
from customers.models import Customer, Dealership, VehicleForecast

logger = logging.getLogger(__name__)


@dataclass
class BuildCounts:
    customers: int = 0
    calls: int = 0
    messages: int = 0
    suppressed: int = 0
    deferred: int = 0
    over_capacity: int = 0
    carried_over: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        return {
            "customers": self.customers,
            "calls": self.calls,
            "messages": self.messages,
            "suppressed": self.suppressed,
            "deferred": self.deferred,
            "over_capacity": self.over_capacity,
            "carried_over": self.carried_over,
        }


@dataclass(frozen=True)
class Candidate:
    """A call the resolver placed on the build day, before capacity decides whether it is made today."""

    plan: pressure.CallPlan
    priority: int
    explanation: Explanation
    # Customers of other dealerships of the group who share the household's phone.
    relatives: tuple[int, ...] = ()

    @property
    def order(self) -> tuple[int, dt.date, int, str]:
        # Capacity takes the most urgent first: priority, then the deadline (DESIGN.md).
        return (self.priority, self.plan.window_end, self.plan.customer_id, self.plan.key)


_ITEM_DATES = frozenset({"due_on", "window_start", "window_end"})
_ITEM_FIELDS = tuple(f.name for f in fields(pressure.Item))


def candidate_to_json(candidate: Candidate) -> dict[str, Any]:
    """A candidate as JSON, for a build chunk's record (contacts.queues.build): the capacity pass reads
    the chunks' candidates back from the database, one chunk at a time."""
    plan = candidate.plan
    return {
        "key": plan.key, "customer_id": plan.customer_id, "scheduled_on": plan.scheduled_on.isoformat(),
        "window_start": plan.window_start.isoformat(), "window_end": plan.window_end.isoformat(),
        "is_requested": plan.is_requested, "priority": candidate.priority, "explanation": candidate.explanation,
        "relatives": list(candidate.relatives),
        "agenda": [
            [value.isoformat() if name in _ITEM_DATES else value for name, value in zip(
                _ITEM_FIELDS, (getattr(item, name) for name in _ITEM_FIELDS), strict=True
            )]
            for item in plan.agenda
        ],
    }


def candidate_from_json(data: dict[str, Any]) -> Candidate:
    def item(values: list[Any]) -> pressure.Item:
        named: dict[str, Any] = {
            name: dt.date.fromisoformat(value) if name in _ITEM_DATES else value
            for name, value in zip(_ITEM_FIELDS, values, strict=True)
        }
        return pressure.Item(**named)

    agenda = tuple(item(values) for values in data["agenda"])
    plan = pressure.CallPlan(
        key=data["key"], customer_id=data["customer_id"], scheduled_on=dt.date.fromisoformat(data["scheduled_on"]),
        window_start=dt.date.fromisoformat(data["window_start"]), window_end=dt.date.fromisoformat(data["window_end"]),
        agenda=agenda, is_requested=data["is_requested"],
    )
    return Candidate(plan=plan, priority=data["priority"], explanation=data["explanation"],
                     relatives=tuple(data["relatives"]))


# The columns of an open touchpoint the resolver reads (a chunk holds tens of thousands: plain tuples).
_TP_COLUMNS = ("id", "customer_id", "vehicle_id", "template_id", "due_on", "window_start", "window_end", "reason", "resolution")


@dataclass
class _HouseholdResult:
    household: Household
    verdicts: dict[int, str]
    messages: list[pressure.MessagePlan]


def resolve_chunk(
    *,
    dealership: Dealership,
    households: list[Household],
    templates: dict[int, TouchpointTemplate],
    resolver: pressure.Rules,
    day: dt.date,
    counts: BuildCounts,
    now: dt.datetime,
) -> list[Candidate]:
    """Resolve these households: write the verdicts and today's messages; return today's calls.

    A household that cannot be resolved or written is recorded (contacts.problems) and skipped; the
    rest of the chunk goes on."""
    customer_ids = [cid for group in households for cid in group.members]
    relative_ids = [cid for group in households for cid in group.relatives]
    customers = customer_facts(customer_ids)
    by_customer: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    current: dict[int, str] = {}
    for row in Touchpoint.objects.filter(
        customer_id__in=customer_ids,
        status=Touchpoint.Status.PLANNED,
        window_start__lte=day + dt.timedelta(days=LOOKAHEAD_DAYS),
    ).values_list(*_TP_COLUMNS):
        by_customer[row[1]].append(row)
        current[row[0]] = row[8]
    history_calls, history_messages = contact_history(customer_ids + relative_ids, day=day)

    candidates: list[Candidate] = []
    results: list[_HouseholdResult] = []
    for group in households:
        group_touchpoints = [tp for cid in group.members for tp in by_customer.get(cid, [])]
        if not group_touchpoints:
            continue
        everyone = group.members + group.relatives
        verdicts: dict[int, str] = {}
        try:
            members = {cid: customers[cid] for cid in group.members if cid in customers}
            resolution, explanation = resolve_household(
                members=members,
                touchpoints=group_touchpoints,
                templates=templates,
                history=pressure.History(
                    calls=tuple(c for cid in everyone for c in history_calls.get(cid, [])),
                    message_dates=tuple(d for cid in everyone for d in history_messages.get(cid, [])),
                ),
                resolver=resolver,
                day=day,
                verdicts=verdicts,
            )
        except Exception as error:  # noqa: BLE001 - one household never fails the dealership's build
            _record(dealership, day, group, error, now)
            continue
        for plan in resolution.calls:
            if plan.scheduled_on == day and plan.agenda:
                candidates.append(
                    Candidate(
                        plan=plan,
                        priority=min(item.priority for item in plan.agenda),
                        explanation=explanation.get(plan.customer_id, {}),
                        relatives=group.relatives,
                    )
                )
        results.append(
            _HouseholdResult(group, verdicts, [message for message in resolution.messages if message.send_on == day])
        )
    _write_households(dealership=dealership, results=results, current=current, day=day, counts=counts, now=now)
    return candidates


def _write_households(
    *, dealership: Dealership, results: list[_HouseholdResult], current: dict[int, str], day: dt.date,
    counts: BuildCounts, now: dt.datetime,
) -> None:
    """The chunk's verdicts and messages in one transaction; if that fails, household by household, so
    that only the household at fault is left out (and recorded)."""
    try:
        with transaction.atomic():
            tally = BuildCounts()
            _write_verdicts(verdicts={k: v for r in results for k, v in r.verdicts.items()}, current=current, counts=tally)
            write_messages(dealership=dealership, plans=[m for r in results for m in r.messages], day=day, counts=tally)
    except Exception:  # noqa: BLE001 - retried one household at a time below
        logger.warning("build_queue %s %s: a chunk failed to write, writing household by household", dealership.code, day)
    else:
        _add_counts(counts, tally)
        return
    for result in results:
        try:
            with transaction.atomic():
                tally = BuildCounts()
                _write_verdicts(verdicts=result.verdicts, current=current, counts=tally)
                write_messages(dealership=dealership, plans=result.messages, day=day, counts=tally)
        except Exception as error:  # noqa: BLE001 - recorded, the rest goes on
            _record(dealership, day, result.household, error, now)
        else:
            _add_counts(counts, tally)


def _add_counts(counts: BuildCounts, tally: BuildCounts) -> None:
    counts.suppressed += tally.suppressed
    counts.deferred += tally.deferred
    counts.messages += tally.messages


def _record(dealership: Dealership, day: dt.date, household: Household, error: BaseException, now: dt.datetime) -> None:
    record_problem(
        stage=Problem.Stage.BUILD, day=day, subject=household.subject, error=error, now=now,
        dealership_id=dealership.id, customer_id=household.members[0],
    )


def resolve_household(
    *,
    members: dict[int, CustomerFacts],
    touchpoints: list[tuple[Any, ...]],
    templates: dict[int, TouchpointTemplate],
    history: pressure.History,
    resolver: pressure.Rules,
    day: dt.date,
    verdicts: dict[int, str],
) -> tuple[pressure.Resolution, dict[int, Explanation]]:
    holdout = {cid for cid, facts in members.items() if facts.is_holdout}
    items = []
    for tp_id, customer_id, vehicle_id, template_id, due_on, window_start, window_end, reason, _resolution in touchpoints:
        if customer_id in holdout:
            verdicts[tp_id] = "suppressed:holdout"
            continue
        template = templates[template_id]
        # A refused purpose (no sales calls, say) is the one refusal the pure resolver cannot see: it
        # knows channels. A channel refused whole is left to it (do_not_contact:<channel>).
        purpose = template.purpose
        facts_of = members.get(customer_id)
        if facts_of is not None and template.channel not in facts_of.blocked and facts_of.refuses(template.channel, purpose):
            verdicts[tp_id] = "suppressed:" + refusal_resolution(template.channel, purpose)
            continue
        items.append(
            pressure.Item(
                touchpoint_id=tp_id,
                customer_id=customer_id,
                vehicle_id=vehicle_id,
                code=template.code,
                department=template.department.code,
                channel=template.channel,
                due_on=due_on,
                window_start=window_start,
                window_end=window_end,
                priority=template.priority,
                reason=reason,
                is_greeting=template.anchor == Anchor.BIRTHDAY,
                may_go_on_days_off=template.may_go_on_days_off,
                is_essential=template.code in ESSENTIAL_CODES,
            )
        )
    facts = list(members.values())
    shared_blocks = frozenset.intersection(*(f.blocked for f in facts)) if facts else frozenset()
    resolution = pressure.resolve(
        items,
        history=history,
        blocked_channels=shared_blocks,
        blocked_channels_by_customer={cid: f.blocked for cid, f in members.items()},
        is_phone_reachable=all(f.is_phone_reachable for f in facts),
        rules=resolver,
        today=day,
    )
    explanation: dict[int, dict[str, list[ExplanationItem]]] = defaultdict(lambda: defaultdict(list))
    codes = {row[0]: (row[1], templates[row[3]].code) for row in touchpoints}
    for decision in resolution.decisions:
        customer_id, code = codes[decision.touchpoint_id]
        if decision.outcome == "suppressed":
            verdicts[decision.touchpoint_id] = f"suppressed:{decision.reason}"
        elif decision.outcome in ("deferred", "placed", "merged") and decision.placed_on != day:
            verdicts[decision.touchpoint_id] = decision.reason if decision.outcome == "deferred" else f"planned:{decision.placed_on}"
        if decision.outcome in ("merged", "deferred", "suppressed"):
            explanation[customer_id][decision.outcome].append(
                ExplanationItem(code=code, reason=decision.reason, detail=decision.detail,
                                on=decision.placed_on.isoformat() if decision.placed_on else "")
            )
    return resolution, {k: dict(v) for k, v in explanation.items()}


def _write_verdicts(*, verdicts: dict[int, str], current: dict[int, str], counts: BuildCounts) -> None:
    """The resolver's word on each touchpoint that did not become a call or message today, written
    where it changed, and only to touchpoints still planned (a concurrent build or a do-not-call may
    have moved one meanwhile). A chunk's thousands of verdicts go in one statement (customers.bulk)."""
    rows: list[tuple[int, str, str]] = []  # id, status, resolution
    for touchpoint_id, verdict in verdicts.items():
        if verdict.startswith("suppressed:"):
            rows.append((touchpoint_id, Touchpoint.Status.SUPPRESSED, verdict.removeprefix("suppressed:")[:80]))
            counts.suppressed += 1
        elif current.get(touchpoint_id) != verdict[:80]:
            rows.append((touchpoint_id, Touchpoint.Status.PLANNED, verdict[:80]))
            counts.deferred += 1
    write_resolutions(rows)


def write_resolutions(rows: Sequence[tuple[int, str, str]]) -> None:
    """Set (status, resolution) of planned touchpoints given as (id, status, resolution)."""
    if bulk.uses_copy(len(rows)):
        bulk.update("contacts_touchpoint", ("id", "status", "resolution"), rows, key="id", where="t.status = 'planned'")
        return
    by_value: dict[tuple[str, str], list[int]] = defaultdict(list)
    for touchpoint_id, status, resolution in rows:
        by_value[(status, resolution)].append(touchpoint_id)
    for (status, resolution), ids in by_value.items():
        Touchpoint.objects.filter(id__in=ids, status=Touchpoint.Status.PLANNED).update(status=status, resolution=resolution)


def write_messages(*, dealership: Dealership, plans: list[pressure.MessagePlan], day: dt.date, counts: BuildCounts) -> None:
    """Today's messages, rendered, into the outbox (inside the caller's transaction)."""
    if not plans:
        return
    customers, still_open = lock_still_open({m.customer_id for m in plans}, {m.touchpoint_id for m in plans})
    touchpoints = touchpoints_to_render(still_open)
    forecasts = forecasts_of({tp.vehicle_id for tp in touchpoints.values()})
    messages = []
    for plan in plans:
        customer = customers.get(plan.customer_id)
        tp = touchpoints.get(plan.touchpoint_id)
        if customer is None or tp is None or not customer.allows(tp.template.channel, tp.template.purpose):
            continue
        message = message_for(dealership=dealership, customer=customer, tp=tp, forecasts=forecasts, day=day)
        if message.recipient:
            messages.append(message)
    OutboxMessage.objects.bulk_create(messages, batch_size=1000, ignore_conflicts=True)
    Touchpoint.objects.filter(id__in=[m.touchpoint_id for m in messages], status=Touchpoint.Status.PLANNED).update(
        status=Touchpoint.Status.ISSUED, resolution="placed"
    )
    counts.messages += len(messages)


def lock_still_open(customer_ids: set[int], touchpoint_ids: set[int]) -> tuple[dict[int, Customer], set[int]]:
    """Lock these customers, as a do-not-call does (contacts.calls.set_do_not_contact), and read again
    which of the touchpoints are still planned. A refusal recorded while the build ran either came
    first, and its touchpoints are suppressed by now, or it waits for this transaction and cancels
    what it wrote; what a concurrent build of the same day issued first is no longer planned."""
    customers = {
        c.id: c
        # In id order: two builds locking overlapping households (the group's dealerships) never deadlock.
        for c in Customer.objects.select_for_update(of=("self",)).filter(id__in=customer_ids).order_by("id")
        .prefetch_related("consents")
    }
    # A planned touchpoint already on a call or a message is never put on another (the re-plan does
    # not reopen those; this guards the build against any other path that would).
    still_open = set(
        Touchpoint.objects.filter(
            id__in=touchpoint_ids, status=Touchpoint.Status.PLANNED, call_item__isnull=True, message__isnull=True
        ).values_list("id", flat=True)
    )
    return customers, still_open


def touchpoints_to_render(ids: set[int]) -> dict[int, Touchpoint]:
    return {
        tp.id: tp
        for tp in Touchpoint.objects.filter(id__in=ids).select_related("template", "template__department", "vehicle")
    }


def forecasts_of(vehicle_ids: set[int]) -> dict[int, VehicleForecast]:
    return {f.vehicle_id: f for f in VehicleForecast.objects.filter(vehicle_id__in=vehicle_ids)}
