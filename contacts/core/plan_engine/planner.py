"""The state of one ``plan_vehicle`` call (``_Planner``): the cycle and its bounds, the facts derived
from the vehicle's (the cycle's sale, the warranty end, maintenance numbers, the last contact), the
touchpoints emitted so far, and their conversion into ``PlannedTouchpoint`` objects."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, timedelta
from typing import Final, cast

from contacts.core.plan_engine.dates import _months_between
from contacts.core.plan_engine.rules import _Rule
from contacts.core.plan_engine.types import (
    AFTER_CYCLE_HORIZON_MONTHS,
    BOOKING_MATCH_DAYS_AFTER_DUE,
    CYCLE_MONTHS,
    VISIT_MATCH_DAYS_BEFORE_DUE,
    PlannedPhase,
    PlannedTouchpoint,
    SaleFact,
    VehicleFacts,
)
from customers.core.calendar import add_months

#: Average days per month, for turning remaining warranty km into a date.
_DAYS_PER_MONTH: Final = 365.2425 / 12


class _TouchpointBuilder:
    """The slot layout of ``PlannedTouchpoint``, writable.

    A frozen dataclass's ``__init__`` sets every field through ``object.__setattr__``, which makes it about
    four times slower than plain slot stores; at ~40 touchpoints per vehicle that alone would cost most of
    the per-vehicle budget. ``_Planner.touchpoints`` fills a bare builder and then switches its class to
    ``PlannedTouchpoint`` (same slots, so CPython allows it): the result is an ordinary, frozen
    ``PlannedTouchpoint``, equal to one built by its constructor (tested).
    """

    __slots__ = (
        "code",
        "occurrence",
        "cycle_start",
        "due_on",
        "window_start",
        "window_end",
        "department",
        "channel",
        "priority",
        "reason",
        "reason_detail",
        "vehicle_id",
        "customer_id",
        "phase",
    )

    code: str
    occurrence: int
    cycle_start: date
    due_on: date
    window_start: date
    window_end: date
    department: str
    channel: str
    priority: int
    reason: str
    reason_detail: dict[str, str]
    vehicle_id: int
    customer_id: int
    phase: PlannedPhase


if _TouchpointBuilder.__slots__ != tuple(f.name for f in fields(PlannedTouchpoint)):  # pragma: no cover
    raise RuntimeError("_TouchpointBuilder must have PlannedTouchpoint's fields, in order")

_set_class = object.__setattr__
_new_object = object.__new__


def cycle_sale(facts: VehicleFacts) -> SaleFact | None:
    """The sale the vehicle's current cycle is anchored at (see ``VehicleFacts``), or None without sales."""
    if not facts.sales:
        return None
    today = facts.today
    best: SaleFact | None = None
    for sale in facts.sales:
        if sale.sold_on <= today and (best is None or sale.sold_on > best.sold_on):
            best = sale
    if best is None:
        best = min(facts.sales, key=lambda s: s.sold_on)
    return best


def warranty_end(facts: VehicleFacts, sale: SaleFact) -> tuple[date, str] | None:
    """(warranty end date, driver "time" or "km") or None when the vehicle has no warranty terms.

    Time: warranty start + ``warranty_months``. Mileage: the day the odometer is predicted to reach
    ``warranty_km`` from the odometer at the sale at ``km_per_month``. The earlier wins; a tie is "time".
    """
    time_end: date | None = None
    if facts.warranty_months:
        time_end = add_months(facts.warranty_starts_on or sale.sold_on, facts.warranty_months)
    km_end: date | None = None
    if facts.warranty_km and facts.km_per_month and facts.km_per_month > 0:
        remaining = facts.warranty_km - sale.odometer_km
        days = 0 if remaining <= 0 else round(remaining / facts.km_per_month * _DAYS_PER_MONTH)
        km_end = sale.sold_on + timedelta(days=days)
    elif facts.warranty_km and sale.odometer_km >= facts.warranty_km:
        km_end = sale.sold_on
    if time_end is None and km_end is None:
        return None
    if km_end is None or (time_end is not None and time_end <= km_end):
        assert time_end is not None
        return time_end, "time"
    return km_end, "km"


_CYCLE: Final[PlannedPhase] = "cycle"
_AFTER_CYCLE: Final[PlannedPhase] = "after_cycle"
_VISIT_MATCH: Final = timedelta(days=VISIT_MATCH_DAYS_BEFORE_DUE)
_BOOKING_MATCH: Final = timedelta(days=BOOKING_MATCH_DAYS_AFTER_DUE)


class _Planner:
    """The state of one ``plan_vehicle`` call."""

    __slots__ = (
        "facts",
        "sale",
        "start",
        "start_iso",
        "cycle_end",
        "after_end",
        "today",
        "bounds",
        "out",
        "vehicle_id",
        "customer_id",
        "_dues",
        "_visits",
        "_registered_on",
        "_kpm",
        "_planned_on",
    )

    def __init__(self, facts: VehicleFacts, sale: SaleFact, horizon_end: date | None) -> None:
        self.facts = facts
        self.sale = sale
        self.today = facts.today
        start = self.start = sale.sold_on
        self.start_iso = start.isoformat()
        cycle_end = add_months(start, CYCLE_MONTHS)
        traded = facts.traded_in_on
        if traded is not None and traded >= start:
            cycle_end = min(cycle_end, traded)
            after_end = cycle_end  # no after-cycle for a vehicle that left the customer
        else:
            after_end = horizon_end or add_months(self.today, AFTER_CYCLE_HORIZON_MONTHS)
        self.cycle_end = cycle_end
        self.after_end = after_end
        cap = horizon_end or date.max
        # [lower, upper) per template phase
        self.bounds: dict[str, tuple[date, date]] = {
            "cycle": (start, min(cycle_end, cap)),
            "after_cycle": (cycle_end, min(after_end, cap)),
            "always": (start, min(max(cycle_end, after_end), cap)),
        }
        # (due_on, priority, code, occurrence, rule, reason, detail): sorted as tuples, built at the end
        self.out: list[tuple[date, int, str, int, _Rule, str, dict[str, str]]] = []
        self.vehicle_id = facts.vehicle_id
        self.customer_id = facts.customer_id
        self._dues: list[tuple[int, date, str]] | None = None
        self._visits: list[date] | None = None
        self._registered_on: date | None = None
        kpm = facts.km_per_month
        self._kpm = "" if kpm is None else f"{kpm:.0f}"
        self._planned_on: dict[tuple[str, int], date] | None = None

    def _stored(self) -> dict[tuple[str, int], date]:
        planned_on = self._planned_on
        if planned_on is None:
            start = self.start
            planned_on = self._planned_on = {
                (code, occurrence): day
                for code, cycle_start, occurrence, day in self.facts.conditional_planned_on
                if cycle_start == start
            }
        return planned_on

    def stored_day(self, code: str, occurrence: int) -> date | None:
        """The day this cycle's conditional touchpoint was stored for (``VehicleFacts.conditional_planned_on``)."""
        return self._stored().get((code, occurrence))

    def stored_occurrences(self, code: str) -> list[int]:
        """The occurrences of this cycle's stored (not cancelled) touchpoints of a conditional template."""
        return [occurrence for stored_code, occurrence in self._stored() if stored_code == code]

    def conditional_day(self, rule: _Rule, occurrence: int, threshold: date) -> date:
        """The day of a conditional touchpoint whose threshold has come: the day it was planned for
        when it is still stored so (and on or after the threshold), else today. It does not move with
        every new today: its window runs out as the program says every touchpoint's does."""
        today = self.today
        stored = self.stored_day(rule.code, occurrence)
        if stored is not None and threshold <= stored <= today:
            return stored
        return max(threshold, today)

    def emit(self, rule: _Rule, occurrence: int, due_on: date, reason: str, detail: dict[str, str]) -> None:
        if rule.age_limited and not self._age_allows(rule, due_on):
            return
        self.out.append((due_on, rule.priority, rule.code, occurrence, rule, reason, detail))

    def touchpoints(self) -> list[PlannedTouchpoint]:
        """The emitted touchpoints, sorted by (due_on, priority, code, occurrence)."""
        pending = self.out
        pending.sort()  # (code, occurrence) is unique, so the rules and details are never compared
        start, cycle_end = self.start, self.cycle_end
        vehicle_id, customer_id = self.vehicle_id, self.customer_id
        new, builder, cls, set_class = _new_object, _TouchpointBuilder, PlannedTouchpoint, _set_class
        result: list[PlannedTouchpoint] = []
        append = result.append
        for due_on, priority, code, occurrence, rule, reason, detail in pending:
            tp = new(builder)
            tp.code = code
            tp.occurrence = occurrence
            tp.cycle_start = start
            tp.due_on = due_on
            window_start = rule.window_start
            tp.window_start = due_on + window_start if window_start else due_on
            tp.window_end = due_on + rule.window_end
            tp.department = rule.department
            tp.channel = rule.channel
            tp.priority = priority
            tp.reason = reason
            tp.reason_detail = detail
            tp.vehicle_id = vehicle_id
            tp.customer_id = customer_id
            tp.phase = _CYCLE if due_on < cycle_end else _AFTER_CYCLE
            set_class(tp, "__class__", cls)
            append(cast(PlannedTouchpoint, tp))
        return result

    def _age_allows(self, rule: _Rule, due_on: date) -> bool:
        age = _months_between(self.registered_on(), due_on)
        if rule.min_age is not None and age < rule.min_age:
            return False
        return rule.max_age is None or age <= rule.max_age

    # ----------------------------------------------------------------- derived facts

    def registered_on(self) -> date:
        if self._registered_on is None:
            reg = self.facts.first_registered_on
            if reg is None:
                new_sales = [s.sold_on for s in self.facts.sales if s.kind == "new"]
                reg = min(new_sales) if new_sales else self.start
            self._registered_on = reg
        return self._registered_on

    def visits(self) -> list[date]:
        """The maintenance visits from the cycle start on, by date, without duplicates."""
        if self._visits is None:
            start = self.start
            self._visits = sorted({v for v in self.facts.maintenance_visits if v >= start})
        return self._visits

    def dues(self) -> list[tuple[int, date, str]]:
        """(maintenance number, due date, driver), by date.

        Number = 1 + the cycle's maintenance visits before (due - 60 days), and at least one more than the
        previous due date's number: stable whether the caller passes the past due dates or only the next.
        """
        if self._dues is None:
            facts = self.facts
            drivers = facts.maintenance_due_drivers or ("",) * len(facts.maintenance_due_dates)
            visits = self.visits()
            result: list[tuple[int, date, str]] = []
            previous = 0
            last_due: date | None = None
            for due, driver in sorted(zip(facts.maintenance_due_dates, drivers, strict=True)):
                if due == last_due:
                    continue
                last_due = due
                threshold = due - _VISIT_MATCH
                done_before = 0
                for visit in visits:
                    if visit >= threshold:
                        break
                    done_before += 1
                number = max(previous + 1, done_before + 1)
                result.append((number, due, driver))
                previous = number
            self._dues = result
        return self._dues

    def due_detail(self, number: int, due_iso: str, driver: str) -> dict[str, str]:
        detail = {"due_on": due_iso, "maintenance_number": str(number)}
        if self._kpm:
            detail["km_per_month"] = self._kpm
        if driver:
            detail["driver"] = driver
        return detail

    def last_contact(self) -> tuple[date, str]:
        """The latest of the sale, the last visit, the last maintenance visit and the last reached call,
        ignoring dates after today."""
        today = self.today
        best, source = self.start, "sale"
        facts = self.facts
        if facts.last_visit_on is not None and best < facts.last_visit_on <= today:
            best, source = facts.last_visit_on, "visit"
        for visit in self.visits():
            if best < visit <= today:
                best, source = visit, "maintenance"
        if facts.last_reached_contact_on is not None and best < facts.last_reached_contact_on <= today:
            best, source = facts.last_reached_contact_on, "call"
        return best, source
