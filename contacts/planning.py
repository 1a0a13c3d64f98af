"""Re-planning: load vehicles' facts in bulk, forecast, plan, and write only the difference.

The only place that joins the ORM with the forecast and plan cores for planning. Called by
``contacts.tasks.replan_vehicles`` (a chunk of vehicle ids) and by ``manage.py replan``.
Idempotent: a rerun with unchanged facts writes nothing; two runs at once leave one set of rows
(the natural key of Touchpoint is unique, and each chunk's write is one transaction).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from contacts import bulk
from contacts.models import REACHED_OUTCOMES, CallAttempt, Handoff, Touchpoint, TouchpointTemplate
from contacts.plan_engine import PlannedTouchpoint, SaleFact, TemplateSpec, VehicleFacts, plan_vehicle
from customers.forecasting import VehicleForecastInput, forecast_vehicles
from customers.models import Dealership, Sale, ServiceVisit, Vehicle

# Fields a re-plan may change on a stored, still-planned touchpoint.
MOVABLE_FIELDS = ("due_on", "window_start", "window_end", "reason", "reason_detail", "customer_id", "status")


@dataclass
class PlanWriteResult:
    vehicles: int = 0
    created: int = 0
    updated: int = 0
    cancelled: int = 0
    forecasts_written: int = 0
    touched_customer_ids: set[int] = field(default_factory=set)

    @property
    def rows_written(self) -> int:
        return self.created + self.updated + self.cancelled + self.forecasts_written


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


def build_facts(  # the plan engine's inputs for these vehicles, in a fixed number of queries
    *,
    vehicles: Sequence[Vehicle],
    today_by_dealership: dict[int, dt.date],
    store_forecasts: bool = True,
) -> tuple[list[VehicleFacts], int]:
    """Also stores the vehicles' forecasts; returns the facts and the number of forecast rows written."""
    ids = [v.id for v in vehicles]
    customer_ids = {v.owner_id for v in vehicles if v.owner_id}
    sales: dict[int, list[Sale]] = defaultdict(list)
    for sale in Sale.objects.filter(vehicle_id__in=ids).only("vehicle_id", "customer_id", "sold_on", "kind", "odometer_km"):
        sales[sale.vehicle_id].append(sale)
    maintenance: dict[int, list[dt.date]] = defaultdict(list)
    last_visit: dict[int, dt.date] = {}
    for vehicle_id, kind, visited_on in ServiceVisit.objects.filter(vehicle_id__in=ids).values_list(
        "vehicle_id", "kind", "visited_on"
    ):
        if kind == ServiceVisit.Kind.MAINTENANCE:
            maintenance[vehicle_id].append(visited_on)
        if vehicle_id not in last_visit or visited_on > last_visit[vehicle_id]:
            last_visit[vehicle_id] = visited_on
    last_reached: dict[int, dt.date] = {}
    for customer_id, ended_at in CallAttempt.objects.filter(
        customer_id__in=customer_ids, outcome__in=REACHED_OUTCOMES
    ).values_list("customer_id", "ended_at"):
        day = ended_at.date()
        if customer_id not in last_reached or day > last_reached[customer_id]:
            last_reached[customer_id] = day
    booked: dict[int, dt.date] = {}
    for vehicle_id, booked_on in Handoff.objects.filter(
        vehicle_id__in=ids, kind=Handoff.Kind.BOOKING, booked_on__isnull=False
    ).values_list("vehicle_id", "booked_on"):
        if vehicle_id is not None and booked_on is not None and (vehicle_id not in booked or booked_on > booked[vehicle_id]):
            booked[vehicle_id] = booked_on

    batch = forecast_vehicles(
        inputs=[
            VehicleForecastInput(
                vehicle=v,
                sales=tuple(sales[v.id]),
                maintenance_visits=tuple(sorted(maintenance[v.id])),
                today=today_by_dealership[v.dealership_id],
            )
            for v in vehicles
        ],
        store=store_forecasts,
    )
    facts: list[VehicleFacts] = []
    for vehicle in vehicles:
        owner_sales = [s for s in sales[vehicle.id] if s.customer_id == vehicle.owner_id]
        if vehicle.owner is None or not vehicle.is_active or not owner_sales:
            continue  # sold on, traded in, or never sold to its owner: no plan; its open touchpoints lapse
        owner = vehicle.owner
        forecast = batch.by_vehicle.get(vehicle.id)
        facts.append(
            VehicleFacts(
                vehicle_id=vehicle.id,
                customer_id=owner.id,
                sales=tuple(SaleFact(s.sold_on, s.kind, s.odometer_km) for s in owner_sales),  # type: ignore[arg-type]
                today=today_by_dealership[vehicle.dealership_id],
                birthday=owner.birthday,
                warranty_months=vehicle.warranty_months,
                warranty_km=vehicle.warranty_km,
                km_per_month=forecast.km_per_month if forecast else None,
                maintenance_due_dates=forecast.upcoming_due_dates if forecast else (),
                maintenance_due_drivers=forecast.upcoming_due_drivers if forecast else (),
                maintenance_visits=tuple(sorted(maintenance[vehicle.id])),
                maintenance_booked_on=booked.get(vehicle.id),
                last_reached_contact_on=last_reached.get(owner.id),
                last_visit_on=last_visit.get(vehicle.id),
                season_dates=season_dates(vehicle.dealership),
            )
        )
    return facts, batch.written


def plan_facts(facts: Iterable[VehicleFacts], specs: Sequence[TemplateSpec]) -> list[PlannedTouchpoint]:
    planned: list[PlannedTouchpoint] = []
    for vehicle_facts in facts:
        planned.extend(plan_vehicle(specs, vehicle_facts))
    return planned


def replan_vehicles(*, vehicle_ids: Sequence[int], now: dt.datetime | None = None) -> int:
    """Forecast and re-plan these vehicles; returns the rows written (0 when nothing changed)."""
    return replan(vehicle_ids=vehicle_ids, now=now).rows_written


def replan(*, vehicle_ids: Sequence[int], now: dt.datetime | None = None) -> PlanWriteResult:
    frozen_now = now or timezone.now()
    vehicles = list(
        Vehicle.objects.filter(id__in=list(vehicle_ids)).select_related("owner", "dealership").order_by("id")
    )
    result = PlanWriteResult(vehicles=len(vehicles))
    if not vehicles:
        return result
    today_by_dealership = {v.dealership_id: v.dealership.local_date(frozen_now) for v in vehicles}
    templates = active_templates()
    template_ids = {spec.code: row.id for row, spec in templates}
    with transaction.atomic():
        facts, result.forecasts_written = build_facts(vehicles=vehicles, today_by_dealership=today_by_dealership)
        planned = plan_facts(facts, [spec for _row, spec in templates])
        today_by_vehicle = {v.id: today_by_dealership[v.dealership_id] for v in vehicles}
        _write_difference(
            planned=planned,
            vehicle_ids=[v.id for v in vehicles],
            template_ids=template_ids,
            today_by_vehicle=today_by_vehicle,
            result=result,
        )
    return result


def _write_difference(
    *,
    planned: list[PlannedTouchpoint],
    vehicle_ids: list[int],
    template_ids: dict[str, int],
    today_by_vehicle: dict[int, dt.date],
    result: PlanWriteResult,
) -> None:
    """Insert new touchpoints, update moved ones, cancel obsolete planned ones; never touch issued/done.

    Touchpoints whose window closed before today are history: neither stored anew nor cancelled.
    """
    wanted: dict[tuple[int, int, dt.date, int], PlannedTouchpoint] = {}
    for tp in planned:
        if tp.window_end < today_by_vehicle[tp.vehicle_id]:
            continue
        template_id = template_ids.get(tp.code)
        if template_id is not None:
            wanted[(tp.vehicle_id, template_id, tp.cycle_start, tp.occurrence)] = tp
    # Plain tuples, not model instances: a chunk holds ~70,000 stored touchpoints and a rerun with
    # unchanged facts must stay cheap (it only compares).
    stored: dict[tuple[int, int, dt.date, int], tuple[Any, ...]] = {}
    for row in Touchpoint.objects.filter(vehicle_id__in=vehicle_ids).values_list(
        "vehicle_id", "template_id", "cycle_start", "occurrence",
        "id", "status", "due_on", "window_start", "window_end", "reason", "reason_detail", "customer_id",
    ):
        stored[(row[0], row[1], row[2], row[3])] = row[4:]
    to_create: list[Touchpoint] = []
    to_update: list[Touchpoint] = []
    for key, tp in wanted.items():
        found = stored.get(key)
        reason = tp.reason[:200]
        if found is None:
            to_create.append(
                Touchpoint(
                    vehicle_id=tp.vehicle_id,
                    customer_id=tp.customer_id,
                    template_id=key[1],
                    cycle_start=tp.cycle_start,
                    occurrence=tp.occurrence,
                    due_on=tp.due_on,
                    window_start=tp.window_start,
                    window_end=tp.window_end,
                    reason=reason,
                    reason_detail=tp.reason_detail,
                )
            )
            result.touched_customer_ids.add(tp.customer_id)
            continue
        pk, status, due_on, window_start, window_end, old_reason, old_detail, customer_id = found
        if status in (Touchpoint.Status.ISSUED, Touchpoint.Status.DONE):
            continue  # issued and done touchpoints are never touched
        revived = status == Touchpoint.Status.CANCELLED
        unchanged = (due_on, window_start, window_end, old_reason, old_detail, customer_id) == (
            tp.due_on, tp.window_start, tp.window_end, reason, tp.reason_detail, tp.customer_id
        )
        if unchanged and not revived:
            continue
        if status == Touchpoint.Status.SUPPRESSED and window_end == tp.window_end and not revived:
            continue  # the resolver's verdict stands while the window is the same
        to_update.append(
            Touchpoint(
                id=pk, due_on=tp.due_on, window_start=tp.window_start, window_end=tp.window_end, reason=reason,
                reason_detail=tp.reason_detail, customer_id=tp.customer_id, status=Touchpoint.Status.PLANNED,
            )
        )
        result.touched_customer_ids.add(tp.customer_id)
    obsolete = [
        row[0]
        for key, row in stored.items()
        if key not in wanted and row[1] == Touchpoint.Status.PLANNED and row[4] >= today_by_vehicle[key[0]]
    ]
    if to_create:
        # An existing natural key wins: a concurrent run that inserted it first made the same row.
        bulk.insert_touchpoints(to_create)
    if to_update:
        bulk.update_touchpoints(to_update, MOVABLE_FIELDS)
    if obsolete:
        Touchpoint.objects.filter(id__in=obsolete, status=Touchpoint.Status.PLANNED).update(
            status=Touchpoint.Status.CANCELLED, resolution="obsolete"
        )
    result.created, result.updated, result.cancelled = len(to_create), len(to_update), len(obsolete)
