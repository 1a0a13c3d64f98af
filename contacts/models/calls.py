"""Calls: the call task with its agenda (and the JSON shapes of its agenda and explanation), the
touchpoints on it, the attempts made, and the hand-offs to sales and service staff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from contacts.models.program import Department
from contacts.models.touchpoints import Touchpoint
from customers.models import Customer, Dealership, Sale, ServiceVisit, Vehicle

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# A callback waits this long for the agent the customer spoke to, then anyone may take it.
CALLBACK_GRACE = dt.timedelta(minutes=15)


class AgendaItem(TypedDict, total=False):
    """One topic of a call (``CallTask.agenda``), as the queue build writes it (contacts.queues.rendering)."""

    touchpoint_id: int
    code: str
    title: str  # in the customer's language at the build; pages show the template's name in the reader's
    department: str
    vehicle: str
    why: str
    reason: str  # the plan engine's reason code, said in words by contacts.wording
    detail: dict[str, str]
    template_version: int
    script_variant: str  # Script A/B: the variant rendered for this topic ("" when none)


class ExplanationItem(TypedDict):
    """A touchpoint the resolver merged into the call, deferred or suppressed, and why."""

    code: str
    reason: str
    detail: str
    on: str  # ISO date of the day it was placed on, or ""


#: ``CallTask.explanation``: "merged", "deferred", "suppressed" → its touchpoints.
Explanation = dict[str, list[ExplanationItem]]


class CallTaskQuerySet(models.QuerySet["CallTask"]):
    def open(self) -> CallTaskQuerySet:
        return self.filter(status=CallTask.Status.OPEN)

    def stale_claims(self, now: dt.datetime, minutes: int) -> CallTaskQuerySet:
        """Claims with no sign of life for ``minutes``: the call screen's heartbeat (claim_seen_at), else the claim."""
        return self.filter(status=CallTask.Status.CLAIMED).alias(
            last_seen=Coalesce("claim_seen_at", "claimed_at")
        ).filter(last_seen__lt=now - dt.timedelta(minutes=minutes))

    def due_by(self, dealerships: Iterable[Dealership], now: dt.datetime) -> CallTaskQuerySet:
        """Scheduled on or before each dealership's own local today (agents may span time zones)."""
        condition = Q(pk__in=[])
        for dealership in dealerships:
            condition |= Q(dealership=dealership, scheduled_on__lte=dealership.local_date(now))
        return self.filter(condition)

    def claimable_by(self, agent: User, now: dt.datetime) -> CallTaskQuerySet:
        """Unassigned work, work assigned to this agent, and callbacks whose agent let the grace pass."""
        return self.filter(
            Q(assigned_to__isnull=True)
            | Q(assigned_to=agent)
            | Q(kind=CallTask.Kind.CALLBACK, callback_at__lte=now - CALLBACK_GRACE)
        )


class CallTask(models.Model):
    """A call to make: one or more merged touchpoints (its agenda), a date, a window and a script."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLAIMED = "claimed", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Kind(models.TextChoices):
        PLANNED = "planned", _("Planned")
        RETRY = "retry", _("Retry")
        CALLBACK = "callback", _("Callback")

    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, related_name="call_tasks")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="call_tasks")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PLANNED)
    # Requested by the customer (a callback): not budgeted against the gap and caps.
    is_requested = models.BooleanField(default=False)
    scheduled_on = models.DateField(_("call on"))
    window_start = models.DateField(_("window from"))
    window_end = models.DateField(_("deadline"))
    # scheduled_on + the dealership's call gap: the PostgreSQL exclusion constraint forbids two
    # unrequested, uncancelled calls of one customer whose [scheduled_on, blocks_until) ranges overlap.
    blocks_until = models.DateField()
    callback_at = models.DateTimeField(_("call back at"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=50)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    agenda = models.JSONField(default=list)  # list[AgendaItem]
    script = models.TextField(_("script"), blank=True)
    explanation = models.JSONField(default=dict, blank=True)  # Explanation, for this customer
    attempts = models.PositiveSmallIntegerField(default=0)
    previous = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retries")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_calls"
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="claimed_calls"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The claim's last sign of life: the open call screen's heartbeat (contacts.calls.keep_claim), so a
    # long call is not taken for an abandoned one (CallTaskQuerySet.stale_claims).
    claim_seen_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CallTaskQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_on", "priority", "window_end", "id"]
        verbose_name = _("call task")
        verbose_name_plural = _("call tasks")
        constraints = [
            models.CheckConstraint(
                condition=Q(window_start__lte=models.F("scheduled_on")) & Q(scheduled_on__lte=models.F("window_end")),
                name="call_task_inside_window",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "claimed", "done", "cancelled"]), name="call_task_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="claimed", claimed_by__isnull=False) | ~Q(status="claimed"),
                name="call_task_claim_has_agent",
            ),
        ]
        indexes = [
            # Read by the agent queue and "next call" (contacts.views.agent): open work of a dealership by day.
            models.Index(
                fields=["dealership", "scheduled_on", "priority"],
                name="call_task_open_queue",
                condition=Q(status__in=["open", "claimed"]),
            ),
            models.Index(fields=["customer", "scheduled_on"], name="call_task_customer_day"),
            # Read by contacts.calls.claim_next_call and the queue page: open calls in working order.
            models.Index(
                fields=["dealership", "priority", "window_end", "id"],
                name="call_task_claim_order",
                condition=Q(status="open"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scheduled_on} {self.customer_id} ({self.status})"

    def is_overdue(self, today: dt.date) -> bool:
        return self.status in (self.Status.OPEN, self.Status.CLAIMED) and self.window_end < today


class CallTaskItem(models.Model):
    """A touchpoint on a call's agenda. At most one call task per touchpoint, enforced here."""

    call_task = models.ForeignKey(CallTask, on_delete=models.CASCADE, related_name="items")
    touchpoint = models.OneToOneField(Touchpoint, on_delete=models.CASCADE, related_name="call_item")
    position = models.PositiveSmallIntegerField(default=0)
    result = models.CharField(_("result"), max_length=200, blank=True)
    # Script A/B: the variant of the template's script this topic was read with ("" when none).
    script_variant = models.CharField(_("script variant"), max_length=2, blank=True, default="")

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.call_task_id}: {self.touchpoint_id}"


class CallAttempt(models.Model):
    """One call an agent made and its outcome: the contact history."""

    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached")
        NO_ANSWER = "no_answer", _("No answer / busy")
        WRONG_NUMBER = "wrong_number", _("Wrong number")
        CALL_BACK = "call_back", _("Call back later")
        DO_NOT_CALL = "do_not_call", _("Do not call")
        BOOKED = "booked", _("Maintenance booked")
        SERVICED_ELSEWHERE = "serviced_elsewhere", _("Serviced elsewhere")
        SOLD_CAR = "sold_car", _("Sold the car")
        HOT_LEAD = "hot_lead", _("Hot lead")

    call_task = models.ForeignKey(CallTask, on_delete=models.CASCADE, related_name="attempts_made")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="call_attempts")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="calls")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField()
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    note = models.TextField(_("note"), blank=True)
    odometer_km = models.PositiveIntegerField(_("mileage now, km"), null=True, blank=True)
    vehicle = models.ForeignKey(Vehicle, on_delete=models.SET_NULL, null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-ended_at"]
        indexes = [models.Index(fields=["customer", "ended_at"], name="attempt_customer_time")]

    def __str__(self) -> str:
        return f"{self.ended_at:%Y-%m-%d %H:%M} {self.outcome}"


# Outcomes in which the customer was spoken to (for reach rate, keep-alive and "lapsed").
REACHED_OUTCOMES = frozenset({"reached", "call_back", "do_not_call", "booked", "serviced_elsewhere", "sold_car", "hot_lead"})


class HandoffQuerySet(models.QuerySet["Handoff"]):
    def open(self) -> HandoffQuerySet:
        return self.exclude(status=Handoff.Status.CLOSED)

    def unanswered_past_due(self, now: dt.datetime) -> HandoffQuerySet:
        """Open hand-offs nobody answered (no outcome yet) past their SLA moment, not escalated yet
        (read every few minutes by contacts.tasks.escalate_overdue_handoffs; index handoff_sla_due)."""
        return self.open().filter(responded_at__isnull=True, escalated_at__isnull=True, due_at__lte=now)


class Handoff(models.Model):
    """A lead or a booking handed to a department (sales, service, trade-in, insurance): routed by its
    topic, with the customer's temperature at the hand-off, an SLA moment (``due_at``) after which it
    escalates to the department's head, and a structured outcome linked to the sale or the visit."""

    class Kind(models.TextChoices):
        HOT_LEAD = "hot_lead", _("Hot lead")
        BOOKING = "booking", _("Maintenance booking")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        ACCEPTED = "accepted", _("Accepted")
        CLOSED = "closed", _("Closed")

    class Topic(models.TextChoices):
        PURCHASE = "purchase", _("Buying a car")
        TRADE_IN = "trade_in", _("Trade-in")
        INSURANCE = "insurance", _("Insurance")
        SERVICE = "service", _("Service or repair")

    class Outcome(models.TextChoices):
        SOLD = "sold", _("Sold")
        TEST_DRIVE = "test_drive", _("Test drive booked")
        VISIT_CONFIRMED = "visit_confirmed", _("Visit confirmed")
        NOT_INTERESTED = "not_interested", _("Not interested")
        NO_ANSWER = "no_answer", _("No answer")

    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, related_name="handoffs")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="handoffs")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.SET_NULL, null=True, blank=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="handoffs")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    topic = models.CharField(_("topic"), max_length=12, choices=Topic.choices, blank=True)
    # The customer's temperature when handed over: the conversion figures count by it.
    temperature = models.CharField(_("temperature"), max_length=4, choices=Customer.Temperature.choices, blank=True)
    notes = models.TextField(blank=True)
    deadline = models.DateField(_("deadline"))  # the local day of due_at
    # The SLA: answer (record an outcome) by this moment, counted in the dealership's working hours.
    due_at = models.DateTimeField(_("answer by"), null=True, blank=True)
    responded_at = models.DateTimeField(_("first answered at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    booked_on = models.DateField(_("booked for"), null=True, blank=True)
    # The visit's moment when the agent agreed a time with the customer (booked_on is its local day).
    booked_at = models.DateTimeField(_("booked at"), null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    result = models.CharField(_("result"), max_length=200, blank=True)
    sale = models.ForeignKey(Sale, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    service_visit = models.ForeignKey(ServiceVisit, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_from = models.ForeignKey(CallAttempt, on_delete=models.SET_NULL, null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = HandoffQuerySet.as_manager()

    class Meta:
        ordering = ["deadline", "id"]
        indexes = [
            # contacts.tasks.escalate_overdue_handoffs: open, unanswered, unescalated rows by due moment.
            models.Index(fields=["due_at"], name="handoff_sla_due",
                         condition=Q(responded_at__isnull=True, escalated_at__isnull=True) & ~Q(status="closed")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.department_id} by {self.deadline}"

    def is_overdue(self, today: dt.date) -> bool:
        return self.status != self.Status.CLOSED and self.deadline < today

    def outcome_choices(self) -> list[tuple[str, Any]]:
        """The outcomes that fit its department: a visit for service, a sale or a test drive for the others."""
        unfit = {self.Outcome.SOLD, self.Outcome.TEST_DRIVE} if self.department.code == "service" else {
            self.Outcome.VISIT_CONFIRMED}
        return [(value, label) for value, label in self.Outcome.choices if value not in unfit]

    def is_late(self, now: dt.datetime) -> bool:
        """Past its SLA moment with no answer yet."""
        return self.status != self.Status.CLOSED and self.responded_at is None and self.due_at is not None and self.due_at <= now


class HandoffEvent(models.Model):
    """What happened to a hand-off, who did it and when: forwarded, an outcome, a temperature, escalated."""

    class Kind(models.TextChoices):
        FORWARDED = "forwarded", _("Forwarded")
        OUTCOME = "outcome", _("Outcome")
        TEMPERATURE = "temperature", _("Temperature")
        ESCALATED = "escalated", _("Escalated")

    handoff = models.ForeignKey(Handoff, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    from_department = models.ForeignKey(Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    to_department = models.ForeignKey(Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    value = models.CharField(max_length=16, blank=True)  # the outcome or the temperature
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            # Escalation happens once per hand-off, whatever the beat does (two beats, a re-run).
            models.UniqueConstraint(fields=["handoff"], condition=Q(kind="escalated"), name="handoff_escalated_once"),
        ]

    def __str__(self) -> str:
        return f"{self.handoff_id} {self.kind} {self.value}"


class AgentPresence(models.Model):
    """What an agent said they are doing, for the floor: ready (took the next call, or logged in), paused
    ("pause after this call", or the queue's Pause) or logged out; ``since`` is when it last changed.
    "On a call" is not stored: the agent's open claim says it."""

    class State(models.TextChoices):
        READY = "ready", _("Ready")
        PAUSED = "paused", _("Paused")
        LOGGED_OUT = "logged_out", _("Logged out")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="presence", verbose_name=_("agent"))
    state = models.CharField(_("state"), max_length=12, choices=State.choices)
    since = models.DateTimeField(_("since"))

    class Meta:
        verbose_name = _("agent's presence")
        verbose_name_plural = _("agents' presence")
        constraints = [
            models.CheckConstraint(condition=Q(state__in=["ready", "paused", "logged_out"]), name="agent_presence_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.state} since {self.since:%Y-%m-%d %H:%M}"
