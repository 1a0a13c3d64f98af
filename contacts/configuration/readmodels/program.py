"""Read models of the program pages: the program as a timeline, templates in words, versions and their calls."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from contacts.core.plan_engine import (
    CYCLE_MONTHS,
    DEFAULT_WINDOW_END_DAYS,
    PlannedTouchpoint,
    plan_vehicle,
    reference_vehicle_facts,
)
from contacts.models import (
    REACHED_OUTCOMES,
    Anchor,
    CallAttempt,
    CallTask,
    CallTaskItem,
    TemplateVersion,
    Touchpoint,
    TouchpointTemplate,
    offset_in_days,
)
from contacts.planning.computing import build_facts, plan_facts
from contacts.planning.facts import template_spec
from contacts.queues import why
from contacts.queues.rendering import script_context
from contacts.scripts import render_script
from customers.models import Channel, Customer, Dealership, Vehicle, VehicleForecast

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

CYCLE_DAYS = 1096  # three years with a leap day: the timeline's width


def _span(months: int, days: int) -> str:
    parts = []
    if months:
        parts.append(ngettext("%(n)s month", "%(n)s months", abs(months)) % {"n": abs(months)})
    if days:
        parts.append(ngettext("%(n)s day", "%(n)s days", abs(days)) % {"n": abs(days)})
    return _(" and ").join(parts)


# Anchor -> how its touchpoint's date is said: after it, before it (None: it cannot be before) and on it.
_WHEN: dict[str, tuple[StrPromise, StrPromise | None, StrPromise | None]] = {
    "sale": (
        gettext_lazy("%(span)s after the sale"),
        gettext_lazy("%(span)s before the sale"),
        gettext_lazy("on the day of the sale"),
    ),
    "maintenance_due": (
        gettext_lazy("%(span)s after each predicted maintenance date"),
        gettext_lazy("%(span)s before each predicted maintenance date"),
        gettext_lazy("on each predicted maintenance date"),
    ),
    "maintenance_visit": (
        gettext_lazy("%(span)s after each maintenance visit"),
        gettext_lazy("%(span)s before each maintenance visit"),
        gettext_lazy("on the day of each maintenance visit"),
    ),
    "warranty_end": (
        gettext_lazy("%(span)s after the warranty ends"),
        gettext_lazy("%(span)s before the warranty ends"),
        gettext_lazy("on the day the warranty ends"),
    ),
    "insurance_renewal": (
        gettext_lazy("%(span)s after each insurance renewal"),
        gettext_lazy("%(span)s before each insurance renewal"),
        gettext_lazy("on each insurance renewal day"),
    ),
    "birthday": (
        gettext_lazy("%(span)s after the customer's birthday"),
        gettext_lazy("%(span)s before the customer's birthday"),
        gettext_lazy("on the customer's birthday"),
    ),
    "season": (
        gettext_lazy("%(span)s after each tyre-season date"),
        gettext_lazy("%(span)s before each tyre-season date"),
        gettext_lazy("on each tyre-season date"),
    ),
    "missed_maintenance": (
        gettext_lazy("%(span)s after a maintenance date passed with no visit"),
        None,
        None,
    ),
    "lapsed": (
        gettext_lazy("%(span)s after the last visit, purchase or reached call"),
        None,
        None,
    ),
    "keep_alive": (
        gettext_lazy("%(span)s after the last reached call, if nothing else is planned"),
        None,
        None,
    ),
}


def when_in_words(template: TouchpointTemplate) -> str:
    """"10 months after the sale", "21 days before each predicted maintenance date"."""
    months, days = template.offset_months, template.offset_days
    after, before, on = _WHEN[template.anchor]
    if not months and not days:
        return str(on or Anchor(template.anchor).label)
    if months * days < 0:  # "12 months less 10 days": say it in days
        months, days = 0, offset_in_days(months, days)
    said = before if months <= 0 and days <= 0 and before is not None else after
    return str(said) % {"span": _span(months, days)}


def window_in_words(template: TouchpointTemplate) -> str:
    start = template.window_start_days or 0
    end = DEFAULT_WINDOW_END_DAYS.get(template.channel, 3) if template.window_end_days is None else template.window_end_days
    if start == end == 0:
        return _("on that day only")
    if start == 0:
        return ngettext("from that day to %(n)s day after", "from that day to %(n)s days after", end) % {"n": end}
    return _("from %(start)s days before to %(end)s days after") % {"start": -start, "end": end}


def channel_verb(channel: str) -> str:
    return str({"call": _("called"), "sms": _("sent an SMS"), "email": _("sent an e-mail")}.get(channel, channel))


@dataclass(frozen=True)
class TemplateRow:
    """A template in words, with what its calls of the last 12 months did (a merged call counts for
    every touchpoint on its agenda)."""

    template: TouchpointTemplate
    when: str
    window: str
    calls: int = 0
    booked: int = 0
    hot_leads: int = 0

    @property
    def booked_percent(self) -> float | None:
        return round(100 * self.booked / self.calls, 1) if self.calls else None


def template_rows(
    templates: QuerySet[TouchpointTemplate], *, dealerships: QuerySet[Dealership], now: dt.datetime
) -> list[TemplateRow]:
    finished = CallTaskItem.objects.filter(
        call_task__status=CallTask.Status.DONE,
        call_task__dealership__in=dealerships,
        call_task__completed_at__gte=now - dt.timedelta(days=365),
    )
    counts = {
        row["touchpoint__template_id"]: row
        for row in finished.values("touchpoint__template_id").annotate(
            calls=Count("call_task", distinct=True),
            booked=Count("call_task", distinct=True, filter=Q(call_task__outcome=CallAttempt.Outcome.BOOKED)),
            hot_leads=Count("call_task", distinct=True, filter=Q(call_task__outcome=CallAttempt.Outcome.HOT_LEAD)),
        ).order_by()
    }
    rows = []
    for t in templates:
        found = counts.get(t.pk, {})
        rows.append(TemplateRow(t, when_in_words(t), window_in_words(t), found.get("calls", 0), found.get("booked", 0),
                                found.get("hot_leads", 0)))
    return rows


@dataclass(frozen=True)
class TimelineEntry:
    code: str
    name: str
    occurrence: int
    due_on: dt.date
    window_start: dt.date
    window_end: dt.date
    department: str
    channel: str
    channel_label: str
    priority: int
    words: str
    why: str
    left_percent: float  # where the date falls on the three-year strip
    cycle_year: int  # 1, 2, 3; 4 = after the cycle


@dataclass(frozen=True)
class TimelineLane:
    """One template's touchpoints on the strip."""

    code: str
    name: str
    channel: str
    entries: list[TimelineEntry]


@dataclass(frozen=True)
class ProgramTimeline:
    title: str
    cycle_start: dt.date | None
    entries: list[TimelineEntry]
    lanes: list[TimelineLane]
    calls: int
    messages: int
    years: list[int]
    problem: str = ""


def _why(tp: PlannedTouchpoint) -> str:
    """The agent's why-line, and words for the anchors it leaves as codes (season, birthday, insurance)."""
    said = why(tp.reason, tp.reason_detail)
    kind, _sep, rest = tp.reason.partition(":")
    day = rest[:10]
    if said != tp.reason or len(day) != 10:
        return said
    words = {
        "season": _("tyre season of %(day)s"),
        "birthday": _("birthday on %(day)s"),
        "insurance_renewal": _("insurance renews on %(day)s"),
    }.get(kind)
    return words % {"day": day} if words else said


def _entry(tp: PlannedTouchpoint, template: TouchpointTemplate, cycle_start: dt.date) -> TimelineEntry:
    offset = (tp.due_on - cycle_start).days
    words = _("%(when)s: %(how)s between %(start)s and %(end)s") % {
        "when": when_in_words(template),
        "how": channel_verb(tp.channel),
        "start": tp.window_start.strftime("%d.%m.%Y"),
        "end": tp.window_end.strftime("%d.%m.%Y"),
    }
    return TimelineEntry(
        code=tp.code, name=template.name, occurrence=tp.occurrence, due_on=tp.due_on,
        window_start=tp.window_start, window_end=tp.window_end, department=template.department.name,
        channel=tp.channel, channel_label=str(Channel(tp.channel).label), priority=tp.priority, words=words,
        why=_why(tp), left_percent=round(min(max(offset, 0), CYCLE_DAYS) * 100 / CYCLE_DAYS, 2),
        cycle_year=min(offset // 365 + 1, 4) if offset >= 0 else 1,
    )


def _timeline(title: str, planned: list[PlannedTouchpoint], templates: dict[str, TouchpointTemplate]) -> ProgramTimeline:
    if not planned:
        return ProgramTimeline(title, None, [], [], 0, 0, [1, 2, 3], problem=_("This vehicle has no plan."))
    cycle_start = min(tp.cycle_start for tp in planned)
    entries = [_entry(tp, templates[tp.code], cycle_start) for tp in planned if tp.code in templates]
    lanes: dict[str, TimelineLane] = {}
    for entry in sorted(entries, key=lambda e: (templates[e.code].priority, e.code, e.due_on)):
        lane = lanes.setdefault(entry.code, TimelineLane(entry.code, entry.name, entry.channel, []))
        lane.entries.append(entry)
    calls = sum(1 for e in entries if e.channel == Channel.CALL)
    return ProgramTimeline(title, cycle_start, entries, list(lanes.values()), calls, len(entries) - calls, [1, 2, 3])


def _live_templates() -> dict[str, TouchpointTemplate]:
    return {t.code: t for t in TouchpointTemplate.objects.filter(is_active=True).select_related("department")}


def reference_timeline(*, templates: dict[str, TouchpointTemplate] | None = None) -> ProgramTimeline:
    """docs/program.md's reference vehicle (sold new 15.01.2025, 1,500 km a month) through the program."""
    templates = templates if templates is not None else _live_templates()
    specs = [template_spec(t) for t in templates.values()]
    planned = plan_vehicle(specs, reference_vehicle_facts())
    cycle_end = dt.date(2025, 1, 15).replace(year=2025 + CYCLE_MONTHS // 12)
    return _timeline(_("Reference car: sold new on 15.01.2025, 1,500 km a month"),
                     [tp for tp in planned if tp.due_on < cycle_end], templates)


def vehicle_timeline(*, vin: str, dealerships: QuerySet[Dealership], now: dt.datetime) -> ProgramTimeline:
    """A real vehicle's plan as the program makes it today (computed in memory, nothing written)."""
    vin = vin.strip().upper()
    vehicle = Vehicle.objects.select_related("owner", "dealership").filter(vin=vin, dealership__in=dealerships).first()
    if vehicle is None:
        return ProgramTimeline(vin, None, [], [], 0, 0, [1, 2, 3],
                               problem=_("No vehicle with VIN %(vin)s in your dealerships.") % {"vin": vin})
    templates = _live_templates()
    today = vehicle.dealership.local_date(now)
    facts, _written = build_facts(vehicles=[vehicle], today_by_dealership={vehicle.dealership_id: today}, store_forecasts=False)
    planned = plan_facts(facts, [template_spec(t) for t in templates.values()])
    owner = vehicle.owner.full_name if vehicle.owner else "—"
    title = f"{vehicle.make} {vehicle.model} {vehicle.vin} · {owner}"
    if not planned:
        return ProgramTimeline(title, None, [], [], 0, 0, [1, 2, 3],
                               problem=_("This vehicle has no plan: it has no owner with a sale, or it was sold on."))
    return _timeline(title, planned, templates)


@dataclass(frozen=True)
class VersionRow:
    """A published version of a template and what its calls did (calls finished with this version on
    the agenda, CallTask.agenda's ``template_version``; the call's final outcome counts)."""

    version: TemplateVersion
    calls: int
    reached: int
    booked: int
    hot_leads: int

    @property
    def reach_percent(self) -> float | None:
        return round(100 * self.reached / self.calls, 1) if self.calls else None

    @property
    def booked_percent(self) -> float | None:
        return round(100 * self.booked / self.calls, 1) if self.calls else None


def version_rows(*, template: TouchpointTemplate, dealerships: QuerySet[Dealership]) -> list[VersionRow]:
    versions = list(
        TemplateVersion.objects.filter(template=template, status=TemplateVersion.Status.PUBLISHED)
        .select_related("published_by")
        .order_by("-number")
    )
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    finished = CallTask.objects.filter(
        id__in=CallTaskItem.objects.filter(touchpoint__template=template).values("call_task_id"),
        status=CallTask.Status.DONE,
        dealership__in=dealerships,
    ).values_list("agenda", "outcome")
    for agenda, outcome in finished.iterator(chunk_size=2000):
        numbers = {item.get("template_version") for item in agenda if item.get("code") == template.code}
        for number in numbers:
            if isinstance(number, int):
                counts[number]["calls"] += 1
                counts[number]["reached"] += outcome in REACHED_OUTCOMES
                counts[number]["booked"] += outcome == CallAttempt.Outcome.BOOKED
                counts[number]["hot_leads"] += outcome == CallAttempt.Outcome.HOT_LEAD
    return [
        VersionRow(v, counts[v.number or 0]["calls"], counts[v.number or 0]["reached"], counts[v.number or 0]["booked"],
                   counts[v.number or 0]["hot_leads"])
        for v in versions
    ]


@dataclass(frozen=True)
class RenderedScript:
    customer: Customer
    vehicle: Vehicle
    english: str
    russian: str


def rendered_script(
    *, edited: TouchpointTemplate, customer_id: int | None, dealerships: QuerySet[Dealership], today: dt.date
) -> RenderedScript | None:
    """The edited script as an agent would read it to this customer (else the first customer with a car
    in the admin's dealerships), about their car, with the touchpoint dated today."""
    vehicles = Vehicle.objects.filter(owner__isnull=False, is_active=True, dealership__in=dealerships).select_related(
        "owner", "dealership"
    )
    if customer_id is not None:
        vehicles = vehicles.filter(owner_id=customer_id)
    vehicle = vehicles.order_by("id").first()
    if vehicle is None or vehicle.owner is None:
        return None
    forecast = VehicleForecast.objects.filter(vehicle=vehicle).first()
    window_end = today + dt.timedelta(days=DEFAULT_WINDOW_END_DAYS.get(edited.channel, 3))
    touchpoint = Touchpoint(vehicle=vehicle, customer=vehicle.owner, template=edited, due_on=today, window_start=today,
                            window_end=window_end)
    context = script_context(vehicle.owner, touchpoint, forecast, vehicle.dealership)
    return RenderedScript(
        customer=vehicle.owner,
        vehicle=vehicle,
        english=render_script(edited.script_en, context),
        russian=render_script(edited.script_ru, context),
    )
