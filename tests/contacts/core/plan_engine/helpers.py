"""Builders and readers shared by the plan engine's tests (tests/contacts/core/plan_engine/)."""

from __future__ import annotations

from datetime import date
from typing import Any

from contacts.core.plan_engine import (
    PlannedTouchpoint,
    SaleFact,
    TemplateSpec,
    VehicleFacts,
)

D = date


def _facts(**overrides: Any) -> VehicleFacts:
    base: dict[str, Any] = {
        "vehicle_id": 7,
        "customer_id": 3,
        "sales": (SaleFact(D(2025, 1, 15), "new", 0),),
        "today": D(2025, 1, 15),
        "km_per_month": 1500.0,
    }
    base.update(overrides)
    return VehicleFacts(**base)


def _tpl(**overrides: Any) -> TemplateSpec:
    base: dict[str, Any] = {
        "code": "t",
        "name_en": "T",
        "name_ru": "Т",
        "department": "sales",
        "channel": "call",
        "anchor": "sale",
    }
    base.update(overrides)
    return TemplateSpec(**base)


def _triples(plan: list[PlannedTouchpoint]) -> list[tuple[str, int, date]]:
    return [(tp.code, tp.occurrence, tp.due_on) for tp in plan]


def _codes(plan: list[PlannedTouchpoint]) -> set[str]:
    return {tp.code for tp in plan}
