"""Failure isolation: one customer, household or vehicle that cannot be processed is recorded and skipped.

The morning build and the nightly re-plan call ``record_problem`` from outside the transaction that
failed; the supervisor's problems page and /health/ read the rows (``recent_problems``).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.db.models import F

from contacts.models import Problem

logger = logging.getLogger(__name__)


def record_problem(
    *,
    stage: str,
    day: dt.date,
    subject: str,
    error: BaseException | str,
    now: dt.datetime,
    dealership_id: int | None = None,
    customer_id: int | None = None,
    vehicle_id: int | None = None,
) -> None:
    """Record (or count again) that ``subject`` failed at ``stage`` on ``day``. Never raises: a failure
    to record a failure is logged, and the caller goes on with the rest."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    logger.error("%s %s %s: %s", stage, day, subject, text)
    try:
        with transaction.atomic():
            updated = Problem.objects.filter(stage=stage, day=day, subject=subject[:200]).update(
                count=F("count") + 1, error=text[:2000], occurred_at=now
            )
            if not updated:
                Problem.objects.create(
                    stage=stage, day=day, subject=subject[:200], error=text[:2000], occurred_at=now,
                    dealership_id=dealership_id, customer_id=customer_id, vehicle_id=vehicle_id,
                )
    except IntegrityError:  # recorded meanwhile by a concurrent run: count it there
        Problem.objects.filter(stage=stage, day=day, subject=subject[:200]).update(count=F("count") + 1)
    except Exception:  # noqa: BLE001 - the caller's work matters more than this record
        logger.exception("Could not record the problem %s %s %s", stage, day, subject)


def recent_problems(*, dealership_ids: list[int] | None, since: dt.datetime) -> list[Problem]:
    rows = Problem.objects.filter(occurred_at__gte=since).select_related("dealership", "customer", "vehicle")
    if dealership_ids is not None:
        rows = rows.filter(dealership_id__in=dealership_ids)
    return list(rows[:200])
