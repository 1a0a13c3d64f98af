"""The facts a re-plan reads, loaded in bulk for a chunk of vehicles, and the admin's templates as the engine's."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max

from contacts.core.plan_engine import CONDITIONAL_ANCHORS, TemplateSpec
from contacts.models import REACHED_OUTCOMES, CallAttempt, Handoff, Touchpoint, TouchpointTemplate
from customers.forecasting import SaleRow, VehicleRow
from customers.models import Dealership, OdometerReading, Sale, ServiceVisit, Vehicle


def template_spec(template: TouchpointTemplate) -> TemplateSpec:
    """An admin-editable template row as the pure engine's TemplateSpec."""
    return TemplateSpec(
        code=template.code,
        name_en=template.name_en,
        name_ru=template.name_ru,
        department=template.department.code,
        channel=template.channel,  # type: ignore[arg-type]
        anchor=template.anchor,  # type: ignore[arg-type]
        offset_days=template.offset_days,
        offset_months=template.offset_months,
        recurrence=template.recurrence,  # type: ignore[arg-type]
        window_start_days=template.window_start_days,
        window_end_days=template.window_end_days,
        priority=template.priority,
        sale_kinds=tuple(template.sale_kinds or ()),
        requires_birthday=template.requires_birthday,
        skip_when_maintenance_booked_or_done=template.skip_when_maintenance_booked_or_done,
        min_vehicle_age_months=template.min_vehicle_age_months,
        max_vehicle_age_months=template.max_vehicle_age_months,
        phase=template.phase,  # type: ignore[arg-type]
        is_active=template.is_active,
    )


def active_templates() -> list[tuple[TouchpointTemplate, TemplateSpec]]:
    rows = TouchpointTemplate.objects.filter(is_active=True).select_related("department").order_by("code")
    return [(row, template_spec(row)) for row in rows]


def season_dates(dealership: Dealership) -> tuple[tuple[int, int], ...]:
    return tuple(
        (int(value[:2]), int(value[3:5])) for value in (dealership.spring_tyre_day, dealership.autumn_tyre_day)
    )


@dataclass
class ChunkFacts:
    """The raw facts of a chunk of vehicles, as plain tuples, loaded in a fixed number of queries."""

    vehicles: list[VehicleRow]
    owner_of: dict[int, int | None]
    is_active: dict[int, bool]
    warranty: dict[int, tuple[int, int]]
    birthday: dict[int, dt.date | None]  # by customer id
    sales: dict[int, list[SaleRow]] = field(default_factory=lambda: defaultdict(list))
    visits: dict[int, list[tuple[str, dt.date, int]]] = field(default_factory=lambda: defaultdict(list))
    readings: dict[int, list[tuple[int, dt.date, int]]] = field(default_factory=lambda: defaultdict(list))  # id, day, km
    last_reached: dict[int, dt.date] = field(default_factory=dict)  # by customer id
    booked: dict[int, dt.date] = field(default_factory=dict)
    # the conditional touchpoints' planned days (code, cycle start, occurrence, day), by vehicle:
    # VehicleFacts.conditional_planned_on
    conditional_planned_on: dict[int, tuple[tuple[str, dt.date, int, dt.date], ...]] = field(default_factory=dict)
    # Each maintenance visit's stored forecast error: (visit id, day, km, stamp, error days), by vehicle.
    # Derived from the other facts (customers.core.forecast.habit_errors), so not in the fingerprint.
    habit_errors: dict[int, list[tuple[int, dt.date, int, int | None, int | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def maintenance(self, vehicle_id: int) -> tuple[tuple[dt.date, int], ...]:
        return tuple(sorted((day, km) for kind, day, km in self.visits[vehicle_id] if kind == ServiceVisit.Kind.MAINTENANCE))


def vehicle_filter(wanted: set[int]) -> dict[str, Any]:
    """Filter arguments that select at least these vehicles' rows: their id range when the ids are
    dense (a sweep's chunk), else an IN list. The caller drops rows of vehicles it did not ask for."""
    low, high = min(wanted), max(wanted)
    if len(wanted) >= 100 and high - low < 2 * len(wanted):
        return {"vehicle_id__gte": low, "vehicle_id__lte": high}
    return {"vehicle_id__in": sorted(wanted)}


def load_facts(vehicle_ids: Sequence[int]) -> ChunkFacts:
    """Every fact the forecast and the plan read, for these vehicles.

    A chunk is read by its id range (and what lies in the range but not in the chunk is dropped here):
    an IN list of 2,000 parameters costs more to send than the rows it selects.
    """
    wanted = set(vehicle_ids)
    if not wanted:
        return ChunkFacts(vehicles=[], owner_of={}, is_active={}, warranty={}, birthday={})
    in_chunk = vehicle_filter(wanted)
    rows = [
        row
        for row in Vehicle.objects.filter(**{name.replace("vehicle_id", "id"): value for name, value in in_chunk.items()})
        .order_by("id")
        .values_list(
            "id", "dealership_id", "make", "model", "maintenance_interval_km", "maintenance_interval_months",
            "owner_id", "is_active", "warranty_months", "warranty_km", "owner__birthday",
        )
        if row[0] in wanted
    ]
    facts = ChunkFacts(
        vehicles=[VehicleRow(*row[:6]) for row in rows],
        owner_of={row[0]: row[6] for row in rows},
        is_active={row[0]: row[7] for row in rows},
        warranty={row[0]: (row[8], row[9]) for row in rows},
        birthday={row[6]: row[10] for row in rows if row[6] is not None},
    )
    _load_vehicle_facts(facts, in_chunk, wanted)
    _load_contact_facts(facts, in_chunk, wanted)
    load_conditional_days(facts, in_chunk, wanted)
    return facts


def _load_vehicle_facts(facts: ChunkFacts, in_chunk: dict[str, Any], wanted: set[int]) -> None:
    """The chunk's sales, service visits and odometer readings."""
    for vehicle_id, customer_id, sold_on, kind, km in Sale.objects.filter(**in_chunk).order_by("-sold_on", "id").values_list(
        "vehicle_id", "customer_id", "sold_on", "kind", "odometer_km"
    ):
        if vehicle_id in wanted:
            facts.sales[vehicle_id].append(SaleRow(customer_id, sold_on, kind, km))
    for visit_id, vehicle_id, kind, visited_on, km, stamp, error in (
        ServiceVisit.objects.filter(**in_chunk).order_by("id").values_list(
            "id", "vehicle_id", "kind", "visited_on", "odometer_km", "habit_error_stamp", "habit_error_days"
        )
    ):
        if vehicle_id in wanted:
            facts.visits[vehicle_id].append((kind, visited_on, km))
            if kind == ServiceVisit.Kind.MAINTENANCE:
                facts.habit_errors[vehicle_id].append((visit_id, visited_on, km, stamp, error))
    for reading_id, vehicle_id, read_on, km in OdometerReading.objects.filter(**in_chunk).order_by("read_on", "id").values_list(
        "id", "vehicle_id", "read_on", "odometer_km"
    ):
        if vehicle_id in wanted:
            facts.readings[vehicle_id].append((reading_id, read_on, km))


def _load_contact_facts(facts: ChunkFacts, in_chunk: dict[str, Any], wanted: set[int]) -> None:
    """When each owner was last reached by a call, and each car's latest booked visit."""
    for customer_id, ended_at in (
        CallAttempt.objects.filter(customer_id__in=set(facts.birthday), outcome__in=REACHED_OUTCOMES)
        .values("customer_id")
        .annotate(last=Max("ended_at"))
        .values_list("customer_id", "last")
    ):
        facts.last_reached[customer_id] = ended_at.date()
    for vehicle_id, booked_on in (
        Handoff.objects.filter(**in_chunk, kind=Handoff.Kind.BOOKING, booked_on__isnull=False)
        .values("vehicle_id")
        .annotate(last=Max("booked_on"))
        .values_list("vehicle_id", "last")
    ):
        if vehicle_id in wanted:
            facts.booked[vehicle_id] = booked_on


def load_conditional_days(facts: ChunkFacts, in_chunk: dict[str, Any], wanted: set[int]) -> None:
    """The day each stored conditional touchpoint was planned for (cancelled ones are not: a condition
    that went away and came back is found anew)."""
    days: dict[int, list[tuple[str, dt.date, int, dt.date]]] = defaultdict(list)
    for vehicle_id, code, cycle_start, occurrence, due_on in (
        Touchpoint.objects.filter(**in_chunk, template__anchor__in=sorted(CONDITIONAL_ANCHORS))
        .exclude(status=Touchpoint.Status.CANCELLED)
        .order_by("vehicle_id", "template__code", "cycle_start", "occurrence")
        .values_list("vehicle_id", "template__code", "cycle_start", "occurrence", "due_on")
    ):
        if vehicle_id in wanted:
            days[vehicle_id].append((code, cycle_start, occurrence, due_on))
    facts.conditional_planned_on = {vehicle_id: tuple(rows) for vehicle_id, rows in days.items()}
