"""The plan engine: touchpoint templates + one vehicle's facts -> its dated touchpoints with windows.

Pure and deterministic: standard library only, frozen dataclasses in and out, ``today`` is passed in
(the clock is never read). See ``/work/shared/PROGRAM.md`` for the default program this engine plans
and ``contacts/program.py`` for that program as data.

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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Final, Literal, cast, get_args

from customers.core.calendar import add_months, days_in_month

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
MonthDay = tuple[int, int]

ANCHORS: Final[tuple[str, ...]] = get_args(Anchor)
RECURRENCES: Final[tuple[str, ...]] = get_args(Recurrence)
CHANNELS: Final[tuple[str, ...]] = get_args(ChannelCode)
PHASES: Final[tuple[str, ...]] = get_args(Phase)
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
#: Anchors whose touchpoints fire only when their condition holds on ``today``.
CONDITIONAL_ANCHORS: Final[frozenset[str]] = frozenset({"missed_maintenance", "lapsed", "keep_alive"})

CYCLE_MONTHS: Final = 36
AFTER_CYCLE_HORIZON_MONTHS: Final = 12
#: A maintenance visit up to this many days before a due date fulfils that due date.
VISIT_MATCH_DAYS_BEFORE_DUE: Final = 60
#: A booking dated up to this many days after a due date is a booking for that due date.
BOOKING_MATCH_DAYS_AFTER_DUE: Final = 30
DEFAULT_SEASON_DATES: Final[tuple[MonthDay, ...]] = ((3, 20), (10, 5))
#: Default window (days after the touchpoint date) per channel.
DEFAULT_WINDOW_END_DAYS: Final[dict[str, int]] = {"call": 14, "sms": 3, "email": 3}
#: Average days per month, for turning remaining warranty km into a date.
_DAYS_PER_MONTH: Final = 365.2425 / 12

# --------------------------------------------------------------------------------------------- dates


def _months_between(start: date, end: date) -> int:
    """Whole calendar months from ``start`` to ``end`` (the largest m with start + m months <= end)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if add_months(start, months) > end:
        months -= 1
    return months


def _on_month_day(year: int, month: int, day: int) -> date:
    """The month-day in ``year``, clamped (29 February -> 28 February in a common year)."""
    if day > 28:
        day = min(day, days_in_month(year, month))
    return date(year, month, day)


def parse_season_dates(values: Iterable[object]) -> tuple[MonthDay, ...]:
    """Normalise season dates, sorted: ``"03-20"``, ``("03-20",)``, ``(3, 20)``, ``[3, 20]`` -> ``(3, 20)``.

    Raises ``ValueError`` for anything that is not a valid month-day (29 February is allowed).
    """
    result: list[MonthDay] = []
    for value in values:
        item: object = value
        if isinstance(item, list | tuple) and len(item) == 1:
            item = item[0]
        if isinstance(item, str):
            parts = item.strip().split("-")
            if len(parts) != 2 or not all(p.isdigit() for p in parts):
                raise ValueError(f"season date must be MM-DD, got {value!r}")
            month, day = int(parts[0]), int(parts[1])
        elif (
            isinstance(item, list | tuple)
            and len(item) == 2
            and all(isinstance(p, int) and not isinstance(p, bool) for p in item)
        ):
            month, day = int(item[0]), int(item[1])
        else:
            raise ValueError(f"season date must be MM-DD or (month, day), got {value!r}")
        # 2000 is a leap year: 29 February is a valid month-day (clamped in common years).
        if not 1 <= month <= 12 or not 1 <= day <= days_in_month(2000, month):
            raise ValueError(f"no such month-day: {value!r}")
        result.append((month, day))
    if not result:
        raise ValueError("at least one season date is needed")
    if len(set(result)) != len(result):
        raise ValueError(f"duplicate season dates: {result!r}")
    return tuple(sorted(result))


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


# --------------------------------------------------------------------------------------------- engine


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


_CYCLE: Final[PlannedPhase] = "cycle"
_AFTER_CYCLE: Final[PlannedPhase] = "after_cycle"
_SMALL_INTS: Final = tuple(str(n) for n in range(367))  # season indexes (at most 366 month-days)
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

    # ----------------------------------------------------------------- anchors

    def plan_sale(self, rule: _Rule) -> None:
        lower, upper = self.bounds[rule.phase]
        start = self.start
        kind = self.sale.kind
        if rule.recurrence == "once":
            day = rule.shift(start)
            if lower <= day < upper:
                self.emit(
                    rule, 1, day, "sale:" + self.start_iso, {"sold_on": self.start_iso, "sale_kind": kind}
                )
            return
        k = 1
        while True:
            anniversary = add_months(start, 12 * k)
            day = rule.shift(anniversary)
            if day >= upper:
                return
            if day >= lower:
                detail = {
                    "sold_on": self.start_iso,
                    "sale_kind": kind,
                    "anniversary_on": anniversary.isoformat(),
                }
                self.emit(rule, k, day, f"sale:{self.start_iso}:{k}", detail)
            k += 1

    def plan_maintenance_due(self, rule: _Rule) -> None:
        lower, upper = self.bounds[rule.phase]
        skip = rule.skip_when_booked_or_done
        for number, due, driver in self.dues():
            day = rule.shift(due)
            if not lower <= day < upper:
                continue
            if skip and self._booked_or_done(due, day):
                continue
            due_iso = due.isoformat()
            reason = f"maintenance_due:{due_iso}:TO-{number}"
            self.emit(rule, number, day, reason, self.due_detail(number, due_iso, driver))

    def _booked_or_done(self, due: date, day: date) -> bool:
        """A booking for this maintenance, or a maintenance visit for it before the touchpoint date."""
        since = due - _VISIT_MATCH
        booked = self.facts.maintenance_booked_on
        if booked is not None and since <= booked <= due + _BOOKING_MATCH:
            return True
        for visit in self.visits():
            if since <= visit < day:
                return True
        return False

    def plan_maintenance_visit(self, rule: _Rule) -> None:
        lower, upper = self.bounds[rule.phase]
        for index, visit in enumerate(self.visits(), start=1):
            day = rule.shift(visit)
            if day >= upper:
                return
            if day >= lower:
                visit_iso = visit.isoformat()
                detail = {"visited_on": visit_iso, "visit_number": str(index)}
                self.emit(rule, index, day, f"maintenance_visit:{visit_iso}:{index}", detail)

    def plan_warranty_end(self, rule: _Rule) -> None:
        end = warranty_end(self.facts, self.sale)
        if end is None:
            return
        end_on, driver = end
        lower, upper = self.bounds[rule.phase]
        day = rule.shift(end_on)
        if lower <= day < upper:
            end_iso = end_on.isoformat()
            detail = {"warranty_end_on": end_iso, "driver": driver}
            if self.facts.warranty_months:
                detail["warranty_months"] = str(self.facts.warranty_months)
            if self.facts.warranty_km:
                detail["warranty_km"] = str(self.facts.warranty_km)
            if self._kpm:
                detail["km_per_month"] = self._kpm
            self.emit(rule, 1, day, f"warranty_end:{end_iso}:{driver}", detail)

    def plan_insurance_renewal(self, rule: _Rule) -> None:
        lower, upper = self.bounds[rule.phase]
        source_day = self.facts.insurance_renews_on
        source = "sale_anniversary" if source_day is None else "policy"
        month, dom = (source_day or self.start).month, (source_day or self.start).day
        start = self.start
        year = start.year
        number = 0
        while True:
            renewal = _on_month_day(year, month, dom)
            year += 1
            if renewal <= start:
                continue
            number += 1
            day = rule.shift(renewal)
            if day >= upper:
                return
            if day >= lower:
                renewal_iso = renewal.isoformat()
                detail = {"renewal_on": renewal_iso, "renewal_number": str(number), "source": source}
                self.emit(rule, number, day, "insurance_renewal:" + renewal_iso, detail)

    def plan_birthday(self, rule: _Rule) -> None:
        birthday = self.facts.birthday
        if birthday is None:
            return
        lower, upper = self.bounds[rule.phase]
        first_year = self.start.year
        year = first_year
        while True:
            anniversary = _on_month_day(year, birthday.month, birthday.day)
            day = rule.shift(anniversary)
            if day >= upper:
                return
            if day >= lower and anniversary > birthday:
                anniversary_iso = anniversary.isoformat()
                detail = {"birthday_on": anniversary_iso, "age": str(year - birthday.year)}
                self.emit(rule, year - first_year + 1, day, "birthday:" + anniversary_iso, detail)
            year += 1

    def plan_season(self, rule: _Rule) -> None:
        seasons = self.facts.season_dates or rule.seasons
        per_year = len(seasons)
        offset, offset_months = rule.offset, rule.offset_months
        lower, upper = self.bounds[rule.phase]
        first_year = self.start.year
        year = first_year
        while True:
            for index, (month, dom) in enumerate(seasons):
                season_on = date(year, month, dom) if dom <= 28 else _on_month_day(year, month, dom)
                day = season_on + offset if not offset_months else rule.shift(season_on)
                if day >= upper:
                    return
                if day >= lower:
                    occurrence = (year - first_year) * per_year + index + 1
                    season_iso = season_on.isoformat()
                    index_str = _SMALL_INTS[index + 1]
                    detail = {"season_on": season_iso, "season_index": index_str}
                    self.emit(rule, occurrence, day, "season:" + season_iso + ":" + index_str, detail)
            year += 1

    def plan_missed_maintenance(self, rule: _Rule) -> None:
        """An unfulfilled due date: threshold (due + offset) <= today, no maintenance visit since
        due - 60 days, no booking still ahead. Dated at the threshold, not earlier than today.

        Once per car (PROGRAM.md version 2): a car that missed several maintenances gets one touchpoint,
        for the latest miss, whose detail names them all ("TO-4 and TO-5, due since ...")."""
        today = self.today
        lower, upper = self.bounds[rule.phase]
        booked = self.facts.maintenance_booked_on
        missed: list[tuple[int, str, str, date]] = []
        for number, due, driver in self.dues():
            threshold = rule.shift(due)
            if threshold > today:
                continue
            since = due - _VISIT_MATCH
            if any(since <= v <= today for v in self.visits()):
                continue
            if booked is not None and booked >= since and booked >= today:
                continue
            day = max(threshold, today)
            if lower <= day < upper:
                missed.append((number, due.isoformat(), driver, day))
        if missed:
            number, due_iso, driver, day = missed[-1]
            detail = self.due_detail(number, due_iso, driver)
            if len(missed) > 1:
                detail["missed_numbers"] = ",".join(str(n) for n, _due, _driver, _day in missed)
                detail["missed_since"] = missed[0][1]
            self.emit(rule, number, day, f"missed_maintenance:{due_iso}:TO-{number}", detail)

    def plan_lapsed(self, rule: _Rule) -> None:
        """No visit and no reached contact for longer than the threshold (12 months + 1 day): dated today."""
        last, source = self.last_contact()
        if rule.shift(last) > self.today:
            return
        lower, upper = self.bounds[rule.phase]
        day = self.today
        if lower <= day < upper:
            occurrence = _months_between(self.start, last) + 1
            last_iso = last.isoformat()
            detail = {"last_contact_on": last_iso, "last_contact": source}
            self.emit(rule, occurrence, day, "lapsed:" + last_iso, detail)

    def plan_keep_alive(self, rule: _Rule, lapsed_planned: bool) -> None:
        """No reached contact for the threshold (11 months): last contact + threshold, not earlier than today;
        not when the customer has lapsed (the reactivation call covers it) or another call is planned
        between today and that date."""
        if lapsed_planned:
            return
        last, source = self.last_contact()
        today = self.today
        day = max(rule.shift(last), today)
        lower, upper = self.bounds[rule.phase]
        if not lower <= day < upper:
            return
        for due_on, _, _, _, other, _, _ in self.out:
            if other.channel == "call" and today <= due_on <= day:
                return
        occurrence = _months_between(self.start, last) + 1
        last_iso = last.isoformat()
        detail = {"last_contact_on": last_iso, "last_contact": source}
        self.emit(rule, occurrence, day, "keep_alive:" + last_iso, detail)


_PLANNERS: Final[dict[str, Callable[[_Planner, _Rule], None]]] = {
    "sale": _Planner.plan_sale,
    "maintenance_due": _Planner.plan_maintenance_due,
    "maintenance_visit": _Planner.plan_maintenance_visit,
    "warranty_end": _Planner.plan_warranty_end,
    "insurance_renewal": _Planner.plan_insurance_renewal,
    "birthday": _Planner.plan_birthday,
    "season": _Planner.plan_season,
    "missed_maintenance": _Planner.plan_missed_maintenance,
    "lapsed": _Planner.plan_lapsed,
}


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
            planner.plan_lapsed(rule)
            lapsed_planned = lapsed_planned or len(out) > before
        else:
            _PLANNERS[anchor](planner, rule)
    for rule in keep_alive:
        planner.plan_keep_alive(rule, lapsed_planned)
    return planner.touchpoints()


def reference_vehicle_facts(today: date = date(2025, 1, 15)) -> VehicleFacts:
    """PROGRAM.md's reference vehicle: sold new on 2025-01-15 at 0 km, customer born 1985-06-20,
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
