"""The plan engine's vocabulary and data: the anchors, recurrences, channels, phases and kinds of sale
(as literals, kept in step with the models by tests/contacts/core/test_mirrors.py), the program's
constants, and the frozen inputs (``TemplateSpec``, ``SaleFact``, ``VehicleFacts``) and output
(``PlannedTouchpoint``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Final, Literal, get_args

from contacts.core.plan_engine.dates import MonthDay, parse_season_dates

Anchor = Literal[
    "sale",
    "maintenance_due",
    "maintenance_visit",
    "warranty_end",
    "insurance_renewal",
    "birthday",
    "season",
    "missed_maintenance",
    "lapsed",
    "keep_alive",
]
Recurrence = Literal["once", "per_maintenance", "per_visit", "yearly", "seasonal"]
ChannelCode = Literal["call", "sms", "email"]
Phase = Literal["cycle", "after_cycle", "always"]
SaleKind = Literal["new", "used", "trade_in"]
PlannedPhase = Literal["cycle", "after_cycle"]

ANCHORS: Final[tuple[str, ...]] = get_args(Anchor)
RECURRENCES: Final[tuple[str, ...]] = get_args(Recurrence)
CHANNELS: Final[tuple[str, ...]] = get_args(ChannelCode)
PHASES: Final[tuple[str, ...]] = get_args(Phase)
#: The anchors whose touchpoint is dated when its condition is found (and then keeps that day:
#: ``VehicleFacts.conditional_planned_on``).
CONDITIONAL_ANCHORS: Final[frozenset[str]] = frozenset({"missed_maintenance", "lapsed", "keep_alive"})
#: The conditional calls that keep a keep-alive back while their window is open.
KEEP_ALIVE_BLOCKING_ANCHORS: Final[frozenset[str]] = frozenset({"missed_maintenance", "lapsed"})
SALE_KINDS: Final[tuple[str, ...]] = get_args(SaleKind)

#: The recurrences each anchor allows.
ANCHOR_RECURRENCES: Final[dict[str, tuple[str, ...]]] = {
    "sale": ("once", "yearly"),
    "maintenance_due": ("per_maintenance",),
    "maintenance_visit": ("per_visit",),
    "warranty_end": ("once",),
    "insurance_renewal": ("yearly",),
    "birthday": ("yearly",),
    "season": ("seasonal",),
    "missed_maintenance": ("per_maintenance",),
    "lapsed": ("once",),
    "keep_alive": ("once",),
}

CYCLE_MONTHS: Final = 36
AFTER_CYCLE_HORIZON_MONTHS: Final = 12
#: A maintenance visit up to this many days before a due date fulfils that due date.
VISIT_MATCH_DAYS_BEFORE_DUE: Final = 60
#: A booking dated up to this many days after a due date is a booking for that due date.
BOOKING_MATCH_DAYS_AFTER_DUE: Final = 30
DEFAULT_SEASON_DATES: Final[tuple[MonthDay, ...]] = ((3, 20), (10, 5))
#: Default window (days after the touchpoint date) per channel.
DEFAULT_WINDOW_END_DAYS: Final[dict[str, int]] = {"call": 14, "sms": 3, "email": 3}

# --------------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateSpec:
    """One touchpoint template: when (anchor + offsets, recurrence), who, how, and under which conditions.

    The touchpoint date is anchor date + ``offset_months`` + ``offset_days``. The window is
    [date + ``window_start_days``, date + ``window_end_days``]; ``None`` means the channel's default
    (calls 0..+14, messages 0..+3). ``window_start_days`` <= 0 <= ``window_end_days``.

    For the conditional anchors the offsets are the condition's threshold: ``missed_maintenance`` fires
    ``offset`` after an unfulfilled due date, ``lapsed`` ``offset`` after the last contact (12 months +
    1 day: "more than 12 months"), ``keep_alive`` ``offset`` after the last contact (11 months).
    """

    code: str
    name_en: str
    name_ru: str
    department: str
    channel: ChannelCode
    anchor: Anchor
    offset_days: int = 0
    offset_months: int = 0
    recurrence: Recurrence = "once"
    window_start_days: int | None = None
    window_end_days: int | None = None
    priority: int = 5
    # conditions
    sale_kinds: tuple[SaleKind, ...] = ()
    requires_birthday: bool = False
    skip_when_maintenance_booked_or_done: bool = False
    min_vehicle_age_months: int | None = None
    max_vehicle_age_months: int | None = None
    phase: Phase = "cycle"
    is_active: bool = True
    season_dates: tuple[MonthDay, ...] = DEFAULT_SEASON_DATES
    # the call script or message body, Django template language (``{{ var }}`` only)
    script_en: str = ""
    script_ru: str = ""

    def __post_init__(self) -> None:
        if not self.code:
            raise ValueError("template code is empty")
        if not self.department:
            raise ValueError(f"{self.code}: department is empty")
        if self.channel not in CHANNELS:
            raise ValueError(f"{self.code}: unknown channel {self.channel!r}")
        if self.anchor not in ANCHORS:
            raise ValueError(f"{self.code}: unknown anchor {self.anchor!r}")
        if self.recurrence not in ANCHOR_RECURRENCES[self.anchor]:
            raise ValueError(
                f"{self.code}: anchor {self.anchor!r} allows recurrence "
                f"{ANCHOR_RECURRENCES[self.anchor]!r}, not {self.recurrence!r}"
            )
        if self.phase not in PHASES:
            raise ValueError(f"{self.code}: unknown phase {self.phase!r}")
        for kind in self.sale_kinds:
            if kind not in SALE_KINDS:
                raise ValueError(f"{self.code}: unknown sale kind {kind!r}")
        if self.resolved_window_start_days > 0 or self.resolved_window_end_days < 0:
            raise ValueError(f"{self.code}: the window must contain the touchpoint date")
        if (
            self.min_vehicle_age_months is not None
            and self.max_vehicle_age_months is not None
            and self.min_vehicle_age_months > self.max_vehicle_age_months
        ):
            raise ValueError(f"{self.code}: min_vehicle_age_months > max_vehicle_age_months")
        object.__setattr__(self, "season_dates", parse_season_dates(self.season_dates))

    @property
    def resolved_window_start_days(self) -> int:
        return 0 if self.window_start_days is None else self.window_start_days

    @property
    def resolved_window_end_days(self) -> int:
        if self.window_end_days is None:
            return DEFAULT_WINDOW_END_DAYS.get(self.channel, 3)
        return self.window_end_days


@dataclass(frozen=True, slots=True)
class SaleFact:
    """A sale of this vehicle to this customer."""

    sold_on: date
    kind: SaleKind = "new"
    odometer_km: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleFacts:
    """Everything the engine knows about one vehicle of one customer, as of ``today``.

    ``sales``: the sales of THIS vehicle to THIS customer; the cycle is anchored at the latest one on or
    before ``today`` (the earliest one when all are later). ``traded_in_on``: the day the vehicle left
    this customer (traded in or sold); the cycle ends that day and nothing is planned after it.
    ``maintenance_due_dates``: predicted due dates of the upcoming maintenances (and, optionally, of past
    ones), computed by the caller; ``maintenance_due_drivers`` is either empty or parallel to it ("km" or
    "time"). ``maintenance_visits``: dates of actual scheduled-maintenance visits. ``last_visit_on``: the
    last visit of any kind. ``warranty_starts_on``: the start of the warranty (None = the cycle's sale).
    ``first_registered_on``: for the vehicle-age conditions (None = the earliest "new" sale, else the
    cycle's sale). ``insurance_renews_on``: a known policy renewal date, whose month-day repeats yearly
    (None = the sale anniversary). ``season_dates``: the dealership's seasons (None = the template's).
    ``conditional_planned_on``: the day each conditional touchpoint (missed maintenance, lapsed,
    keep-alive) still planned or closed by the queue build was planned for, as (code, cycle start,
    occurrence, day): such a touchpoint keeps that day instead of moving to every new ``today``, so its
    window runs out as every other touchpoint's does, and a plan stays the same from night to night.
    """

    vehicle_id: int
    customer_id: int
    sales: tuple[SaleFact, ...]
    today: date
    birthday: date | None = None
    warranty_months: int | None = 36
    warranty_km: int | None = 100_000
    warranty_starts_on: date | None = None
    km_per_month: float | None = None
    maintenance_due_dates: tuple[date, ...] = ()
    maintenance_due_drivers: tuple[str, ...] = ()
    maintenance_visits: tuple[date, ...] = ()
    maintenance_booked_on: date | None = None
    last_reached_contact_on: date | None = None
    last_visit_on: date | None = None
    traded_in_on: date | None = None
    first_registered_on: date | None = None
    insurance_renews_on: date | None = None
    season_dates: tuple[MonthDay, ...] | None = None
    conditional_planned_on: tuple[tuple[str, date, int, date], ...] = ()

    def __post_init__(self) -> None:
        drivers = self.maintenance_due_drivers
        if drivers and len(drivers) != len(self.maintenance_due_dates):
            raise ValueError("maintenance_due_drivers must be empty or as long as maintenance_due_dates")
        if self.season_dates is not None:
            object.__setattr__(self, "season_dates", parse_season_dates(self.season_dates))


# --------------------------------------------------------------------------------------------- output


@dataclass(frozen=True, slots=True)
class PlannedTouchpoint:
    """One dated touchpoint. Natural key: (vehicle_id, code, cycle_start, occurrence).

    ``reason`` is a machine-readable description of the anchor (``"maintenance_due:2025-11-15:TO-1"``),
    ``reason_detail`` the inputs it was computed from, all as strings.
    """

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
    reason_detail: dict[str, str] = field(hash=False)
    vehicle_id: int = 0
    customer_id: int = 0
    phase: PlannedPhase = "cycle"

    @property
    def key(self) -> tuple[int, str, date, int]:
        return (self.vehicle_id, self.code, self.cycle_start, self.occurrence)
