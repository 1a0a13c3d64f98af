"""What the operation looks like right now: the builds that are late, the nightly sweep's progress, the
problems recorded by the build and the re-plan. Read by /health/ and the supervisor's problems page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import Coalesce

from contacts.models import Problem, QueueBuild, SweepChunk
from contacts.problems import recent_problems
from contacts.queues import dealerships_due
from customers.models import Customer, Dealership


@dataclass(frozen=True)
class LateBuild:
    dealership: Dealership
    day: dt.date
    queued_at: dt.datetime | None
    attempts: int


@dataclass(frozen=True)
class SweepProgress:
    night: dt.date
    chunks: int
    finished: int
    requeued: int


def late_builds(*, now: dt.datetime, dealership_ids: list[int] | None = None) -> list[LateBuild]:
    """Dealerships whose local morning has come and whose queue for the day is not finished."""
    due = [(d, day) for d, day in dealerships_due(now=now) if dealership_ids is None or d.id in dealership_ids]
    builds = {
        (b.dealership_id, b.day): b
        for b in QueueBuild.objects.filter(dealership_id__in=[d.id for d, _day in due], finished_at__isnull=True)
    }
    result = []
    for dealership, day in due:
        build = builds.get((dealership.id, day))
        result.append(LateBuild(dealership, day, build.queued_at if build else None, build.attempts if build else 0))
    return result


def last_sweep() -> SweepProgress | None:
    sweeps = SweepChunk.objects.filter(build__isnull=True)  # the rows with a build are its chunks
    night = sweeps.order_by("-night").values_list("night", flat=True).first()
    if night is None:
        return None
    counts = sweeps.filter(night=night).aggregate(
        chunks=Count("id"), finished=Count("id", filter=Q(finished_at__isnull=False)),
        requeued=Count("id", filter=Q(attempts__gt=1)),
    )
    return SweepProgress(night, counts["chunks"], counts["finished"], counts["requeued"])


# How many customers the data-refresh list shows at once, longest unreachable first.
DATA_REFRESH_ROWS = 200


def data_to_refresh(*, dealership_ids: list[int]) -> list[Customer]:
    """Customers whose phone (three failed calls in a row) or e-mail (a bounce or a permanent failure)
    is marked unreachable: a supervisor gets their contact data refreshed."""
    return list(
        Customer.objects.filter(dealership_id__in=dealership_ids)
        .filter(Q(phone_unreachable_since__isnull=False) | Q(email_unreachable_since__isnull=False))
        .select_related("dealership")
        .order_by(Coalesce("phone_unreachable_since", "email_unreachable_since"), "id")[:DATA_REFRESH_ROWS]
    )


def problems_since(*, since: dt.datetime, dealership_ids: list[int] | None = None) -> list[Problem]:
    return recent_problems(dealership_ids=dealership_ids, since=since)
