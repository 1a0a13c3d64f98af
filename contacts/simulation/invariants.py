"""The promises the schedule must keep every day (issue 12, "Invariants that must hold every day").

Each check is a plain function over the stored data that returns the violations it found, so the
simulator runs them every simulated day and a test can plant a violation and see it caught
(tests/contacts/test_simulate.py). ``check_day`` runs them all for one UTC day.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import Q

from contacts.audit import audit_stored_contacts
from contacts.models import CallAttempt, CallTask, CallTaskItem, ContactRules, OutboxMessage, Touchpoint
from customers.models import Consent, Customer, Dealership, Vehicle

UTC = dt.UTC
# Message hours when the product has no setting for them (docs/program.md version 2: 10:00-20:00 local).
DEFAULT_MESSAGE_HOURS = (dt.time(10, 0), dt.time(20, 0))
# The yearly-contact promise can only be judged on a run this long.
CONTACT_YEAR_DAYS = 365
# Messages not sent yet (a sent one has ``sent_at``, whatever became of it afterwards).
PENDING = (OutboxMessage.Status.PENDING, OutboxMessage.Status.RESERVED)
# Statuses of a touchpoint that did not happen.
NOT_DONE = (Touchpoint.Status.SUPPRESSED, Touchpoint.Status.CANCELLED)


@dataclass(frozen=True)
class Violation:
    invariant: str
    detail: str


@dataclass
class DayContext:
    """What a day's checks need beyond the stored data."""

    day: dt.date  # the UTC day checked (also each dealership's local day whose morning fell in it)
    simulation_start: dt.date | None = None
    # Vehicles the product knew as sold or traded in when the day began (no call may be about them).
    inactive_at_day_start: frozenset[int] = field(default_factory=frozenset)

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        start = dt.datetime.combine(self.day, dt.time.min, tzinfo=UTC)
        return start, start + dt.timedelta(days=1)


def _is_working_day(day: dt.date, dealership: Dealership) -> bool:
    from contacts.calls import is_working_day

    return is_working_day(day, dealership=dealership, rules=ContactRules.for_dealership(dealership))


def queue_built_every_working_day(ctx: DayContext) -> list[Violation]:
    """Every dealership has a finished queue build for each of its working days."""
    from contacts.models import QueueBuild

    built = set(QueueBuild.objects.filter(day=ctx.day, finished_at__isnull=False).values_list("dealership_id", flat=True))
    return [
        Violation("queue_every_working_day", f"{dealership.code}: no finished queue build for {ctx.day}")
        for dealership in Dealership.objects.order_by("code")
        if _is_working_day(ctx.day, dealership) and dealership.id not in built
    ]


def no_duplicates(ctx: DayContext) -> list[Violation]:
    """No touchpoint planned twice, no two calls of one household on one day, no message sent twice."""
    found: list[Violation] = []
    touchpoints = Counter(
        Touchpoint.objects.exclude(status=Touchpoint.Status.CANCELLED).values_list("vehicle_id", "template__code", "due_on")
    )
    # Named without the date, so that one duplicated plan that moves day by day is one violation.
    found += sorted({
        Violation("no_duplicates", f"vehicle {v} has several '{code}' touchpoints due on one day")
        for (v, code, _day), n in touchpoints.items() if n > 1
    }, key=lambda violation: violation.detail)
    phones = dict(Customer.objects.values_list("id", "phone"))
    calls = Counter(
        (phones.get(customer_id) or f"customer {customer_id}", day)
        for customer_id, day in CallTask.objects.exclude(status=CallTask.Status.CANCELLED)
        .filter(is_requested=False, scheduled_on=ctx.day)
        .values_list("customer_id", "scheduled_on")
    )
    found += [
        Violation("no_duplicates", f"household {key} has {n} calls on {day}") for (key, day), n in sorted(calls.items()) if n > 1
    ]
    messages = Counter(
        OutboxMessage.objects.exclude(status=OutboxMessage.Status.CANCELLED)
        .filter(send_on=ctx.day)
        .values_list("customer_id", "touchpoint__template__code", "send_on")
    )
    found += [
        Violation("no_duplicates", f"customer {c} gets {n} '{code}' messages on {day}")
        for (c, code, day), n in sorted(messages.items()) if n > 1
    ]
    return found


def audit_clean(ctx: DayContext) -> list[Violation]:
    """``audit_contacts`` finds nothing (contacts.audit)."""
    report = audit_stored_contacts()
    return [
        Violation("audit_contacts_clean", f"{rule}: {count}")
        for rule, count in sorted(report["violations"].items()) if count
    ]


def message_hours(dealership: Dealership) -> tuple[dt.time, dt.time]:
    """The dealership's message hours, wherever the product keeps them; docs/program.md's default else."""
    for owner in (ContactRules.for_dealership(dealership), dealership):
        start, end = getattr(owner, "message_hours_start", None), getattr(owner, "message_hours_end", None)
        if isinstance(start, dt.time) and isinstance(end, dt.time):
            return start, end
    return DEFAULT_MESSAGE_HOURS


def messages_inside_message_hours(ctx: DayContext) -> list[Violation]:
    """Every message sent this day went out inside its dealership's message hours, on its own local day."""
    start, end = ctx.bounds
    found = []
    hours = {d.id: (d, message_hours(d)) for d in Dealership.objects.all()}
    for message_id, dealership_id, send_on, sent_at in OutboxMessage.objects.filter(
        sent_at__gte=start, sent_at__lt=end
    ).values_list("id", "dealership_id", "send_on", "sent_at").order_by("id"):
        dealership, (opens, closes) = hours[dealership_id]
        assert sent_at is not None  # filtered on it
        local = sent_at.astimezone(dealership.zone)
        if not opens <= local.time() < closes:
            found.append(Violation("message_hours", f"message {message_id} ({dealership.code}) sent at {local:%Y-%m-%d %H:%M} local"))
        elif local.date() != send_on:
            found.append(Violation("message_hours", f"message {message_id} ({dealership.code}) for {send_on} sent on local {local.date()}"))
    return found


def nothing_after_a_refusal(ctx: DayContext) -> list[Violation]:
    """After a refusal on a channel (from any path) nothing more on it: no call made and no message sent
    this day after it, and nothing left pending (open calls, pending messages) at the end of the day."""
    found: list[Violation] = []
    refused = {
        (customer_id, channel): changed_at
        # Refusals of a whole channel (the simulated paths record no purpose).
        for customer_id, channel, changed_at in Consent.objects.filter(is_allowed=False, purpose="all").values_list(
            "customer_id", "channel", "changed_at"
        )
    }
    if not refused:
        return found
    start, end = ctx.bounds
    called = {cid for cid, ch in refused if ch == "call"}
    for attempt_id, customer_id, ended_at in CallAttempt.objects.filter(
        customer_id__in=called, ended_at__gte=start, ended_at__lt=end
    ).values_list(
        "id", "customer_id", "ended_at"
    ).order_by("id"):
        if ended_at > refused[(customer_id, "call")]:
            found.append(Violation("nothing_after_refusal", f"customer {customer_id} called (attempt {attempt_id}) after refusing calls"))
    for task_id, customer_id in CallTask.objects.filter(
        customer_id__in=called, status__in=[CallTask.Status.OPEN, CallTask.Status.CLAIMED]
    ).values_list("id", "customer_id").order_by("id"):
        found.append(Violation("nothing_after_refusal", f"customer {customer_id} refused calls but call {task_id} is still open"))
    messaged = {cid for cid, ch in refused if ch != "call"}
    for message_id, customer_id, channel, status, sent_at in OutboxMessage.objects.filter(
        Q(status__in=PENDING) | Q(sent_at__gte=start, sent_at__lt=end),
        customer_id__in=messaged,
    ).values_list("id", "customer_id", "channel", "status", "sent_at").order_by("id"):
        changed_at = refused.get((customer_id, channel))
        if changed_at is None:
            continue
        if status in PENDING:
            found.append(Violation("nothing_after_refusal", f"customer {customer_id} refused {channel} but message {message_id} is pending"))
        elif sent_at is not None and sent_at > changed_at:
            found.append(Violation("nothing_after_refusal", f"customer {customer_id} sent {channel} message {message_id} after refusing it"))
    return found


def no_call_about_a_sold_car(ctx: DayContext) -> list[Violation]:
    """No open call is about a car the product knows was sold or traded in, and no call made this day
    was about a car known to be gone when the day began."""
    found = []
    for task_id, vehicle_id in CallTaskItem.objects.filter(
        call_task__status__in=[CallTask.Status.OPEN, CallTask.Status.CLAIMED], touchpoint__vehicle__is_active=False
    ).values_list("call_task_id", "touchpoint__vehicle_id").order_by("call_task_id"):
        found.append(Violation("no_call_about_sold_car", f"open call {task_id} is about sold vehicle {vehicle_id}"))
    if ctx.inactive_at_day_start:
        start, end = ctx.bounds
        attempts = CallAttempt.objects.filter(ended_at__gte=start, ended_at__lt=end)
        for attempt_id, vehicle_id in CallTaskItem.objects.filter(
            call_task__attempts_made__in=attempts, touchpoint__vehicle_id__in=ctx.inactive_at_day_start
        ).values_list("call_task__attempts_made", "touchpoint__vehicle_id").order_by("call_task__attempts_made"):
            found.append(Violation("no_call_about_sold_car", f"call attempt {attempt_id} was about sold vehicle {vehicle_id}"))
    return found


def everyone_contacted_within_a_year(ctx: DayContext) -> list[Violation]:
    """Every customer with a car is contacted (a call made or a message sent) at least once in any 365
    days, unless they refused calls, their phone is unreachable or they are in the hold-out group.
    Judged only once the run is a year long, for customers who were there on its first day."""
    if ctx.simulation_start is None or (ctx.day - ctx.simulation_start).days < CONTACT_YEAR_DAYS:
        return []
    since = dt.datetime.combine(ctx.day - dt.timedelta(days=CONTACT_YEAR_DAYS), dt.time.min, tzinfo=UTC)
    first_day = dt.datetime.combine(ctx.simulation_start, dt.time.min, tzinfo=UTC)
    refused = set(Consent.objects.filter(is_allowed=False, channel="call", purpose="all").values_list(
        "customer_id", flat=True
    ))
    contacted = set(CallAttempt.objects.filter(ended_at__gte=since).values_list("customer_id", flat=True))
    contacted |= set(
        OutboxMessage.objects.filter(sent_at__gte=since).values_list("customer_id", flat=True)
    )
    owners = set(Vehicle.objects.filter(is_active=True, owner__isnull=False).values_list("owner_id", flat=True))
    expected = Customer.objects.filter(
        id__in=owners, is_holdout=False, phone_unreachable_since__isnull=True, created_at__lt=first_day
    ).exclude(phone="").values_list("id", flat=True).order_by("id")
    return [
        Violation("contacted_within_a_year", f"customer {customer_id} not contacted since {since.date()}")
        for customer_id in expected if customer_id not in refused and customer_id not in contacted
    ]


def every_missed_touchpoint_has_a_reason(ctx: DayContext) -> list[Violation]:
    """A touchpoint that did not happen (suppressed, cancelled, or still planned after its window
    closed) carries a reason a supervisor can read."""
    found = []
    for tp_id, status in Touchpoint.objects.filter(
        Q(status__in=NOT_DONE) | Q(status=Touchpoint.Status.PLANNED, window_end__lt=ctx.day), resolution=""
    ).values_list("id", "status").order_by("id"):
        found.append(Violation("missed_touchpoint_has_reason", f"touchpoint {tp_id} is {status} without a reason"))
    return found


CHECKS: dict[str, Callable[[DayContext], list[Violation]]] = {
    "queue_every_working_day": queue_built_every_working_day,
    "no_duplicates": no_duplicates,
    "audit_contacts_clean": audit_clean,
    "message_hours": messages_inside_message_hours,
    "nothing_after_refusal": nothing_after_a_refusal,
    "no_call_about_sold_car": no_call_about_a_sold_car,
    "contacted_within_a_year": everyone_contacted_within_a_year,
    "missed_touchpoint_has_reason": every_missed_touchpoint_has_a_reason,
}


def check_day(ctx: DayContext, *, only: Iterable[str] | None = None) -> list[Violation]:
    """Every invariant (or those named in ``only``) for one day."""
    names = list(CHECKS) if only is None else list(only)
    return [violation for name in names for violation in CHECKS[name](ctx)]


def count_by_invariant(violations: Iterable[Violation]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for violation in violations:
        counts[violation.invariant] += 1
    return {name: counts.get(name, 0) for name in CHECKS}


__all__ = ["CHECKS", "DayContext", "Violation", "check_day", "count_by_invariant"]
