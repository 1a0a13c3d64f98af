"""The health check (for monitoring) and the supervisor's problems page (for people)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from contacts import operations
from contacts.channels.health import message_health
from contacts.models import BeatTick
from customers import access


@login_not_required
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Database, broker, the last beat tick a worker executed, builds that are late, the last sweep and
    the problems of the last day. 200 when the database answers."""
    from clm.celery import app

    report: dict[str, Any] = {}
    status = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - the health page reports, it does not crash
        report["database"] = f"error: {error}"
        return JsonResponse(report, status=503)
    try:
        with app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=3)
        report["broker"] = "ok"
    except Exception as error:  # noqa: BLE001
        report["broker"] = f"error: {error}"
    now = timezone.now()
    tick = BeatTick.objects.filter(name="beat").first()
    report["last_beat_tick"] = tick.ticked_at.isoformat() if tick else None
    report["beat_ticks"] = tick.count if tick else 0
    report["beat_age_seconds"] = int((now - tick.ticked_at).total_seconds()) if tick else None
    report["late_builds"] = [
        {"dealership": b.dealership.code, "day": b.day.isoformat(), "attempts": b.attempts,
         "queued_at": b.queued_at.isoformat() if b.queued_at else None}
        for b in operations.late_builds(now=now)
    ]
    sweep = operations.last_sweep()
    report["last_sweep"] = None if sweep is None else {
        "night": sweep.night.isoformat(), "chunks": sweep.chunks, "finished": sweep.finished, "requeued": sweep.requeued
    }
    report["messages"] = message_health(now=now)
    problems = operations.problems_since(since=now - dt.timedelta(days=1))
    report["problems_last_day"] = len(problems)
    report["problems"] = [
        {"stage": p.stage, "day": p.day.isoformat(), "subject": p.subject, "count": p.count, "error": p.error[:200]}
        for p in problems[:20]
    ]
    return JsonResponse(report, status=status)


@access.role_required(access.CAN_SUPERVISE)
def problems(request: HttpRequest) -> HttpResponse:
    """What the build and the re-plan could not process in the last week, and builds that are late."""
    now = timezone.now()
    ids = list(access.dealerships_of(request.user).values_list("id", flat=True))
    return render(request, "contacts/problems.html", {
        "late_builds": operations.late_builds(now=now, dealership_ids=ids),
        "problems": operations.problems_since(since=now - dt.timedelta(days=7), dealership_ids=ids),
        "sweep": operations.last_sweep(),
        "to_refresh": operations.data_to_refresh(dealership_ids=ids),
    })
