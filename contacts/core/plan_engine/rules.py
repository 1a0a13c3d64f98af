"""Templates compiled for planning (``_Rule``): resolved windows and offsets, memoised for the last
template set."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from contacts.core.plan_engine.types import TemplateSpec
from customers.core.calendar import add_months


class _Rule:
    """A template compiled for planning: resolved windows and offsets, the anchor's planner."""

    __slots__ = (
        "spec",
        "code",
        "department",
        "channel",
        "priority",
        "anchor",
        "recurrence",
        "offset_months",
        "offset",
        "window_start",
        "window_end",
        "phase",
        "sale_kinds",
        "requires_birthday",
        "skip_when_booked_or_done",
        "min_age",
        "max_age",
        "age_limited",
        "seasons",
        "is_active",
    )

    def __init__(self, spec: TemplateSpec) -> None:
        self.spec = spec
        self.code = spec.code
        self.department = spec.department
        self.channel = spec.channel
        self.priority = spec.priority
        self.anchor = spec.anchor
        self.recurrence = spec.recurrence
        self.offset_months = spec.offset_months
        self.offset = timedelta(days=spec.offset_days)
        self.window_start = timedelta(days=spec.resolved_window_start_days)
        self.window_end = timedelta(days=spec.resolved_window_end_days)
        self.phase = spec.phase
        self.sale_kinds = frozenset(spec.sale_kinds)
        self.requires_birthday = spec.requires_birthday
        self.skip_when_booked_or_done = spec.skip_when_maintenance_booked_or_done
        self.min_age = spec.min_vehicle_age_months
        self.max_age = spec.max_vehicle_age_months
        self.age_limited = self.min_age is not None or self.max_age is not None
        self.seasons = spec.season_dates
        self.is_active = spec.is_active

    def shift(self, day: date) -> date:
        """``day`` + the template's offset (months, then days)."""
        if self.offset_months:
            day = add_months(day, self.offset_months)
        return day + self.offset


_compiled: tuple[tuple[TemplateSpec, ...], tuple[_Rule, ...]] | None = None


def _compile(templates: Sequence[TemplateSpec]) -> tuple[_Rule, ...]:
    """The compiled rules, memoised for the last template set (templates are frozen: identity suffices)."""
    global _compiled
    cached = _compiled
    if cached is not None:
        specs, rules = cached
        if specs is templates or (
            len(specs) == len(templates) and all(a is b for a, b in zip(specs, templates, strict=True))
        ):
            return rules
    codes: set[str] = set()
    for spec in templates:
        if spec.code in codes:
            raise ValueError(f"duplicate template code {spec.code!r}")
        codes.add(spec.code)
    rules = tuple(_Rule(spec) for spec in templates)
    _compiled = (tuple(templates), rules)
    return rules
