"""The daily queue build: open touchpoints + contact history + rules → today's call tasks and messages.

Runs once per dealership and local day (``QueueBuild`` marks it), in chunks of customers, each chunk
one transaction. For every household (customers sharing a phone) the pure resolver
(contacts.pressure) places the open touchpoints of the next weeks under the contact-pressure rules;
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
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts import pressure
from contacts.models import (
    CallTask,
    CallTaskItem,
    ContactRules,
    DailyCapacity,
    Department,
    OutboxMessage,
    QueueBuild,
    Touchpoint,
)
from contacts.scripts import render_script
from customers.models import Customer, Dealership, VehicleForecast

logger = logging.getLogger(__name__)

# The resolver sees touchpoints whose window opens within this many days, so a call can wait a few
# days to carry a touchpoint that opens soon (merging), and history this far back for the caps.
LOOKAHEAD_DAYS = 30
HISTORY_DAYS = 366
# Customers per transaction: a chunk holds their touchpoints, tasks and history in memory.
CUSTOMER_CHUNK = 2000
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
    """Build one dealership's queue for one local day. Idempotent; safe to run twice at once."""
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
    customer_ids = list(
        Touchpoint.objects.filter(
            customer__dealership=dealership,
            status=Touchpoint.Status.PLANNED,
            window_start__lte=day + dt.timedelta(days=LOOKAHEAD_DAYS),
        )
        .values_list("customer_id", flat=True)
        .distinct()
        .order_by("customer_id")
    )
    households = _households(customer_ids)
    for start in range(0, len(households), CUSTOMER_CHUNK):
        _build_chunk(
            dealership=dealership,
            households=households[start : start + CUSTOMER_CHUNK],
            rules=rules,
            resolver=resolver,
            day=day,
            counts=counts,
        )
    counts.customers = len(customer_ids)
    counts.over_capacity = _apply_capacity(dealership=dealership, rules=rules, day=day)
    QueueBuild.objects.filter(pk=build.pk).update(finished_at=frozen_now, counts=counts.as_dict())
    logger.info("build_queue %s %s: %s", dealership.code, day, counts.as_dict())
    return counts


def _households(customer_ids: Sequence[int]) -> list[list[int]]:
    """Customers grouped by shared phone number (one household for calls), in a stable order."""
    by_phone: dict[str, list[int]] = defaultdict(list)
    alone: list[list[int]] = []
    for customer_id, phone in Customer.objects.filter(id__in=customer_ids).values_list("id", "phone"):
        if phone:
            by_phone[phone].append(customer_id)
        else:
            alone.append([customer_id])
    groups = [sorted(ids) for ids in by_phone.values()] + alone
    return sorted(groups)


def _expire_past_tasks(*, dealership: Dealership, day: dt.date) -> None:
    """Unfinished tasks whose window closed before today are cancelled; their touchpoints suppressed."""
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
        Touchpoint.objects.filter(call_item__call_task_id__in=expired, status=Touchpoint.Status.ISSUED).update(
            status=Touchpoint.Status.SUPPRESSED, resolution="window_closed:not_called"
        )


def _build_chunk(
    *,
    dealership: Dealership,
    households: list[list[int]],
    rules: ContactRules,
    resolver: pressure.Rules,
    day: dt.date,
    counts: BuildCounts,
) -> None:
    customer_ids = [cid for group in households for cid in group]
    with transaction.atomic():
        # Lock the customers: a do-not-call recorded meanwhile (contacts.calls locks the same row)
        # either lands before this read or cancels the tasks this chunk creates; never in between.
        customers = {
            c.id: c
            for c in Customer.objects.select_for_update().filter(id__in=customer_ids).prefetch_related("consents")
        }
        touchpoints = list(
            Touchpoint.objects.filter(
                customer_id__in=customer_ids,
                status=Touchpoint.Status.PLANNED,
                window_start__lte=day + dt.timedelta(days=LOOKAHEAD_DAYS),
            ).select_related("template", "template__department", "vehicle")
        )
        by_customer: dict[int, list[Touchpoint]] = defaultdict(list)
        for tp in touchpoints:
            by_customer[tp.customer_id].append(tp)
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
        forecasts = {
            f.vehicle_id: f for f in VehicleForecast.objects.filter(vehicle_id__in={tp.vehicle_id for tp in touchpoints})
        }

        new_tasks: list[tuple[CallTask, list[Touchpoint]]] = []
        new_messages: list[OutboxMessage] = []
        verdicts: dict[int, str] = {}
        for group in households:
            group_touchpoints = [tp for cid in group for tp in by_customer.get(cid, [])]
            if not group_touchpoints:
                continue
            members = [customers[cid] for cid in group if cid in customers]
            resolution, explanation = _resolve_household(
                members=members,
                touchpoints=group_touchpoints,
                history=pressure.History(
                    calls=tuple(c for cid in group for c in history_calls.get(cid, [])),
                    message_dates=tuple(d for cid in group for d in history_messages.get(cid, [])),
                ),
                resolver=resolver,
                day=day,
                verdicts=verdicts,
            )
            by_id = {tp.id: tp for tp in group_touchpoints}
            for plan in resolution.calls:
                if plan.scheduled_on != day:
                    continue
                agenda = [by_id[item.touchpoint_id] for item in plan.agenda]
                task = _call_task(
                    dealership=dealership,
                    customer=customers[plan.customer_id],
                    plan=plan,
                    agenda=agenda,
                    forecasts=forecasts,
                    explanation=explanation.get(plan.customer_id, {}),
                    gap_days=rules.min_days_between_calls,
                )
                new_tasks.append((task, agenda))
            for message in resolution.messages:
                if message.send_on != day:
                    continue
                tp = by_id[message.touchpoint_id]
                new_messages.append(_message(dealership=dealership, customer=customers[tp.customer_id], tp=tp, forecasts=forecasts, day=day))
        _write_chunk(new_tasks=new_tasks, new_messages=new_messages, verdicts=verdicts, touchpoints=touchpoints, counts=counts)


def _resolve_household(
    *,
    members: list[Customer],
    touchpoints: list[Touchpoint],
    history: pressure.History,
    resolver: pressure.Rules,
    day: dt.date,
    verdicts: dict[int, str],
) -> tuple[pressure.Resolution, dict[int, dict[str, list[dict[str, str]]]]]:
    holdout = {c.id for c in members if c.is_holdout}
    items = []
    for tp in touchpoints:
        if tp.customer_id in holdout:
            verdicts[tp.id] = "suppressed:holdout"
            continue
        items.append(
            pressure.Item(
                touchpoint_id=tp.id,
                customer_id=tp.customer_id,
                vehicle_id=tp.vehicle_id,
                code=tp.template.code,
                department=tp.template.department.code,
                channel=tp.template.channel,
                due_on=tp.due_on,
                window_start=tp.window_start,
                window_end=tp.window_end,
                priority=tp.template.priority,
                reason=tp.reason,
            )
        )
    shared_blocks = frozenset.intersection(*(c.blocked_channels() for c in members)) if members else frozenset()
    resolution = pressure.resolve(
        items,
        history=history,
        blocked_channels=shared_blocks,
        blocked_channels_by_customer={c.id: c.blocked_channels() for c in members},
        is_phone_reachable=all(c.is_phone_reachable for c in members),
        rules=resolver,
        today=day,
    )
    explanation: dict[int, dict[str, list[dict[str, str]]]] = defaultdict(lambda: defaultdict(list))
    codes = {tp.id: (tp.customer_id, tp.template.code) for tp in touchpoints}
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


def _write_chunk(
    *,
    new_tasks: list[tuple[CallTask, list[Touchpoint]]],
    new_messages: list[OutboxMessage],
    verdicts: dict[int, str],
    touchpoints: list[Touchpoint],
    counts: BuildCounts,
) -> None:
    created = CallTask.objects.bulk_create([task for task, _agenda in new_tasks], batch_size=1000)
    CallTaskItem.objects.bulk_create(
        [
            CallTaskItem(call_task=task, touchpoint=tp, position=position)
            for task, (_same, agenda) in zip(created, new_tasks, strict=True)
            for position, tp in enumerate(agenda)
        ],
        batch_size=2000,
    )
    issued = [tp.id for _task, agenda in new_tasks for tp in agenda]
    messages = [m for m in new_messages if m.recipient]
    OutboxMessage.objects.bulk_create(messages, batch_size=1000, ignore_conflicts=True)
    issued += [m.touchpoint_id for m in messages]
    if issued:
        Touchpoint.objects.filter(id__in=issued, status=Touchpoint.Status.PLANNED).update(
            status=Touchpoint.Status.ISSUED, resolution="placed"
        )
    # One UPDATE per distinct verdict (a few dozen a chunk), not a CASE per row.
    current = {tp.id: tp.resolution for tp in touchpoints}
    suppressed: dict[str, list[int]] = defaultdict(list)
    deferred: dict[str, list[int]] = defaultdict(list)
    for touchpoint_id, verdict in verdicts.items():
        if verdict.startswith("suppressed:"):
            suppressed[verdict.removeprefix("suppressed:")[:80]].append(touchpoint_id)
        elif current.get(touchpoint_id) != verdict[:80]:
            deferred[verdict[:80]].append(touchpoint_id)
    for resolution, ids in suppressed.items():
        Touchpoint.objects.filter(id__in=ids).update(status=Touchpoint.Status.SUPPRESSED, resolution=resolution)
    for resolution, ids in deferred.items():
        Touchpoint.objects.filter(id__in=ids).update(resolution=resolution)
    counts.calls += len(created)
    counts.messages += len(messages)
    counts.suppressed += sum(len(ids) for ids in suppressed.values())
    counts.deferred += sum(len(ids) for ids in deferred.values())


def _apply_capacity(*, dealership: Dealership, rules: ContactRules, day: dt.date) -> int:
    """Keep today's planned calls within capacity, by priority then deadline; move the rest back."""
    capacity = capacity_for(dealership=dealership, rules=rules, day=day)
    queue = list(
        CallTask.objects.filter(dealership=dealership, scheduled_on__lte=day, status=CallTask.Status.OPEN)
        .order_by("is_requested", "window_end", "priority", "id")
        .values_list("id", "is_requested", "scheduled_on", "window_end", "priority")
    )
    # Requested calls and carried-over tasks stay; new planned calls of today fill what is left.
    fixed = [row for row in queue if row[1] or row[2] < day]
    fresh = sorted((row for row in queue if not row[1] and row[2] == day), key=lambda r: (r[4], r[3], r[0]))
    room = max(0, capacity - len(fixed))
    overflow = [row[0] for row in fresh[room:]]
    if not overflow:
        return 0
    with transaction.atomic():
        items = CallTaskItem.objects.filter(call_task_id__in=overflow)
        closing = Q(call_task__window_end__lte=day)
        Touchpoint.objects.filter(call_item__in=items.filter(closing)).update(
            status=Touchpoint.Status.SUPPRESSED, resolution="window_closed:capacity"
        )
        Touchpoint.objects.filter(call_item__in=items.exclude(closing)).update(
            status=Touchpoint.Status.PLANNED, resolution="deferred:capacity"
        )
        items.delete()
        CallTask.objects.filter(id__in=overflow).delete()
    return len(overflow)


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
