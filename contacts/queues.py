"""The daily queue build: open touchpoints + contact history + rules → today's call tasks and messages.

Runs once per dealership and local day (``QueueBuild`` marks it), in chunks of customers, each chunk
one transaction. For every household (customers sharing a phone) the pure resolver
(contacts.core.pressure) places the open touchpoints of the next weeks under the contact-pressure rules;
the calls it places on the build day become CallTasks with a rendered script, the messages it places
on the build day go to the outbox. Touchpoints it suppresses are marked with the reason; the rest stay
planned and are resolved again tomorrow with the new history, so a rerun, or a build killed half-way
and run again, gives the same tasks: a touchpoint already issued is history, not input.

The day's capacity (agents on shift × calls per agent) caps the new planned calls; the overflow stays
planned with the reason ``deferred:capacity`` and is placed on a later day, or, when its window
closes today, suppressed with ``window_closed:capacity``.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import holidays as holiday_calendars
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.core import pressure
from contacts.models import (
    CallTask,
    CallTaskItem,
    ContactRules,
    DailyCapacity,
    Department,
    OutboxMessage,
    Problem,
    QueueBuild,
    Touchpoint,
    TouchpointTemplate,
)
from contacts.problems import record_problem
from contacts.scripts import render_script
from customers import bulk
from customers.models import Channel, Consent, Customer, Dealership, VehicleForecast

logger = logging.getLogger(__name__)

# The resolver sees touchpoints whose window opens within this many days, so a call can wait a few
# days to carry a touchpoint that opens soon (merging), and history this far back for the caps.
LOOKAHEAD_DAYS = 30
HISTORY_DAYS = 366
# Customers per transaction: a chunk holds their touchpoints, tasks and history in memory.
CUSTOMER_CHUNK = 2000
# The script's stand-in for the agent's first name: the build renders it, the call screen replaces it.
AGENT_MARKER = "[[agent]]"


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


@functools.lru_cache(maxsize=64)
def holiday_dates(country: str, region: str, year: int) -> frozenset[dt.date]:
    """Public holidays of a country (and region) for one year; empty for an unknown country."""
    try:
        calendar = holiday_calendars.country_holidays(country, subdiv=region or None, years=[year])
    except NotImplementedError:
        return frozenset()
    return frozenset(calendar.keys())


def resolver_rules(*, rules: ContactRules, dealership: Dealership, first: dt.date, last: dt.date) -> pressure.Rules:
    """The resolver's rules for a dealership, with the public holidays of the years first..last (±1)."""
    department_priority = dict(Department.objects.values_list("code", "priority"))
    department_priority.update(rules.department_priorities or {})
    years = range(first.year - 1, last.year + 2)
    return pressure.Rules(
        min_days_between_calls=rules.min_days_between_calls,
        min_days_between_messages=rules.min_days_between_messages,
        max_calls_per_30_days=rules.max_calls_per_30_days,
        max_calls_per_365_days=rules.max_calls_per_365_days,
        merge_window_days=rules.merge_window_days,
        department_priority=department_priority,
        working_weekdays=frozenset(int(c) - 1 for c in rules.working_weekdays),
        holidays=frozenset().union(*(holiday_dates(dealership.country, dealership.region, y) for y in years)),
    )


def capacity_for(*, dealership: Dealership, rules: ContactRules, day: dt.date) -> int:
    row = DailyCapacity.objects.filter(dealership=dealership, day=day).first()
    agents = row.agents_on_shift if row else rules.default_agents_on_shift
    return agents * rules.calls_per_agent


def build_queue(*, dealership: Dealership, day: dt.date, now: dt.datetime | None = None) -> BuildCounts:
    """Build one dealership's queue for one local day. Idempotent; safe to run twice at once.

    Two steps. First every household is resolved, chunk by chunk: verdicts (suppressed, deferred) and
    today's messages are written, and today's calls are collected as candidates, not yet written.
    Then the day's capacity picks the candidates by priority and deadline, and only those become call
    tasks with a rendered script: on a first build the resolver places a hundred times more calls on
    the day than agents can make, and writing them all to delete most of them again was most of the time.
    """
    frozen_now = now or timezone.now()
    build, _created = QueueBuild.objects.get_or_create(dealership=dealership, day=day)
    if build.finished_at is not None:
        return BuildCounts(**{k: v for k, v in build.counts.items() if k in BuildCounts.__dataclass_fields__})
    rules = ContactRules.for_dealership(dealership)
    resolver = resolver_rules(rules=rules, dealership=dealership, first=day, last=day)
    counts = BuildCounts()
    counts.carried_over = CallTask.objects.filter(
        dealership=dealership, scheduled_on__lt=day, status__in=[CallTask.Status.OPEN, CallTask.Status.CLAIMED]
    ).count()
    _expire_past_tasks(dealership=dealership, day=day)
    templates = {t.id: t for t in TouchpointTemplate.objects.select_related("department")}
    households = _households(dealership=dealership, day=day)
    candidates: list[Candidate] = []
    for start in range(0, len(households), CUSTOMER_CHUNK):
        candidates += _resolve_chunk(
            dealership=dealership,
            households=households[start : start + CUSTOMER_CHUNK],
            templates=templates,
            resolver=resolver,
            day=day,
            counts=counts,
            now=frozen_now,
        )
    counts.customers = sum(len(group.members) for group in households)
    counts.over_capacity = _issue_calls(
        dealership=dealership, build=build, rules=rules, day=day, candidates=candidates, counts=counts,
        now=frozen_now,
    )
    QueueBuild.objects.filter(pk=build.pk).update(finished_at=frozen_now, counts=counts.as_dict())
    refresh_call_task_statistics()
    logger.info("build_queue %s %s: %s", dealership.code, day, counts.as_dict())
    return counts


def refresh_call_task_statistics() -> None:
    """ANALYZE the call tasks once the day's are written. With statistics from before the build the
    planner expects a handful of open calls, answers "next call" from the day's index and sorts every
    open call, ~50 ms at 20,000 of them; fresh, it walks the claim-order index and stops at the first."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE contacts_calltask")


@dataclass(frozen=True)
class Candidate:
    """A call the resolver placed on the build day, before capacity decides whether it is made today."""

    plan: pressure.CallPlan
    priority: int
    explanation: dict[str, list[dict[str, str]]]
    # Customers of other dealerships of the group who share the household's phone.
    relatives: tuple[int, ...] = ()

    @property
    def order(self) -> tuple[int, dt.date, int, str]:
        # Capacity takes the most urgent first: priority, then the deadline (DESIGN.md).
        return (self.priority, self.plan.window_end, self.plan.customer_id, self.plan.key)


@dataclass(frozen=True)
class CustomerFacts:
    is_holdout: bool
    is_phone_reachable: bool
    blocked: frozenset[str]


@dataclass(frozen=True, order=True)
class Household:
    """Customers of this dealership who share a phone (one budget for calls), and the customers of the
    group's other dealerships with that phone: their calls and messages count against the same budget
    (``CLM_HOUSEHOLD_ACROSS_DEALERSHIPS``), though only this dealership's touchpoints are placed here."""

    members: tuple[int, ...]
    relatives: tuple[int, ...] = ()

    @property
    def subject(self) -> str:
        return "household:" + ",".join(map(str, self.members))


def _households(*, dealership: Dealership, day: dt.date) -> list[Household]:
    """Customers with open touchpoints in the lookahead, grouped by shared phone number (one household
    for calls), in a stable order."""
    wanted = set(
        Touchpoint.objects.filter(
            customer__dealership=dealership,
            status=Touchpoint.Status.PLANNED,
            window_start__lte=day + dt.timedelta(days=LOOKAHEAD_DAYS),
        )
        .values_list("customer_id", flat=True)
        .distinct()
    )
    by_phone: dict[str, list[int]] = defaultdict(list)
    alone: list[Household] = []
    # The dealership's customers are read whole: an IN list of every wanted id would cost more.
    for customer_id, phone in Customer.objects.filter(dealership=dealership).values_list("id", "phone"):
        if customer_id not in wanted:
            continue
        if phone:
            by_phone[phone].append(customer_id)
        else:
            alone.append(Household((customer_id,)))
    relatives: dict[str, list[int]] = defaultdict(list)
    if settings.CLM_HOUSEHOLD_ACROSS_DEALERSHIPS and by_phone:
        for customer_id, phone in (
            Customer.objects.exclude(dealership=dealership).exclude(phone="").values_list("id", "phone").iterator(5000)
        ):
            if phone in by_phone:
                relatives[phone].append(customer_id)
    groups = [Household(tuple(sorted(ids)), tuple(sorted(relatives.get(phone, ())))) for phone, ids in by_phone.items()]
    return sorted(groups + alone)


def _expire_past_tasks(*, dealership: Dealership, day: dt.date) -> None:
    """Unfinished tasks whose window closed before today are cancelled (``expired``). Their touchpoints
    whose own window is still open go back to the plan, off the dead call (its agenda keeps the record),
    to be placed again; the others are closed with ``window_closed:not_called``."""
    expired = list(
        CallTask.objects.filter(dealership=dealership, status=CallTask.Status.OPEN, window_end__lt=day).values_list(
            "id", flat=True
        )
    )
    if not expired:
        return
    with transaction.atomic():
        CallTask.objects.filter(id__in=expired, status=CallTask.Status.OPEN).update(
            status=CallTask.Status.CANCELLED, outcome="expired"
        )
        issued = Touchpoint.objects.filter(call_item__call_task_id__in=expired, status=Touchpoint.Status.ISSUED)
        still_open = list(issued.filter(window_end__gte=day).values_list("id", flat=True))
        CallTaskItem.objects.filter(touchpoint_id__in=still_open).delete()
        Touchpoint.objects.filter(id__in=still_open, status=Touchpoint.Status.ISSUED).update(
            status=Touchpoint.Status.PLANNED, resolution="reopened:call_expired"
        )
        issued.update(status=Touchpoint.Status.SUPPRESSED, resolution="window_closed:not_called")


def _customer_facts(customer_ids: Sequence[int]) -> dict[int, CustomerFacts]:
    blocked: dict[int, set[str]] = defaultdict(set)
    for customer_id, channel in Consent.objects.filter(customer_id__in=customer_ids, is_allowed=False).values_list(
        "customer_id", "channel"
    ):
        blocked[customer_id].add(channel)
    return {
        customer_id: CustomerFacts(
            is_holdout=is_holdout,
            is_phone_reachable=phone != "" and unreachable_since is None,
            blocked=frozenset(blocked.get(customer_id, ())),
        )
        for customer_id, is_holdout, phone, unreachable_since in Customer.objects.filter(id__in=customer_ids).values_list(
            "id", "is_holdout", "phone", "phone_unreachable_since"
        )
    }


# The columns of an open touchpoint the resolver reads (a chunk holds tens of thousands: plain tuples).
_TP_COLUMNS = ("id", "customer_id", "vehicle_id", "template_id", "due_on", "window_start", "window_end", "reason", "resolution")


@dataclass
class _HouseholdResult:
    household: Household
    verdicts: dict[int, str]
    messages: list[pressure.MessagePlan]


def _resolve_chunk(
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
    customers = _customer_facts(customer_ids)
    by_customer: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    current: dict[int, str] = {}
    for row in Touchpoint.objects.filter(
        customer_id__in=customer_ids,
        status=Touchpoint.Status.PLANNED,
        window_start__lte=day + dt.timedelta(days=LOOKAHEAD_DAYS),
    ).values_list(*_TP_COLUMNS):
        by_customer[row[1]].append(row)
        current[row[0]] = row[8]
    history_calls, history_messages = _history(customer_ids + relative_ids, day=day)

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
            resolution, explanation = _resolve_household(
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


def _history(
    customer_ids: Sequence[int], *, day: dt.date
) -> tuple[dict[int, list[pressure.PastCall]], dict[int, list[dt.date]]]:
    """The calls and messages of these customers in the last HISTORY_DAYS, for the caps and gaps."""
    history_calls: dict[int, list[pressure.PastCall]] = defaultdict(list)
    for customer_id, scheduled_on, is_requested, outcome in CallTask.objects.filter(
        customer_id__in=customer_ids,
        scheduled_on__gte=day - dt.timedelta(days=HISTORY_DAYS),
    ).exclude(status=CallTask.Status.CANCELLED).values_list("customer_id", "scheduled_on", "is_requested", "outcome"):
        history_calls[customer_id].append(
            pressure.PastCall(on=scheduled_on, is_reached=outcome == "reached", is_requested=is_requested)
        )
    history_messages: dict[int, list[dt.date]] = defaultdict(list)
    for customer_id, send_on in OutboxMessage.objects.filter(
        customer_id__in=customer_ids, send_on__gte=day - dt.timedelta(days=HISTORY_DAYS)
    ).exclude(status=OutboxMessage.Status.CANCELLED).values_list("customer_id", "send_on"):
        history_messages[customer_id].append(send_on)
    return history_calls, history_messages


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
            _write_messages(dealership=dealership, plans=[m for r in results for m in r.messages], day=day, counts=tally)
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
                _write_messages(dealership=dealership, plans=result.messages, day=day, counts=tally)
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


def _resolve_household(
    *,
    members: dict[int, CustomerFacts],
    touchpoints: list[tuple[Any, ...]],
    templates: dict[int, TouchpointTemplate],
    history: pressure.History,
    resolver: pressure.Rules,
    day: dt.date,
    verdicts: dict[int, str],
) -> tuple[pressure.Resolution, dict[int, dict[str, list[dict[str, str]]]]]:
    holdout = {cid for cid, facts in members.items() if facts.is_holdout}
    items = []
    for tp_id, customer_id, vehicle_id, template_id, due_on, window_start, window_end, reason, _resolution in touchpoints:
        if customer_id in holdout:
            verdicts[tp_id] = "suppressed:holdout"
            continue
        template = templates[template_id]
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
    explanation: dict[int, dict[str, list[dict[str, str]]]] = defaultdict(lambda: defaultdict(list))
    codes = {row[0]: (row[1], templates[row[3]].code) for row in touchpoints}
    for decision in resolution.decisions:
        customer_id, code = codes[decision.touchpoint_id]
        if decision.outcome == "suppressed":
            verdicts[decision.touchpoint_id] = f"suppressed:{decision.reason}"
        elif decision.outcome in ("deferred", "placed", "merged") and decision.placed_on != day:
            verdicts[decision.touchpoint_id] = decision.reason if decision.outcome == "deferred" else f"planned:{decision.placed_on}"
        if decision.outcome in ("merged", "deferred", "suppressed"):
            explanation[customer_id][decision.outcome].append(
                {"code": code, "reason": decision.reason, "detail": decision.detail,
                 "on": decision.placed_on.isoformat() if decision.placed_on else ""}
            )
    return resolution, {k: dict(v) for k, v in explanation.items()}


def why(reason: str, detail: dict[str, str]) -> str:
    """One line an agent reads: why this touchpoint is on the call (in the current language)."""
    if "due_on" in detail and "km_per_month" in detail:
        return _("maintenance due %(due)s (TO-%(n)s), predicted from %(kpm)s km a month") % {
            "due": detail["due_on"], "n": detail.get("maintenance_number", "?"), "kpm": round(float(detail["km_per_month"]))
        }
    if "due_on" in detail:
        return _("maintenance due %(due)s") % {"due": detail["due_on"]}
    if "warranty_end_on" in detail:
        return _("warranty ends %(day)s") % {"day": detail["warranty_end_on"]}
    if "visited_on" in detail:
        return _("after the service visit of %(day)s") % {"day": detail["visited_on"]}
    if "sold_on" in detail:
        return _("bought on %(day)s") % {"day": detail["sold_on"]}
    return reason


def _context(customer: Customer, tp: Touchpoint, forecast: VehicleForecast | None, dealership: Dealership) -> dict[str, Any]:
    return {
        "customer": customer,
        "vehicle": tp.vehicle,
        # Rounded for reading aloud: "about 1,420 km a month", not 1419.7.
        "forecast": None
        if forecast is None
        else {
            "next_due_on": forecast.next_due_on,
            "km_per_month": round(forecast.km_per_month),
            "odometer_today_km": forecast.odometer_today_km,
            "due_odometer_km": forecast.due_odometer_km,
            "interval_number": forecast.interval_number,
        },
        "dealership": dealership,
        "agent": {"first_name": AGENT_MARKER, "last_name": "", "username": AGENT_MARKER},
        "touchpoint": tp,
    }


def _call_task(
    *,
    dealership: Dealership,
    customer: Customer,
    plan: pressure.CallPlan,
    agenda: list[Touchpoint],
    forecasts: dict[int, VehicleForecast],
    explanation: dict[str, list[dict[str, str]]],
    gap_days: int,
) -> CallTask:
    sections = []
    items = []
    language = customer.language
    for tp in agenda:
        forecast = forecasts.get(tp.vehicle_id)
        title = tp.template.name_ru if language == "ru" else tp.template.name_en
        body = render_script(tp.template.script_for(language), _context(customer, tp, forecast, dealership))
        sections.append(f"## {title} — {tp.vehicle.make} {tp.vehicle.model}\n{body}")
        items.append(
            {
                "touchpoint_id": tp.id,
                "code": tp.template.code,
                "title": title,
                "department": tp.template.department.code,
                "vehicle": f"{tp.vehicle.make} {tp.vehicle.model} {tp.vehicle.plate}".strip(),
                "why": why(tp.reason, tp.reason_detail or {}),
                "reason": tp.reason,
                "detail": tp.reason_detail or {},
                "template_version": tp.template.version,
            }
        )
    return CallTask(
        dealership=dealership,
        customer=customer,
        kind=CallTask.Kind.PLANNED,
        is_requested=plan.is_requested,
        scheduled_on=plan.scheduled_on,
        window_start=min(plan.window_start, plan.scheduled_on),
        window_end=max(plan.window_end, plan.scheduled_on),
        blocks_until=plan.scheduled_on + dt.timedelta(days=max(1, gap_days)),
        priority=min(tp.template.priority for tp in agenda),
        agenda=items,
        script="\n\n".join(sections),
        explanation=explanation,
    )


def _message(
    *, dealership: Dealership, customer: Customer, tp: Touchpoint, forecasts: dict[int, VehicleForecast], day: dt.date
) -> OutboxMessage:
    body = render_script(tp.template.script_for(customer.language), _context(customer, tp, forecasts.get(tp.vehicle_id), dealership))
    recipient = customer.email if tp.template.channel == "email" else customer.phone
    return OutboxMessage(
        dealership=dealership,
        customer=customer,
        touchpoint=tp,
        channel=tp.template.channel,
        recipient=recipient,
        body=body.replace(AGENT_MARKER, dealership.name),
        send_on=day,
    )


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


def _lock_still_open(customer_ids: set[int], touchpoint_ids: set[int]) -> tuple[dict[int, Customer], set[int]]:
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


def _touchpoints_to_render(ids: set[int]) -> dict[int, Touchpoint]:
    return {
        tp.id: tp
        for tp in Touchpoint.objects.filter(id__in=ids).select_related("template", "template__department", "vehicle")
    }


def _forecasts(vehicle_ids: set[int]) -> dict[int, VehicleForecast]:
    return {f.vehicle_id: f for f in VehicleForecast.objects.filter(vehicle_id__in=vehicle_ids)}


def _write_messages(*, dealership: Dealership, plans: list[pressure.MessagePlan], day: dt.date, counts: BuildCounts) -> None:
    """Today's messages, rendered, into the outbox (inside the caller's transaction)."""
    if not plans:
        return
    customers, still_open = _lock_still_open({m.customer_id for m in plans}, {m.touchpoint_id for m in plans})
    touchpoints = _touchpoints_to_render(still_open)
    forecasts = _forecasts({tp.vehicle_id for tp in touchpoints.values()})
    messages = []
    for plan in plans:
        customer = customers.get(plan.customer_id)
        tp = touchpoints.get(plan.touchpoint_id)
        if customer is None or tp is None or tp.template.channel in customer.blocked_channels():
            continue
        message = _message(dealership=dealership, customer=customer, tp=tp, forecasts=forecasts, day=day)
        if message.recipient:
            messages.append(message)
    OutboxMessage.objects.bulk_create(messages, batch_size=1000, ignore_conflicts=True)
    Touchpoint.objects.filter(id__in=[m.touchpoint_id for m in messages], status=Touchpoint.Status.PLANNED).update(
        status=Touchpoint.Status.ISSUED, resolution="placed"
    )
    counts.messages += len(messages)


def _issue_calls(
    *,
    dealership: Dealership,
    build: QueueBuild,
    rules: ContactRules,
    day: dt.date,
    candidates: list[Candidate],
    counts: BuildCounts,
    now: dt.datetime,
) -> int:
    """Write today's calls within capacity, most urgent first; the rest wait with the reason
    ``deferred:capacity`` or, when their window closes today, are suppressed (``window_closed:capacity``).
    Requested calls (a callback, a hand-off) and carried-over tasks count against capacity but are never
    moved. Returns how many candidates capacity moved.

    The calls go in one transaction; if that fails, one call at a time, so that a bad customer is
    recorded (contacts.problems) and left out, not the whole dealership's day."""
    capacity = capacity_for(dealership=dealership, rules=rules, day=day)
    try:
        with transaction.atomic():
            return _issue_chosen(
                dealership=dealership, build=build, rules=rules, day=day, candidates=candidates, counts=counts,
                capacity=capacity,
            )
    except Exception:  # noqa: BLE001 - retried one call at a time below
        logger.warning("build_queue %s %s: issuing the day's calls failed, issuing them one by one", dealership.code, day)
    requested = [c for c in candidates if c.plan.is_requested]
    fresh = sorted((c for c in candidates if not c.plan.is_requested), key=lambda c: c.order)
    moved = 0
    for candidate in requested + fresh:
        try:
            with transaction.atomic():
                moved += _issue_chosen(
                    dealership=dealership, build=build, rules=rules, day=day, candidates=[candidate], counts=counts,
                    capacity=capacity,
                )
        except Exception as error:  # noqa: BLE001 - recorded, the rest goes on
            customer_id = candidate.plan.customer_id
            record_problem(
                stage=Problem.Stage.BUILD, day=day, subject=f"customer:{customer_id}", error=error, now=now,
                dealership_id=dealership.id, customer_id=customer_id,
            )
    return moved


def _issue_chosen(
    *,
    dealership: Dealership,
    build: QueueBuild,
    rules: ContactRules,
    day: dt.date,
    candidates: list[Candidate],
    counts: BuildCounts,
    capacity: int,
) -> int:
    """Inside the caller's transaction: the candidates capacity takes become call tasks."""
    # One issuer per dealership and day at a time: a concurrent build waits here, then finds the
    # calls and touchpoints this one issued.
    QueueBuild.objects.select_for_update().filter(pk=build.pk).first()
    in_queue = CallTask.objects.filter(
        dealership=dealership, scheduled_on__lte=day, status__in=[CallTask.Status.OPEN, CallTask.Status.CLAIMED]
    ).count()
    requested = [c for c in candidates if c.plan.is_requested]
    fresh = sorted((c for c in candidates if not c.plan.is_requested), key=lambda c: c.order)
    room = max(0, capacity - in_queue - len(requested))
    chosen, overflow = requested + fresh[:room], fresh[room:]
    customers, still_open = _lock_still_open(
        {c.plan.customer_id for c in chosen} | {r for c in chosen for r in c.relatives},
        {item.touchpoint_id for c in chosen for item in c.plan.agenda},
    )
    called_elsewhere = _called_recently(
        {r for c in chosen for r in c.relatives}, day=day, gap_days=rules.min_days_between_calls
    )
    touchpoints = _touchpoints_to_render(still_open)
    forecasts = _forecasts({tp.vehicle_id for tp in touchpoints.values()})
    new_tasks: list[tuple[CallTask, list[Touchpoint]]] = []
    for candidate in chosen:
        plan = candidate.plan
        customer = customers.get(plan.customer_id)
        agenda = [touchpoints[item.touchpoint_id] for item in plan.agenda if item.touchpoint_id in touchpoints]
        if customer is None or len(agenda) < len(plan.agenda) or Channel.CALL in customer.blocked_channels():
            continue  # refused meanwhile, or issued by a concurrent build: tomorrow's build sees it
        if not plan.is_requested and called_elsewhere & set(candidate.relatives):
            continue  # the same person was just called by another dealership of the group (a concurrent build)
        task = _call_task(
            dealership=dealership, customer=customer, plan=plan, agenda=agenda, forecasts=forecasts,
            explanation=candidate.explanation, gap_days=rules.min_days_between_calls,
        )
        new_tasks.append((task, agenda))
    created = CallTask.objects.bulk_create([task for task, _agenda in new_tasks], batch_size=1000)
    CallTaskItem.objects.bulk_create(
        [
            CallTaskItem(call_task=task, touchpoint=tp, position=position)
            for task, (_same, agenda) in zip(created, new_tasks, strict=True)
            for position, tp in enumerate(agenda)
        ],
        batch_size=2000,
    )
    Touchpoint.objects.filter(
        id__in=[tp.id for _task, agenda in new_tasks for tp in agenda], status=Touchpoint.Status.PLANNED
    ).update(status=Touchpoint.Status.ISSUED, resolution="placed")
    counts.calls += len(created)
    write_resolutions([
        (item.touchpoint_id, *(
            (Touchpoint.Status.SUPPRESSED, "window_closed:capacity") if c.plan.window_end <= day
            else (Touchpoint.Status.PLANNED, "deferred:capacity")
        ))
        for c in overflow
        for item in c.plan.agenda
    ])
    return len(overflow)


def _called_recently(customer_ids: set[int], *, day: dt.date, gap_days: int) -> set[int]:
    """Those of these customers with a call (not cancelled) in the gap before ``day``, today included."""
    if not customer_ids:
        return set()
    return set(
        CallTask.objects.filter(
            customer_id__in=customer_ids, scheduled_on__gt=day - dt.timedelta(days=max(1, gap_days)), scheduled_on__lte=day
        ).exclude(status=CallTask.Status.CANCELLED).values_list("customer_id", flat=True)
    )


def dealerships_due(*, now: dt.datetime) -> list[tuple[Dealership, dt.date]]:
    """Dealerships whose local morning has come and whose queue for the local day is not built yet."""
    due = []
    built = set(QueueBuild.objects.filter(finished_at__isnull=False).values_list("dealership_id", "day"))
    for dealership in Dealership.objects.select_related("contact_rules"):
        local = now.astimezone(dealership.zone)
        rules = getattr(dealership, "contact_rules", None)
        hour = rules.queue_build_hour if rules else 7
        if local.hour >= hour and (dealership.id, local.date()) not in built:
            due.append((dealership, local.date()))
    return due
