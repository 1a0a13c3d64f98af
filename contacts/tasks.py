"""Thin Celery tasks: they take primary keys, load rows, call a workflow and return (CONVENTIONS 6)."""

from __future__ import annotations

from celery import shared_task
from django.db.models import F
from django.utils import timezone

from contacts.models import BeatTick


@shared_task
def record_beat_tick() -> int:
    """Beat's heartbeat, executed by a worker: the health page shows when it last ran."""
    tick, _created = BeatTick.objects.get_or_create(name="beat", defaults={"ticked_at": timezone.now()})
    BeatTick.objects.filter(pk=tick.pk).update(ticked_at=timezone.now(), count=F("count") + 1)
    return tick.pk


@shared_task
def replan_vehicles(vehicle_ids: list[int]) -> int:
    """Re-forecast and re-plan these vehicles (queued on commit of a new sale, visit, reading or import)."""
    from contacts.planning import replan_vehicles as replan

    return replan(vehicle_ids=vehicle_ids)
