"""Thin Celery tasks of the facts app."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from customers.models import ImportBatch

logger = logging.getLogger(__name__)


@shared_task
def run_import(batch_id: int) -> str:
    """Run (or dry-run) one uploaded file, recording progress and the result on its ImportBatch."""
    from customers.importing import ImportFileError, import_file

    batch = ImportBatch.objects.select_related("dealership").filter(pk=batch_id).first()
    if batch is None or batch.status not in (ImportBatch.Status.PENDING, ImportBatch.Status.RUNNING):
        return "skipped"
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING)

    def progress(rows: int) -> None:
        ImportBatch.objects.filter(pk=batch.pk).update(processed_rows=rows)

    try:
        report = import_file(
            kind=batch.kind, content=bytes(batch.file_content), file_name=batch.file_name,
            dealership=batch.dealership, dry_run=batch.is_dry_run, progress=progress,
        )
    except ImportFileError as error:
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.FAILED, error=str(error), finished_at=timezone.now())
        return "failed"
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.PREVIEWED if batch.is_dry_run else ImportBatch.Status.DONE,
        total_rows=report.total, processed_rows=report.total, created_count=report.created,
        updated_count=report.updated, unchanged_count=report.unchanged, refused_count=len(report.refused),
        refused_rows=report.refused, finished_at=timezone.now(),
    )
    logger.info("run_import %s %s (%s): %s created, %s updated, %s refused", batch.pk, batch.kind,
                batch.dealership.code, report.created, report.updated, len(report.refused))
    return "done"
