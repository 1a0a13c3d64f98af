"""The plan engine: touchpoint templates + one vehicle's facts -> its dated touchpoints with windows.

Pure and deterministic: standard library only, frozen dataclasses in and out, ``today`` is passed in
(the clock is never read). See ``docs/program.md`` for the default program this engine plans
and ``contacts/core/program.py`` for that program as data.

The plan of a vehicle covers its current **cycle**: from the latest sale of this vehicle to this customer
up to (not including) that date + 36 months, or up to the day the vehicle was traded in. Past touchpoints
of the cycle are planned too, so that the caller can store the plan idempotently under the natural key
(vehicle, template code, cycle start, occurrence). After the cycle (no trade-in), templates whose phase
allows it are planned from the cycle end up to ``today`` + 12 months (or ``horizon_end``).

Occurrence numbers are stable across re-plans:

- ``once``: 1;
- ``per_maintenance``: the maintenance number (TO-1, TO-2, ...) of the due date, see ``_Planner.dues``;
- ``per_visit``: the index of the maintenance visit among the cycle's visits, by date;
- ``yearly``: the anniversary number for the sale and insurance anchors (1 = the first anniversary after
  the cycle start), the calendar year index (cycle start's year = 1) for birthdays;
- ``seasonal``: (calendar year - cycle start's year) * number of seasons + season index + 1;
- the conditional ``lapsed`` and ``keep_alive``: whole months from the cycle start to the last contact + 1,
  i.e. one occurrence per "silence" episode.

Conditional touchpoints (``missed_maintenance``, ``lapsed``, ``keep_alive`` anchors) depend on ``today``
and are dated at their threshold but not earlier than ``today``; everything else in the cycle depends
only on the facts, not on ``today``.

The package, one topic a module: ``types`` (the literals, constants and the frozen inputs and output),
``dates`` (calendar helpers, season dates), ``rules`` (templates compiled for planning), ``planner`` (the
state of one call: cycle bounds, derived facts, the touchpoints built), ``anchors`` (one planner per
anchor) and ``plan`` (``plan_vehicle``, the reference vehicle). Callers import from the package.
"""

from __future__ import annotations

from contacts.core.plan_engine.dates import MonthDay, parse_season_dates
from contacts.core.plan_engine.plan import plan_vehicle, reference_vehicle_facts
from contacts.core.plan_engine.planner import cycle_sale, warranty_end
from contacts.core.plan_engine.types import (
    AFTER_CYCLE_HORIZON_MONTHS,
    ANCHOR_RECURRENCES,
    ANCHORS,
    BOOKING_MATCH_DAYS_AFTER_DUE,
    CHANNELS,
    CONDITIONAL_ANCHORS,
    CYCLE_MONTHS,
    DEFAULT_SEASON_DATES,
    DEFAULT_WINDOW_END_DAYS,
    PHASES,
    RECURRENCES,
    SALE_KINDS,
    VISIT_MATCH_DAYS_BEFORE_DUE,
    Anchor,
    ChannelCode,
    Phase,
    PlannedPhase,
    PlannedTouchpoint,
    Recurrence,
    SaleFact,
    SaleKind,
    TemplateSpec,
    VehicleFacts,
)
from contacts.core.plan_engine.validity import plan_valid_until

__all__ = [
    "AFTER_CYCLE_HORIZON_MONTHS",
    "ANCHORS",
    "ANCHOR_RECURRENCES",
    "BOOKING_MATCH_DAYS_AFTER_DUE",
    "CHANNELS",
    "CONDITIONAL_ANCHORS",
    "CYCLE_MONTHS",
    "DEFAULT_SEASON_DATES",
    "DEFAULT_WINDOW_END_DAYS",
    "PHASES",
    "RECURRENCES",
    "SALE_KINDS",
    "VISIT_MATCH_DAYS_BEFORE_DUE",
    "Anchor",
    "ChannelCode",
    "MonthDay",
    "Phase",
    "PlannedPhase",
    "PlannedTouchpoint",
    "Recurrence",
    "SaleFact",
    "SaleKind",
    "TemplateSpec",
    "VehicleFacts",
    "cycle_sale",
    "parse_season_dates",
    "plan_valid_until",
    "plan_vehicle",
    "reference_vehicle_facts",
    "warranty_end",
]
