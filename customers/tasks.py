"""Thin Celery tasks of the facts app: they take primary keys and call a workflow (CONVENTIONS 6)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import ImportBatch

logger = logging.getLogger(__name__)


@shared_task
def run_import(batch_id: int) -> str:
    """Run (or dry-run) one uploaded file; progress, counts and refusals go on its ImportBatch.

    Claimed by a conditional update, so a second delivery of a finished batch does nothing; a batch
    left running by a killed worker runs again, which is safe because an import is idempotent.
    """
    from customers.importing import run_import_batch

    claimed = ImportBatch.objects.filter(
        pk=batch_id, status__in=[ImportBatch.Status.PENDING, ImportBatch.Status.RUNNING]
    ).update(status=ImportBatch.Status.RUNNING, processed_rows=0, progressed_at=timezone.now())
    if claimed != 1:
        return "skipped"
    batch = ImportBatch.objects.select_related("dealership", "uploaded_by").get(pk=batch_id)
    try:
        report = run_import_batch(batch=batch)
    except Exception:
        logger.exception("run_import %s failed", batch_id)
        ImportBatch.objects.filter(pk=batch_id).update(
            status=ImportBatch.Status.FAILED, finished_at=timezone.now(),
            error=_("The import stopped on an unexpected error; the details are in the server log."),
        )
        raise
    if report is None:
        return "refused"
    logger.info("run_import %s %s: %d created, %d updated, %d unchanged, %d refused", batch_id, batch.kind,
                report.created, report.updated, report.unchanged, len(report.refused))
    return "failed" if report.error else "done"


@shared_task
def detect_duplicate_customers() -> int:
    """Nightly: store every dealership's look-alike customer pairs (customers.duplicates); idempotent,
    so a second beat or a redelivery only finds the same pairs again. Returns the new pairs."""
    from customers.duplicates import detect_duplicates
    from customers.models import Dealership

    now = timezone.now()
    return sum(detect_duplicates(dealership=dealership, now=now).created for dealership in Dealership.objects.all())
