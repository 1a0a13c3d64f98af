"""The simulation's books: one line a day, and the business figures at the end."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count

from contacts import metrics
from contacts.models import CallAttempt, OutboxMessage, Touchpoint
from contacts.simulation.customers import World
from contacts.simulation.invariants import Violation
from customers.models import Dealership


@dataclass
class DayLine:
    day: dt.date
    builds: dict[str, str] = field(default_factory=dict)  # dealership code → ok / FAILED / - (not built)
    calls_issued: int = 0
    calls_made: int = 0
    reached: int = 0
    booked: int = 0
    messages_sent: int = 0
    visits: int = 0
    purchases: int = 0
    imported_rows: int = 0
    task_failures: int = 0
    new_violations: int = 0
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        builds = " ".join(f"{code}:{state}" for code, state in sorted(self.builds.items()))
        line = (
            f"{self.day} {self.day:%a} | builds {builds} | calls issued {self.calls_issued} made {self.calls_made} "
            f"reached {self.reached} booked {self.booked} | messages {self.messages_sent} | visits {self.visits} "
            f"purchases {self.purchases} imported {self.imported_rows} | failures {self.task_failures} "
            f"| new violations {self.new_violations}"
        )
        return line + (" | " + "; ".join(self.notes) if self.notes else "")


@dataclass
class Report:
    days: int
    vehicles: int
    seed: int
    work_share: float
    faults: list[str]
    start: dt.date
    wall_seconds: float = 0.0
    failed_build_days: list[str] = field(default_factory=list)
    task_failures: Counter[str] = field(default_factory=Counter)
    first_failures: list[str] = field(default_factory=list)
    violations: dict[str, int] = field(default_factory=dict)
    first_violations: dict[str, list[str]] = field(default_factory=dict)
    first_violation_day: dict[str, str] = field(default_factory=dict)
    recovery_minutes: list[tuple[str, float | None]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def violation_total(self) -> int:
        return sum(self.violations.values())

    def record(self, day: dt.date, violations: list[Violation], seen: set[tuple[str, str]]) -> int:
        """Count the violations not seen on an earlier day; returns how many were new."""
        new = 0
        for violation in violations:
            key = (violation.invariant, violation.detail)
            if key in seen:
                continue
            seen.add(key)
            new += 1
            self.violations[violation.invariant] = self.violations.get(violation.invariant, 0) + 1
            examples = self.first_violations.setdefault(violation.invariant, [])
            self.first_violation_day.setdefault(violation.invariant, day.isoformat())
            if len(examples) < 3:
                examples.append(f"{day}: {violation.detail}")
        return new

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": self.days, "vehicles": self.vehicles, "seed": self.seed, "work_share": self.work_share,
            "faults": self.faults, "start": self.start.isoformat(), "wall_seconds": round(self.wall_seconds, 1),
            "failed_build_days": self.failed_build_days, "task_failures": dict(self.task_failures),
            "first_failures": self.first_failures, "violations": self.violations, "violation_total": self.violation_total,
            "first_violation_day": self.first_violation_day, "first_violations": self.first_violations,
            "recovery_minutes": [{"what": what, "minutes": minutes} for what, minutes in self.recovery_minutes],
            "figures": self.figures,
        }

    def text(self) -> list[str]:
        lines = [
            f"Simulated {self.days} days from {self.start} on {self.vehicles} vehicles (seed {self.seed}, "
            f"{self.work_share:.0%} of the calls worked, faults: {', '.join(self.faults) or 'none'}) in {self.wall_seconds:.1f} s.",
            f"Days with a build that failed (not by an injected fault) or never finished: {len(self.failed_build_days)}"
            + (f" (first {', '.join(self.failed_build_days[:5])})" if self.failed_build_days else ""),
            f"Task failures: {dict(self.task_failures) or 'none'}",
        ]
        lines += [f"  {failure}" for failure in self.first_failures]
        lines.append(f"Invariant violations: {self.violation_total}")
        for name, count in self.violations.items():
            lines.append(f"  {name}: {count} (first on {self.first_violation_day.get(name)})")
            lines += [f"    {example}" for example in self.first_violations.get(name, [])]
        for what, minutes in self.recovery_minutes:
            lines.append(f"Recovery of {what}: " + ("not redone" if minutes is None else f"{minutes} min"))
        lines.append("Business figures:")
        lines += [f"  {name}: {value}" for name, value in self.figures.items()]
        return lines


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def business_figures(*, world: World, start: dt.date, end: dt.date) -> dict[str, Any]:
    """The figures managers watch, over the simulated period, with the product's own definitions where
    it has them (contacts.metrics) and the simulation's truth where only it knows (why a visit came)."""
    ids = tuple(Dealership.objects.order_by("id").values_list("id", flat=True))
    period = metrics.Scope(dealership_ids=ids, start=start, end=end)
    contact = metrics.contact_figures(period)
    # Mature cohorts only (metrics.service_return_rate): cars sold in the 2 years before the day of the data.
    returned = metrics.service_return_rate(metrics.Scope(dealership_ids=ids, start=end - dt.timedelta(days=730), end=end))
    repeat = metrics.repeat_sale_rate(metrics.Scope(dealership_ids=ids, start=start - dt.timedelta(days=3 * 365), end=end))
    visits = world.visits
    after = sum(1 for v in visits if v.after_invitation)
    by_due = sum(1 for v in visits if v.day <= v.due_on + dt.timedelta(days=30))
    lost = Counter(
        dict(
            Touchpoint.objects.filter(due_on__range=(start, end), status__in=[Touchpoint.Status.SUPPRESSED, Touchpoint.Status.CANCELLED])
            .values_list("resolution")
            .annotate(n=Count("id"))
            .values_list("resolution", "n")
        )
    )
    attempts = CallAttempt.objects.filter(ended_at__date__range=(start, end))
    return {
        "service_return_rate": returned["rate"], "service_return_cohort": returned["vehicles"],
        "repeat_sale_rate": repeat["rate"], "repeat_purchases_in_run": world.repeat_purchases,
        "new_buyers_in_run": world.new_buyers, "trade_ins_in_run": world.trade_ins,
        "calls": attempts.count(), "reach_rate": contact["reach_rate"], "bookings": contact["bookings"],
        "plan_adherence": contact["plan_adherence"],
        "messages_sent": OutboxMessage.objects.filter(sent_at__date__range=(start, end)).count(),
        "maintenance_visits": len(visits),
        "visits_after_invitation_share": _share(after, len(visits)),
        "visits_by_due_plus_30_share": _share(by_due, len(visits)),
        "touchpoints_lost": sum(lost.values()),
        "touchpoints_lost_by_reason": dict(lost.most_common(12)),
    }
