"""Writing a re-plan: only the difference of the touchpoints, and the calls about cars that are gone withdrawn."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from contacts import bulk
from contacts.core.plan_engine import PlannedTouchpoint
from contacts.models import CallTask, CallTaskItem, OutboxMessage, Touchpoint
from contacts.planning.facts import vehicle_filter


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


def withdraw_calls_about_gone_cars(state: dict[int, tuple[bool, int | None]]) -> None:
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


_Key = tuple[int, int, dt.date, int]  # a touchpoint's natural key: vehicle, template, cycle start, occurrence


def write_difference(
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
    wanted = _wanted(planned, template_ids, today_by_vehicle)
    stored = _stored(vehicle_ids)
    to_create, to_update = _compare(wanted, stored, result)
    gone = _hold_parents({
        # (an update of a deleted vehicle's touchpoint finds nothing: the deletion took its touchpoints)
        "customers_vehicle": {row[0] for row in to_create},
        "customers_customer": {row[1] for row in to_create} | {row[6] for row in to_update},
        "contacts_touchpointtemplate": set(template_ids.values()),
    })
    if gone:
        no_vehicle, no_customer = gone.get("customers_vehicle", set()), gone.get("customers_customer", set())
        to_create = [row for row in to_create if row[0] not in no_vehicle and row[1] not in no_customer]
        to_update = [row for row in to_update if row[6] not in no_customer]
    obsolete = [
        row[0]
        for key, row in stored.items()
        if key not in wanted and row[1] == Touchpoint.Status.PLANNED and row[4] >= today_by_vehicle[key[0]]
    ]
    if to_create:
        # An existing natural key wins: a concurrent run that inserted it first made the same row.
        # Rows of vehicles with nothing stored cannot meet a stored row: they are COPY'd straight in.
        with_rows = {key[0] for key in stored}
        fresh = [row for row in to_create if row[0] not in with_rows]
        if fresh:
            bulk.insert_new_touchpoints(fresh)
        if len(fresh) < len(to_create):
            bulk.insert_touchpoints([row for row in to_create if row[0] in with_rows])
    if to_update:
        bulk.update_touchpoints(to_update)
    if obsolete:
        Touchpoint.objects.filter(id__in=obsolete, status=Touchpoint.Status.PLANNED).update(
            status=Touchpoint.Status.CANCELLED, resolution="obsolete"
        )
    result.created, result.updated, result.cancelled = len(to_create), len(to_update), len(obsolete)


def _hold_parents(rows: dict[str, set[int]]) -> dict[str, set[int]]:
    """Lock the vehicles, customers and templates the chunk's rows will point to against deletion until
    its COMMIT (what each row's foreign-key check would do, once per parent instead of once per row:
    the touchpoint's keys have no database constraint); returns, by table, the parents that are gone
    (deleted since the chunk read its facts: their rows are not written). On SQLite a writing
    transaction holds the whole database, so nothing can be deleted meanwhile."""
    gone: dict[str, set[int]] = {}
    if connection.vendor != "postgresql":
        return gone
    with connection.cursor() as cursor:
        for table, ids in rows.items():
            if not ids:
                continue
            cursor.execute(f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR KEY SHARE", [sorted(ids)])
            missing = ids - {row[0] for row in cursor.fetchall()}
            if missing:
                gone[table] = missing
    return gone


def drop_touchpoints_of_deleted_parent(sender: type, instance: Any, **kwargs: Any) -> None:
    """After a vehicle's or customer's row is deleted (post_delete): delete the touchpoints still
    pointing at it. Django's cascade deleted those it saw before; a re-plan that held the row
    (``_hold_parents``) made the deletion wait for its COMMIT, and the rows it wrote are seen only now.
    (With a database constraint the deletion would have failed instead.)"""
    field = "vehicle_id" if sender._meta.model_name == "vehicle" else "customer_id"  # type: ignore[attr-defined]
    Touchpoint.objects.filter(**{field: instance.pk}).delete()


def _wanted(
    planned: list[PlannedTouchpoint], template_ids: dict[str, int], today_by_vehicle: dict[int, dt.date]
) -> dict[_Key, PlannedTouchpoint]:
    """The planned touchpoints by natural key, but those whose window closed before today."""
    wanted: dict[_Key, PlannedTouchpoint] = {}
    for tp in planned:
        if tp.window_end < today_by_vehicle[tp.vehicle_id]:
            continue
        template_id = template_ids.get(tp.code)
        if template_id is not None:
            wanted[(tp.vehicle_id, template_id, tp.cycle_start, tp.occurrence)] = tp
    return wanted


def _stored(vehicle_ids: list[int]) -> dict[_Key, tuple[Any, ...]]:
    """The chunk's stored touchpoints by natural key: id, status, due_on, window, reason, detail, customer.

    Plain tuples, not model instances: a chunk holds ~70,000 stored touchpoints and a rerun with
    unchanged facts must stay cheap (it only compares)."""
    stored: dict[_Key, tuple[Any, ...]] = {}
    chunk = set(vehicle_ids)
    for row in Touchpoint.objects.filter(**vehicle_filter(chunk)).values_list(
        "vehicle_id", "template_id", "cycle_start", "occurrence",
        "id", "status", "due_on", "window_start", "window_end", "reason", "reason_detail", "customer_id",
    ):
        if row[0] in chunk:
            stored[(row[0], row[1], row[2], row[3])] = row[4:]
    return stored


def _compare(
    wanted: dict[_Key, PlannedTouchpoint], stored: dict[_Key, tuple[Any, ...]], result: PlanWriteResult
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows to insert (bulk.INSERT_COLUMNS) and to update (bulk.UPDATE_COLUMNS); and notes in ``result`` the customers whose plan changed."""
    to_create: list[tuple[Any, ...]] = []
    to_update: list[tuple[Any, ...]] = []
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
    return to_create, to_update
