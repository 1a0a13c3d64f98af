"""Queueing an uploaded import, and retrying one that could not be queued or stalled.

The file is saved on its ImportBatch before anything is queued, so a broker that is down loses
nothing: the batch is marked "not queued" and the page says so and offers a retry. A batch waiting or
running with no progress for settings.IMPORT_STALLED_AFTER (a lost task, a killed worker) is shown
as stalled with the same retry; an import is idempotent, so running it again finishes it.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import current_app
from django.db.models import Q
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from customers.models import ImportBatch

logger = logging.getLogger(__name__)

RUN_IMPORT = "customers.tasks.run_import"


def queue_import_run(*, batch_id: int, now: dt.datetime) -> bool:
    """Queue the run of a saved batch; False (and the batch marked not queued) when the broker refuses.

    Called outside any transaction, after the batch is committed, so a worker finds it."""
    ImportBatch.objects.filter(pk=batch_id).update(progressed_at=now)
    try:
        # By name (the app's registry imports customers.tasks): this workflow does not import its task.
        current_app.tasks[RUN_IMPORT].delay(batch_id)
    except (OperationalError, RedisError, OSError) as error:
        logger.warning("import %s could not be queued: %s", batch_id, error)
        ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.PENDING).update(
            status=ImportBatch.Status.UNQUEUED
        )
        return False
    return True


def retry_import_run(*, batch: ImportBatch, now: dt.datetime, stalled_after: dt.timedelta) -> bool:
    """Queue again a batch that was not queued or has stalled. The conditional update makes a second
    click, or a batch that moved on meanwhile, a no-op (False)."""
    since = now - stalled_after
    claimed = ImportBatch.objects.filter(
        Q(status=ImportBatch.Status.UNQUEUED)
        | Q(status__in=[ImportBatch.Status.PENDING, ImportBatch.Status.RUNNING])
        & (Q(progressed_at__lt=since) | Q(progressed_at__isnull=True, created_at__lt=since)),
        pk=batch.pk,
    ).update(status=ImportBatch.Status.PENDING, progressed_at=now, error="")
    if claimed != 1:
        return False
    return queue_import_run(batch_id=batch.pk, now=now)
