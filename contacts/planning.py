"""Re-planning: load vehicles' facts in bulk, forecast, plan, and write only the difference.

The only place that joins the ORM with the forecast and plan cores for planning. Called by
``contacts.tasks.replan_vehicles`` (a chunk of vehicle ids) and by ``manage.py replan``.
Idempotent: a rerun with unchanged facts writes nothing; two runs at once leave one set of rows
(the natural key of Touchpoint is unique, and each chunk's write is one transaction).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from contacts import bulk
from contacts.core.plan_engine import PlannedTouchpoint, SaleFact, TemplateSpec, VehicleFacts, plan_vehicle
from contacts.models import (
    REACHED_OUTCOMES,
    CallAttempt,
    CallTask,
    CallTaskItem,
    Handoff,
    OutboxMessage,
    PlanFingerprint,
    Touchpoint,
    TouchpointTemplate,
)
from contacts.problems import record_problem
from customers.core.readings import Reading
from customers.forecasting import (
    Interval,
    SaleRow,
    VehicleForecastInput,
    VehicleRow,
    forecast_vehicles,
    mileage_priors,
    prior_for,
    schedules,
)
from customers.models import Dealership, OdometerReading, Sale, ServiceVisit, Vehicle

# Bump when the forecast or the plan engine computes differently from the same facts: every stored
# fingerprint then differs, and the next sweep re-plans every vehicle.
FINGERPRINT_VERSION = 1


@dataclass
class PlanWriteResult:
    vehicles: int = 0
    created: int = 0
    updated: int = 0
    cancelled: int = 0
    forecasts_written: int = 0
    skipped: int = 0  # vehicles whose inputs had not changed since their last re-plan
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
    for vehicle_id, customer_id, sold_on, kind, km in Sale.objects.filter(**in_chunk).order_by("-sold_on", "id").values_list(
        "vehicle_id", "customer_id", "sold_on", "kind", "odometer_km"
    ):
        if vehicle_id in wanted:
            facts.sales[vehicle_id].append(SaleRow(customer_id, sold_on, kind, km))
    for vehicle_id, kind, visited_on, km in ServiceVisit.objects.filter(**in_chunk).order_by("id").values_list(
        "vehicle_id", "kind", "visited_on", "odometer_km"
    ):
        if vehicle_id in wanted:
            facts.visits[vehicle_id].append((kind, visited_on, km))
    for reading_id, vehicle_id, read_on, km in OdometerReading.objects.filter(**in_chunk).order_by("read_on", "id").values_list(
        "id", "vehicle_id", "read_on", "odometer_km"
    ):
        if vehicle_id in wanted:
            facts.readings[vehicle_id].append((reading_id, read_on, km))
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
    return facts


def global_inputs(templates: Sequence[tuple[TouchpointTemplate, TemplateSpec]], table: dict[tuple[str, str], Interval]) -> str:
    """A digest of what every vehicle's plan depends on besides its own facts: the templates, the
    maintenance schedules and the code's version."""
    inputs = repr((FINGERPRINT_VERSION, [(row.id, spec) for row, spec in templates], sorted(table.items())))
    return hashlib.blake2b(inputs.encode(), digest_size=16).hexdigest()


def fingerprint(facts: ChunkFacts, vehicle: VehicleRow, *, today: dt.date, seasons: Any, prior: float | None, common: str) -> int:
    """A 64-bit digest of everything a vehicle's forecast and plan are computed from. The facts are
    plain tuples of ints, strings and dates, whose repr is the same in every process (unlike hash())."""
    owner_id = facts.owner_of[vehicle.id]
    inputs = (
        common, today, seasons, prior, vehicle, owner_id, facts.is_active[vehicle.id], facts.warranty[vehicle.id],
        facts.birthday.get(owner_id) if owner_id else None, facts.sales.get(vehicle.id), facts.visits.get(vehicle.id),
        facts.readings.get(vehicle.id), facts.last_reached.get(owner_id) if owner_id else None,
        facts.booked.get(vehicle.id),
    )
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
) -> tuple[list[VehicleFacts], int]:
    """The plan engine's inputs for these vehicles; also stores their forecasts (unless told not to).
    Returns the facts and the number of forecast rows written."""
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
            )
            for v in vehicles
        ],
        store=store_forecasts,
        table=table,
        priors=priors,
    )
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


def plan_facts(facts: Iterable[VehicleFacts], specs: Sequence[TemplateSpec]) -> list[PlannedTouchpoint]:
    planned: list[PlannedTouchpoint] = []
    for vehicle_facts in facts:
        planned.extend(plan_vehicle(specs, vehicle_facts))
    return planned


def _commit_without_waiting_for_the_disk() -> None:
    """A re-plan writes derived rows only, and its fingerprints in the same transaction: if the server
    crashed before the last few commits reached the disk, the next sweep would simply redo them. So on
    PostgreSQL this transaction's commit does not wait for the WAL flush (measured: the flush was about
    a tenth of a cold chunk's time)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def replan(*, vehicle_ids: Sequence[int], now: dt.datetime | None = None, force: bool = False) -> PlanWriteResult:
    """Forecast and re-plan these vehicles, writing only the difference.

    A vehicle whose inputs (its facts, the local day, its mileage prior, the templates and schedules)
    hash to the fingerprint stored by its last re-plan is skipped before anything is computed, unless
    ``force``: the nightly sweep run twice, or rerun after a killed worker, redoes only what is missing.
    """
    frozen_now = now or timezone.now()
    result = PlanWriteResult()
    facts = load_facts(vehicle_ids)
    result.vehicles = len(facts.vehicles)
    if not facts.vehicles:
        return result
    dealerships = {d.id: d for d in Dealership.objects.filter(id__in={v.dealership_id for v in facts.vehicles})}
    today_by_dealership = {pk: d.local_date(frozen_now) for pk, d in dealerships.items()}
    seasons = {pk: season_dates(d) for pk, d in dealerships.items()}
    templates = active_templates()
    template_ids = {spec.code: row.id for row, spec in templates}
    table = schedules()
    common = global_inputs(templates, table)
    priors = mileage_priors()
    digests = {
        v.id: fingerprint(
            facts, v, today=today_by_dealership[v.dealership_id], seasons=seasons[v.dealership_id],
            prior=prior_for(v, priors), common=common,
        )
        for v in facts.vehicles
    }
    with transaction.atomic():
        _commit_without_waiting_for_the_disk()
        if not force:
            stored = dict(
                PlanFingerprint.objects.filter(**vehicle_filter(set(digests))).values_list("vehicle_id", "digest")
            )
            changed = [v for v in facts.vehicles if stored.get(v.id) != digests[v.id]]
        else:
            changed = list(facts.vehicles)
        result.skipped = result.vehicles - len(changed)
        if not changed:
            return result
        vehicle_facts, result.forecasts_written = plan_inputs(
            facts, changed, today_by_dealership=today_by_dealership, seasons_by_dealership=seasons,
            table=table, priors=priors,
        )
        planned = plan_facts(vehicle_facts, [spec for _row, spec in templates])
        today_by_vehicle = {v.id: today_by_dealership[v.dealership_id] for v in changed}
        _write_difference(
            planned=planned,
            vehicle_ids=[v.id for v in changed],
            template_ids=template_ids,
            today_by_vehicle=today_by_vehicle,
            result=result,
        )
        _withdraw_calls_about_gone_cars(
            {v.id: (facts.is_active[v.id], facts.owner_of.get(v.id)) for v in changed}
        )
        PlanFingerprint.objects.bulk_create(
            [PlanFingerprint(vehicle_id=v.id, digest=digests[v.id], planned_at=frozen_now) for v in changed],
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["vehicle"],
            update_fields=["digest", "planned_at"],
        )
    return result


def _withdraw_calls_about_gone_cars(state: dict[int, tuple[bool, int | None]]) -> None:
    """A car sold, traded in or scrapped (inactive, or owned by someone else now) is no longer called
    about: an open call that carries one of its topics is withdrawn (``vehicle_gone``), those topics are
    closed, and the call's other topics go back to the plan for the next build. A call an agent holds
    is left to the agent, who sees the car's state on the card."""
    on_open_calls = list(
        Touchpoint.objects.filter(
            vehicle_id__in=list(state), status=Touchpoint.Status.ISSUED,
            call_item__call_task__status=CallTask.Status.OPEN,
        ).values_list("id", "vehicle_id", "customer_id", "call_item__call_task_id")
    )
    gone = {
        tp_id for tp_id, vehicle_id, customer_id, _task in on_open_calls
        if not state[vehicle_id][0] or state[vehicle_id][1] != customer_id
    }
    if not gone:
        return
    tasks = {task_id for tp_id, _v, _c, task_id in on_open_calls if tp_id in gone}
    others = list(
        CallTaskItem.objects.filter(call_task_id__in=tasks).exclude(touchpoint_id__in=gone).values_list(
            "touchpoint_id", flat=True
        )
    )
    CallTask.objects.filter(id__in=tasks, status=CallTask.Status.OPEN).update(
        status=CallTask.Status.CANCELLED, outcome="vehicle_gone"
    )
    Touchpoint.objects.filter(id__in=gone).update(status=Touchpoint.Status.CANCELLED, resolution="obsolete:vehicle_gone")
    CallTaskItem.objects.filter(touchpoint_id__in=others).delete()
    Touchpoint.objects.filter(id__in=others, status=Touchpoint.Status.ISSUED).update(
        status=Touchpoint.Status.PLANNED, resolution="reopened:call_withdrawn"
    )


def _issued_before(touchpoint_ids: set[int]) -> set[int]:
    """Those of these touchpoints that were put on a call or a message."""
    on_calls = CallTaskItem.objects.filter(touchpoint_id__in=touchpoint_ids).values_list("touchpoint_id", flat=True)
    in_messages = OutboxMessage.objects.filter(touchpoint_id__in=touchpoint_ids).values_list("touchpoint_id", flat=True)
    return set(on_calls) | set(in_messages)


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
    chunk = set(vehicle_ids)
    for row in Touchpoint.objects.filter(**vehicle_filter(chunk)).values_list(
        "vehicle_id", "template_id", "cycle_start", "occurrence",
        "id", "status", "due_on", "window_start", "window_end", "reason", "reason_detail", "customer_id",
    ):
        if row[0] in chunk:
            stored[(row[0], row[1], row[2], row[3])] = row[4:]
    to_create: list[tuple[Any, ...]] = []  # bulk.INSERT_COLUMNS
    to_update: list[tuple[Any, ...]] = []  # bulk.UPDATE_COLUMNS
    reopened: set[int] = set()
    planned_status = Touchpoint.Status.PLANNED
    for key, tp in wanted.items():
        found = stored.get(key)
        reason = tp.reason[:200]
        if found is None:
            to_create.append((
                tp.vehicle_id, tp.customer_id, key[1], tp.cycle_start, tp.occurrence, tp.due_on, tp.window_start,
                tp.window_end, planned_status, reason, tp.reason_detail, "",
            ))
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
        to_update.append((
            pk, tp.due_on, tp.window_start, tp.window_end, reason, tp.reason_detail, tp.customer_id, planned_status,
        ))
        if status != planned_status:
            reopened.add(pk)
        result.touched_customer_ids.add(tp.customer_id)
    if reopened:
        # A touchpoint that was on a call or a message is history once that ended (called, refused,
        # expired): putting it back in the plan would contact the customer twice about one thing (and
        # its old call item would block the new call). Only touchpoints never issued are reopened.
        issued_before = _issued_before(reopened)
        to_update = [row for row in to_update if row[0] not in issued_before]
    obsolete = [
        row[0]
        for key, row in stored.items()
        if key not in wanted and row[1] == Touchpoint.Status.PLANNED and row[4] >= today_by_vehicle[key[0]]
    ]
    if to_create:
        # An existing natural key wins: a concurrent run that inserted it first made the same row.
        bulk.insert_touchpoints(to_create)
    if to_update:
        bulk.update_touchpoints(to_update)
    if obsolete:
        Touchpoint.objects.filter(id__in=obsolete, status=Touchpoint.Status.PLANNED).update(
            status=Touchpoint.Status.CANCELLED, resolution="obsolete"
        )
    result.created, result.updated, result.cancelled = len(to_create), len(to_update), len(obsolete)


# The tables a sweep rewrites, whose planner statistics it leaves stale. Measured on 1,000,000 vehicles
# with autovacuum behind: one vehicle's planned touchpoints took 49 ms to look up instead of 0.08 ms,
# and the next morning's build ran twice as long, until ANALYZE.
SWEPT_TABLES = ("contacts_touchpoint", "customers_vehicleforecast", "contacts_planfingerprint")


# Vehicles per re-plan task: big enough that task overhead is noise, small enough that a worker's
# memory stays flat (~2,000 vehicles ≈ 70,000 touchpoints in memory) and a killed task redoes little.
REPLAN_CHUNK = 2000


def refresh_planner_statistics() -> None:
    """ANALYZE what the nightly sweep rewrote, once its last chunk is done (PostgreSQL only; autovacuum
    may be off or behind, so the product does not rely on it)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in SWEPT_TABLES:
            cursor.execute(f"ANALYZE {table}")


def replan_isolating_failures(
    *, vehicle_ids: Sequence[int], now: dt.datetime | None = None, force: bool = False
) -> PlanWriteResult:
    """``replan``, with one bad vehicle never failing the chunk: a failed batch is halved and each half
    re-planned, down to the single vehicle, which is recorded (contacts.problems) and skipped. A
    database that is down is not a bad vehicle: connection errors are raised for the task to retry."""
    frozen_now = now or timezone.now()
    try:
        return replan(vehicle_ids=vehicle_ids, now=frozen_now, force=force)
    except (OperationalError, InterfaceError):
        raise
    except Exception as error:  # noqa: BLE001 - bisected below
        if len(vehicle_ids) <= 1:
            _record_vehicle_problem(vehicle_ids, error, frozen_now)
            return PlanWriteResult(vehicles=len(vehicle_ids))
    middle = len(vehicle_ids) // 2
    total = PlanWriteResult()
    for half in (vehicle_ids[:middle], vehicle_ids[middle:]):
        part = replan_isolating_failures(vehicle_ids=half, now=frozen_now, force=force)
        total.vehicles += part.vehicles
        total.skipped += part.skipped
        total.forecasts_written += part.forecasts_written
        total.created += part.created
        total.updated += part.updated
        total.cancelled += part.cancelled
        total.touched_customer_ids |= part.touched_customer_ids
    return total


def _record_vehicle_problem(vehicle_ids: Sequence[int], error: BaseException, now: dt.datetime) -> None:
    vehicle = Vehicle.objects.filter(id__in=vehicle_ids).select_related("dealership").first()
    if vehicle is None:
        return
    record_problem(
        stage="replan", day=vehicle.dealership.local_date(now), subject=f"vehicle:{vehicle.id}", error=error, now=now,
        dealership_id=vehicle.dealership_id, customer_id=vehicle.owner_id, vehicle_id=vehicle.id,
    )
