"""From a chunk's facts to its plan, in memory: the fingerprint of a vehicle's inputs, the forecast and the plan engine's inputs, the planned touchpoints."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from contacts.core.plan_engine import (
    PlannedTouchpoint,
    SaleFact,
    TemplateSpec,
    VehicleFacts,
    plan_valid_until,
    plan_vehicle,
)
from contacts.models import TouchpointTemplate
from contacts.planning.facts import ChunkFacts, load_facts, season_dates
from customers.core.readings import Reading
from customers.forecasting import Interval, VehicleForecastInput, VehicleRow, forecast_vehicles
from customers.models import Vehicle

# Bump when the forecast or the plan engine computes differently from the same facts: every stored
# fingerprint then differs, and the next sweep re-plans every vehicle.
# 2: the local day left out (validity, contacts.core.plan_engine.validity); 3: conditional touchpoints
# keep the day they were planned for
FINGERPRINT_VERSION = 3


def global_inputs(templates: Sequence[tuple[TouchpointTemplate, TemplateSpec]], table: dict[tuple[str, str], Interval]) -> str:
    """A digest of what every vehicle's plan depends on besides its own facts: the templates, the
    maintenance schedules and the code's version."""
    inputs = repr((FINGERPRINT_VERSION, [(row.id, spec) for row, spec in templates], sorted(table.items())))
    return hashlib.blake2b(inputs.encode(), digest_size=16).hexdigest()


def fingerprint(
    facts: ChunkFacts, vehicle: VehicleRow, *, seasons: Any, prior: float | None, common: str,
    profile: tuple[float, ...] | None = None,
) -> int:
    """A 64-bit digest of everything a vehicle's forecast and plan are computed from but the day (the
    plan's validity covers the day: ``plan_with_validity``). The facts are plain tuples of ints,
    strings and dates, whose repr is the same in every process (unlike hash()). The dealership's
    seasonal ``profile`` is among them only when there is one: a dealership with none (flat) keeps the
    digests it had before profiles existed, since its forecasts are the same."""
    owner_id = facts.owner_of[vehicle.id]
    inputs: tuple[Any, ...] = (
        common, seasons, prior, vehicle, owner_id, facts.is_active[vehicle.id], facts.warranty[vehicle.id],
        # ``or None``: planning reads these defaultdicts and leaves an empty list where a vehicle had none
        facts.birthday.get(owner_id) if owner_id else None, facts.sales.get(vehicle.id) or None,
        facts.visits.get(vehicle.id) or None, facts.readings.get(vehicle.id) or None,
        facts.last_reached.get(owner_id) if owner_id else None,
        facts.booked.get(vehicle.id), facts.conditional_planned_on.get(vehicle.id),
    )
    if profile is not None:
        inputs = (*inputs, ("seasonality", profile))
    return int.from_bytes(hashlib.blake2b(repr(inputs).encode(), digest_size=8).digest(), "big", signed=True)


def plan_inputs(
    facts: ChunkFacts,
    vehicles: Sequence[VehicleRow],
    *,
    today_by_dealership: dict[int, dt.date],
    seasons_by_dealership: dict[int, tuple[tuple[int, int], ...]],
    store_forecasts: bool = True,
    table: dict[tuple[str, str], Interval] | None = None,
    priors: dict[str, float] | None = None,
    valid_until: dict[int, dt.date] | None = None,
    profiles: dict[int, tuple[float, ...]] | None = None,
) -> tuple[list[VehicleFacts], int]:
    """The plan engine's inputs for these vehicles; also stores their forecasts (unless told not to).
    Returns the facts and the number of forecast rows written; ``valid_until``, when given, receives
    the first day each vehicle's forecast may change."""
    batch = forecast_vehicles(
        inputs=[
            VehicleForecastInput(
                vehicle=v,
                sales=tuple(facts.sales[v.id]),
                readings=tuple(
                    Reading(read_on=day, odometer_km=km, reading_id=pk) for pk, day, km in facts.readings[v.id]
                ),
                maintenance=facts.maintenance(v.id),
                today=today_by_dealership[v.dealership_id],
                habit_errors=tuple(facts.habit_errors.get(v.id, ())),
            )
            for v in vehicles
        ],
        store=store_forecasts,
        table=table,
        priors=priors,
        profiles=profiles,
    )
    if valid_until is not None:
        valid_until.update(batch.valid_until)
    result: list[VehicleFacts] = []
    for vehicle in vehicles:
        owner_id = facts.owner_of[vehicle.id]
        owner_sales = [s for s in facts.sales[vehicle.id] if s.customer_id == owner_id]
        if owner_id is None or not facts.is_active[vehicle.id] or not owner_sales:
            continue  # sold on, traded in, or never sold to its owner: no plan; its open touchpoints lapse
        forecast = batch.by_vehicle.get(vehicle.id)
        maintenance_days = tuple(day for day, _km in facts.maintenance(vehicle.id))
        visits = facts.visits[vehicle.id]
        warranty_months, warranty_km = facts.warranty[vehicle.id]
        result.append(
            VehicleFacts(
                vehicle_id=vehicle.id,
                customer_id=owner_id,
                sales=tuple(SaleFact(s.sold_on, s.kind, s.odometer_km) for s in owner_sales),  # type: ignore[arg-type]
                today=today_by_dealership[vehicle.dealership_id],
                birthday=facts.birthday.get(owner_id),
                warranty_months=warranty_months,
                warranty_km=warranty_km,
                km_per_month=forecast.km_per_month if forecast else None,
                maintenance_due_dates=forecast.upcoming_due_dates if forecast else (),
                maintenance_due_drivers=forecast.upcoming_due_drivers if forecast else (),
                maintenance_visits=maintenance_days,
                maintenance_booked_on=facts.booked.get(vehicle.id),
                last_reached_contact_on=facts.last_reached.get(owner_id),
                last_visit_on=max((day for _kind, day, _km in visits), default=None),
                season_dates=seasons_by_dealership[vehicle.dealership_id],
                conditional_planned_on=facts.conditional_planned_on.get(vehicle.id, ()),
            )
        )
    return result, batch.written


def build_facts(
    *, vehicles: Sequence[Vehicle], today_by_dealership: dict[int, dt.date], store_forecasts: bool = True
) -> tuple[list[VehicleFacts], int]:
    """The plan engine's inputs for these vehicles (the preview and ``show_plan`` plan in memory)."""
    facts = load_facts([v.id for v in vehicles])
    seasons = {v.dealership_id: season_dates(v.dealership) for v in vehicles}
    return plan_inputs(
        facts, facts.vehicles, today_by_dealership=today_by_dealership, seasons_by_dealership=seasons,
        store_forecasts=store_forecasts,
    )


def plan_with_validity(
    facts: Iterable[VehicleFacts], specs: Sequence[TemplateSpec], valid_until: dict[int, dt.date]
) -> list[PlannedTouchpoint]:
    """The planned touchpoints; ``valid_until`` (holding each vehicle's forecast's) is lowered to the
    first day each vehicle's plan may change."""
    planned: list[PlannedTouchpoint] = []
    for vehicle_facts in facts:
        touchpoints = plan_vehicle(specs, vehicle_facts)
        planned.extend(touchpoints)
        until = plan_valid_until(specs, vehicle_facts, touchpoints)
        vehicle_id = vehicle_facts.vehicle_id
        valid_until[vehicle_id] = min(valid_until.get(vehicle_id, dt.date.max), until)
    return planned


def plan_facts(facts: Iterable[VehicleFacts], specs: Sequence[TemplateSpec]) -> list[PlannedTouchpoint]:
    planned: list[PlannedTouchpoint] = []
    for vehicle_facts in facts:
        planned.extend(plan_vehicle(specs, vehicle_facts))
    return planned
