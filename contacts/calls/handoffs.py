"""The hand-off pipeline: routing by topic, the SLA moment, the customer's temperature, accepting,
forwarding, the department's structured outcomes (linked to the sale or the visit), escalation to the
department's head when the SLA is missed, and the later matching of an imported sale or visit.

Every change writes a ``HandoffEvent`` in the same transaction (who, when, what).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from contacts.calls.errors import OutcomeError
from contacts.calls.schedule import is_working_day
from contacts.core.sla import add_working_hours
from contacts.models import ContactRules, Department, Handoff, HandoffEvent
from customers.models import Customer, Dealership, Sale, ServiceVisit

Temperature = Customer.Temperature
Topic = Handoff.Topic
Outcome = Handoff.Outcome

#: A topic goes to the first of its departments that is active and receives hand-offs: a trade-in wish
#: to trade-in (else sales), an insurance question to insurance (else sales), a booking to service.
ROUTES: dict[str, tuple[str, ...]] = {
    Topic.PURCHASE: ("sales",),
    Topic.TRADE_IN: ("trade_in", "sales"),
    Topic.INSURANCE: ("insurance", "sales"),
    Topic.SERVICE: ("service",),
}

#: The topic of a call's agenda item, by the department of its touchpoint (the hand-off's default topic).
TOPIC_OF_DEPARTMENT = {"sales": Topic.PURCHASE, "trade_in": Topic.TRADE_IN, "insurance": Topic.INSURANCE,
                       "service": Topic.SERVICE}

#: Outcomes that end the hand-off; the others (a test drive booked, no answer) keep it open.
FINAL_OUTCOMES = frozenset({Outcome.SOLD, Outcome.VISIT_CONFIRMED, Outcome.NOT_INTERESTED})

#: What an outcome says about the customer's temperature (None: leaves it as it is).
OUTCOME_TEMPERATURE: dict[str, str] = {Outcome.SOLD: Temperature.HOT, Outcome.TEST_DRIVE: Temperature.HOT,
                       Outcome.VISIT_CONFIRMED: Temperature.HOT, Outcome.NOT_INTERESTED: Temperature.COLD}

#: How far back a "sold" or "visit confirmed" may pick the customer's sale or visit, in days.
RECENT_DAYS = 30


def route(topic: str) -> Department | None:
    """The department a hand-off of this topic goes to."""
    takers = {d.code: d for d in Department.objects.filter(takes_handoffs=True, is_active=True)}
    return next((takers[code] for code in ROUTES.get(topic, ()) if code in takers), None)


def topic_of_agenda(agenda: list[object]) -> str:
    """The hand-off topic a call suggests: its first topic whose department takes a topic of its own."""
    codes = [item.get("department") for item in agenda if isinstance(item, dict)]
    return next((TOPIC_OF_DEPARTMENT[code] for code in codes if code in TOPIC_OF_DEPARTMENT), Topic.PURCHASE)


def sla_hours(rules: ContactRules, temperature: str) -> int:
    hours: dict[str, int] = {Temperature.HOT: rules.handoff_hours_hot, Temperature.COLD: rules.handoff_hours_cold}
    return hours.get(temperature, rules.handoff_hours_warm)


def due_moment(*, dealership: Dealership, rules: ContactRules, temperature: str, start: dt.datetime) -> dt.datetime:
    """``start`` plus the temperature's SLA hours, counted in the dealership's working hours and days."""
    zone = dealership.zone
    local = start.astimezone(zone).replace(tzinfo=None)
    due = add_working_hours(
        start=local, hours=sla_hours(rules, temperature), opens=dealership.call_hours_start,
        closes=dealership.call_hours_end,
        is_working_day=lambda day: is_working_day(day, dealership=dealership, rules=rules),
    )
    return due.replace(tzinfo=zone).astimezone(dt.UTC)


def set_temperature(*, customer: Customer, temperature: str, by: User | None, now: dt.datetime,
                    handoff: Handoff | None = None) -> bool:
    """Record the customer's temperature (and who set it, when); False when it was that already."""
    if temperature not in Temperature.values:
        raise OutcomeError(_("Choose cold, warm or hot."))
    changed = Customer.objects.filter(pk=customer.pk).exclude(temperature=temperature).update(
        temperature=temperature, temperature_set_at=now, temperature_set_by=by
    ) == 1
    if changed and handoff is not None:
        HandoffEvent.objects.create(handoff=handoff, kind=HandoffEvent.Kind.TEMPERATURE, at=now, by=by, value=temperature)
    customer.temperature, customer.temperature_set_at, customer.temperature_set_by = temperature, now, by
    return changed


def create_handoff(
    *, dealership: Dealership, customer: Customer, department: Department, kind: str, temperature: str,
    topic: str, now: dt.datetime, rules: ContactRules, by: User | None, latest_day: dt.date | None = None,
    **fields: object,
) -> Handoff:
    """A new hand-off with its SLA moment (the temperature's working hours from now). ``latest_day``: for a
    lead, the day the customer asked to be contacted (its closing replaces the SLA); for a booking, the
    visit's day (never confirmed after it)."""
    due_at = due_moment(dealership=dealership, rules=rules, temperature=temperature, start=now)
    if latest_day is not None:
        closing = max(now, dt.datetime.combine(latest_day, dealership.call_hours_end, tzinfo=dealership.zone).astimezone(dt.UTC))
        due_at = closing if kind == Handoff.Kind.HOT_LEAD else min(due_at, closing)
    handoff = Handoff.objects.create(
        dealership=dealership, customer=customer, department=department, kind=kind, temperature=temperature,
        topic=topic, due_at=due_at, deadline=dealership.local_date(due_at), **fields,
    )
    set_temperature(customer=customer, temperature=temperature, by=by, now=now)
    return handoff


def accept_handoff(*, handoff: Handoff, by: User) -> bool:
    return Handoff.objects.filter(pk=handoff.pk, status=Handoff.Status.NEW).update(
        status=Handoff.Status.ACCEPTED, accepted_by=by
    ) == 1


def close_handoff(*, handoff: Handoff, by: User, result: str, now: dt.datetime) -> bool:
    """Close with a free-text result only (the API's old way); the inbox records a structured outcome."""
    result = (result or "").strip()
    if not result:
        raise OutcomeError(_("Write the result before closing the hand-off."))
    with transaction.atomic():
        closed = Handoff.objects.filter(pk=handoff.pk).exclude(status=Handoff.Status.CLOSED).update(
            status=Handoff.Status.CLOSED, result=result[:200], closed_at=now
        )
        Handoff.objects.filter(pk=handoff.pk, responded_at__isnull=True).update(responded_at=now)
        # Closing a hand-off nobody accepted first: whoever closed it took it.
        Handoff.objects.filter(pk=handoff.pk, accepted_by__isnull=True).update(accepted_by=by)
    return closed == 1


def forward_handoff(*, handoff: Handoff, to: Department, by: User, note: str, now: dt.datetime) -> None:
    """Hand it on to another department with a note: new there, with a fresh SLA from now (an escalation
    already made stays: the customer has waited)."""
    note = (note or "").strip()
    if not to.takes_handoffs or not to.is_active:
        raise OutcomeError(_("That department does not receive hand-offs."))
    if to.pk == handoff.department_id:
        raise OutcomeError(_("The hand-off is in that department already."))
    if not note:
        raise OutcomeError(_("Write a note for the department you forward to."))
    rules = ContactRules.for_dealership(handoff.dealership)
    with transaction.atomic():
        locked = Handoff.objects.select_for_update().get(pk=handoff.pk)
        if locked.status == Handoff.Status.CLOSED:
            raise OutcomeError(_("This hand-off is closed already."))
        HandoffEvent.objects.create(handoff=locked, kind=HandoffEvent.Kind.FORWARDED, at=now, by=by,
                                    from_department_id=locked.department_id, to_department=to, note=note[:2000])
        locked.department, locked.status, locked.accepted_by, locked.responded_at = to, Handoff.Status.NEW, None, None
        locked.due_at = due_moment(dealership=locked.dealership, rules=rules, temperature=locked.temperature or "warm",
                                   start=now)
        locked.deadline = locked.dealership.local_date(locked.due_at)
        locked.save(update_fields=["department", "status", "accepted_by", "responded_at", "due_at", "deadline"])


def recent_sales(handoff: Handoff, today: dt.date) -> list[Sale]:
    """The customer's sales a "sold" may be linked to: since a little before the hand-off."""
    since = min(handoff.created_at.date(), today) - dt.timedelta(days=RECENT_DAYS)
    return list(Sale.objects.filter(customer_id=handoff.customer_id, sold_on__gte=since).select_related("vehicle")
                .order_by("-sold_on", "-id")[:10])


def recent_visits(handoff: Handoff, today: dt.date) -> list[ServiceVisit]:
    since = min(handoff.created_at.date(), today) - dt.timedelta(days=RECENT_DAYS)
    return list(ServiceVisit.objects.filter(vehicle__owner_id=handoff.customer_id, visited_on__gte=since)
                .select_related("vehicle").order_by("-visited_on", "-id")[:10])


def record_handoff_outcome(
    *, handoff: Handoff, by: User, outcome: str, now: dt.datetime, note: str = "",
    sale: Sale | None = None, service_visit: ServiceVisit | None = None,
) -> None:
    """A structured result from the department: sold / test drive / visit confirmed close it (a sale or
    a visit may be linked: one of the customer's recent ones, else matched later by ``link_results``);
    a test drive or no answer keeps it open. The first outcome answers the SLA."""
    if outcome not in Outcome.values:
        raise OutcomeError(_("Choose an outcome."))
    if sale is not None and (outcome != Outcome.SOLD or sale.customer_id != handoff.customer_id):
        raise OutcomeError(_("That sale is not this customer's."))
    if service_visit is not None and (outcome != Outcome.VISIT_CONFIRMED
                                      or service_visit.vehicle.owner_id != handoff.customer_id):
        raise OutcomeError(_("That visit is not this customer's."))
    with transaction.atomic():
        locked = Handoff.objects.select_for_update().select_related("customer").get(pk=handoff.pk)
        if locked.status == Handoff.Status.CLOSED:
            raise OutcomeError(_("This hand-off is closed already."))
        locked.outcome, locked.result = outcome, (note or "").strip()[:200] or locked.result
        locked.responded_at = locked.responded_at or now
        locked.accepted_by = locked.accepted_by or by
        if outcome in FINAL_OUTCOMES:
            locked.status, locked.closed_at = Handoff.Status.CLOSED, now
        elif locked.status == Handoff.Status.NEW:
            locked.status = Handoff.Status.ACCEPTED
        locked.sale, locked.service_visit = sale or locked.sale, service_visit or locked.service_visit
        locked.save(update_fields=["outcome", "result", "responded_at", "accepted_by", "status", "closed_at", "sale",
                                   "service_visit"])
        HandoffEvent.objects.create(handoff=locked, kind=HandoffEvent.Kind.OUTCOME, at=now, by=by, value=outcome,
                                    note=(note or "").strip()[:2000])
        temperature = OUTCOME_TEMPERATURE.get(outcome)
        if temperature is not None:
            set_temperature(customer=locked.customer, temperature=temperature, by=by, now=now, handoff=locked)


def escalate_overdue_handoffs(*, now: dt.datetime) -> int:
    """Hand-offs past their SLA with no answer go to their department's head, once each: the row's
    conditional update and the event's unique constraint make a second beat or a re-run a no-op."""
    escalated = 0
    for pk in list(Handoff.objects.unanswered_past_due(now).values_list("pk", flat=True)[:1000]):
        try:
            with transaction.atomic():
                if Handoff.objects.unanswered_past_due(now).filter(pk=pk).update(escalated_at=now) != 1:
                    continue
                HandoffEvent.objects.create(handoff_id=pk, kind=HandoffEvent.Kind.ESCALATED, at=now)
        except IntegrityError:  # escalated by another run between the two statements
            continue
        escalated += 1
    return escalated


def link_results(*, now: dt.datetime) -> int:
    """A "sold" or "visit confirmed" recorded without its sale or visit is linked to the customer's sale
    (or visit) dated from the hand-off's day to ``handoff_match_days`` after the outcome, once imported."""
    linked = 0
    horizon = now - dt.timedelta(days=60)
    pending = Handoff.objects.filter(
        Q(outcome=Outcome.SOLD, sale__isnull=True) | Q(outcome=Outcome.VISIT_CONFIRMED, service_visit__isnull=True),
        closed_at__gte=horizon,
    ).select_related("dealership")
    for handoff in pending[:1000]:
        rules = ContactRules.for_dealership(handoff.dealership)
        assert handoff.closed_at is not None
        first = handoff.dealership.local_date(handoff.created_at)
        last = handoff.dealership.local_date(handoff.closed_at) + dt.timedelta(days=rules.handoff_match_days)
        if handoff.outcome == Outcome.SOLD:
            sale = Sale.objects.filter(customer_id=handoff.customer_id, sold_on__range=(first, last)).order_by("sold_on", "id").first()
            linked += sale is not None and Handoff.objects.filter(pk=handoff.pk, sale__isnull=True).update(sale=sale)
        else:
            visit = (ServiceVisit.objects.filter(vehicle__owner_id=handoff.customer_id, visited_on__range=(first, last))
                     .order_by("visited_on", "id").first())
            linked += visit is not None and Handoff.objects.filter(pk=handoff.pk, service_visit__isnull=True).update(
                service_visit=visit)
    return linked
