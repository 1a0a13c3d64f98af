"""The sweep's side of a re-plan: the chunk size, one bad vehicle never failing its chunk, the planner statistics refreshed after the last chunk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import InterfaceError, OperationalError
from django.utils import timezone

from contacts.planning.chunk import replan
from contacts.planning.writing import PlanWriteResult
from contacts.problems import record_problem
from customers import bulk
from customers.models import Vehicle

# The tables a sweep rewrites, whose planner statistics it leaves stale. Measured on 1,000,000 vehicles
# with autovacuum behind: one vehicle's planned touchpoints took 49 ms to look up instead of 0.08 ms,
# and the next morning's build ran twice as long, until ANALYZE.
SWEPT_TABLES = ("contacts_touchpoint", "customers_vehicleforecast", "contacts_planfingerprint")

# Vehicles per re-plan task: big enough that task overhead is noise, small enough that a worker's
# memory stays flat (~2,000 vehicles ≈ 70,000 touchpoints in memory) and a killed task redoes little.
REPLAN_CHUNK = 2000


def refresh_planner_statistics() -> None:
    """ANALYZE what the nightly sweep rewrote, once its last chunk is done (PostgreSQL only; autovacuum
    may be off or behind, so the product does not rely on it). The same helper as a large import's."""
    bulk.refresh_statistics(SWEPT_TABLES)


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
