"""``plan_vehicle``: the templates that apply to the vehicle, each planned by its anchor, the keep-alive
calls last; and docs/program.md's reference vehicle."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from contacts.core.plan_engine.anchors import _PLANNERS, plan_keep_alive, plan_lapsed
from contacts.core.plan_engine.planner import _Planner, cycle_sale
from contacts.core.plan_engine.rules import _compile, _Rule
from contacts.core.plan_engine.types import PlannedTouchpoint, SaleFact, TemplateSpec, VehicleFacts


def plan_vehicle(
    templates: Sequence[TemplateSpec], facts: VehicleFacts, *, horizon_end: date | None = None
) -> list[PlannedTouchpoint]:
    """The plan of one vehicle: its current cycle (past touchpoints included) and, after the cycle, the
    after-cycle templates up to ``today`` + 12 months.

    ``horizon_end`` (exclusive), when given, caps the whole plan and replaces ``today`` + 12 months as the
    after-cycle horizon. Sorted by (due_on, priority, code, occurrence). Template codes must be unique
    (``ValueError`` otherwise); inactive templates are ignored.
    """
    rules = _compile(templates)
    sale = cycle_sale(facts)
    if sale is None:
        return []
    planner = _Planner(facts, sale, horizon_end)
    kind = sale.kind
    has_birthday = facts.birthday is not None
    keep_alive: list[_Rule] = []
    lapsed_planned = False
    out = planner.out
    for rule in rules:
        if not rule.is_active:
            continue
        if rule.sale_kinds and kind not in rule.sale_kinds:
            continue
        if rule.requires_birthday and not has_birthday:
            continue
        anchor = rule.anchor
        if anchor == "keep_alive":
            keep_alive.append(rule)
        elif anchor == "lapsed":
            before = len(out)
            plan_lapsed(planner, rule)
            lapsed_planned = lapsed_planned or len(out) > before
        else:
            _PLANNERS[anchor](planner, rule)
    for rule in keep_alive:
        plan_keep_alive(planner, rule, lapsed_planned)
    return planner.touchpoints()


def reference_vehicle_facts(today: date = date(2025, 1, 15)) -> VehicleFacts:
    """docs/program.md's reference vehicle: sold new on 2025-01-15 at 0 km, customer born 1985-06-20,
    1,500 km a month, maintenance every 15,000 km / 12 months (due by mileage every 10 months), warranty
    36 months / 100,000 km, insurance on the sale anniversary, and the customer comes to each maintenance
    of the cycle on its predicted date."""
    return VehicleFacts(
        vehicle_id=1,
        customer_id=1,
        sales=(SaleFact(date(2025, 1, 15), "new", 0),),
        today=today,
        birthday=date(1985, 6, 20),
        warranty_months=36,
        warranty_km=100_000,
        km_per_month=1500.0,
        maintenance_due_dates=(date(2025, 11, 15), date(2026, 9, 15), date(2027, 7, 15), date(2028, 5, 15)),
        maintenance_due_drivers=("km", "km", "km", "km"),
        maintenance_visits=(date(2025, 11, 15), date(2026, 9, 15), date(2027, 7, 15)),
    )
