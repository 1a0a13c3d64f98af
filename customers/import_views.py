"""Import pages: upload (a dry run first), progress, preview with refused rows, apply, history, and
the downloads (a template per kind, the refused rows of an import), and the retry of a file that could
not be queued or stalled. The work is customers.importing's, run by the customers.tasks.run_import
task, queued by customers.import_runs."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers import access, import_runs, importing
from customers.exports import csv_response
from customers.forms import ImportUploadForm
from customers.models import ImportBatch

HISTORY_ROWS = 50
REFUSED_ROWS_SHOWN = 200


def _get_batch_for_user(request: HttpRequest, pk: int) -> ImportBatch:
    batch = (
        ImportBatch.objects.filter(pk=pk, dealership__in=access.dealerships_of(request.user))
        .select_related("dealership", "uploaded_by")
        .defer("file_content")
        .first()
    )
    if batch is None:
        raise Http404(_("No such import."))
    return batch


@access.role_required(access.CAN_IMPORT)
def imports(request: HttpRequest) -> HttpResponse:
    """The upload form, the column layout with templates, and the import history."""
    dealerships = access.dealerships_of(request.user)
    form = ImportUploadForm(request.POST or None, request.FILES or None, dealerships=dealerships)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch = ImportBatch.objects.create(
            kind=form.cleaned_data["kind"], dealership=form.cleaned_data["dealership"],
            uploaded_by=request.user if request.user.is_authenticated else None,
            file_name=(upload.name or "").replace("\x00", "")[:255], file_content=upload.read(), is_dry_run=True,
        )
        import_runs.queue_import_run(batch_id=batch.pk, now=timezone.now())
        return redirect("customers:import", pk=batch.pk)
    history = list(
        ImportBatch.objects.filter(dealership__in=dealerships)
        .select_related("dealership", "uploaded_by")
        .defer("file_content", "refused_rows")[:HISTORY_ROWS]
    )
    now = timezone.now()
    layouts = [
        (kind, label, importing.columns_of(kind))
        for kind, label in ImportBatch.Kind.choices
    ]
    return render(request, "customers/import_list.html", {
        "form": form, "history": history, "layouts": layouts,
        "retryable_ids": {batch.pk for batch in history if batch.can_retry(now)},
    })


@access.role_required(access.CAN_IMPORT)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress while the file runs (htmx polls the status partial every second), then the result."""
    batch = _get_batch_for_user(request, pk)
    template = "customers/import_detail.html"
    if request.headers.get("HX-Request"):
        template += "#status"
    percent = round(100 * batch.processed_rows / batch.total_rows) if batch.total_rows else 0
    is_stalled = batch.is_stalled(timezone.now())
    return render(request, template, {
        "batch": batch,
        "percent": percent,
        "is_running": batch.is_waiting_or_running and not is_stalled,
        "is_stalled": is_stalled,
        "refused": batch.refused_rows[:REFUSED_ROWS_SHOWN],
        "refused_hidden": max(0, len(batch.refused_rows) - REFUSED_ROWS_SHOWN),
    })


@require_POST
@access.role_required(access.CAN_IMPORT)
def import_apply(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply a previewed file: the same batch runs again for real. The conditional update makes a
    second click (or a second tab) a no-op."""
    batch = _get_batch_for_user(request, pk)
    claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.PREVIEWED).update(
        is_dry_run=False, status=ImportBatch.Status.PENDING, processed_rows=0, finished_at=None
    )
    if claimed == 1:
        import_runs.queue_import_run(batch_id=batch.pk, now=timezone.now())
    return redirect("customers:import", pk=batch.pk)


@require_POST
@access.role_required(access.CAN_IMPORT)
def import_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue again a file that could not be queued, or whose run stalled (a killed worker, a lost
    task): an import is idempotent, so the rows already written stay as they are."""
    batch = _get_batch_for_user(request, pk)
    import_runs.retry_import_run(batch=batch, now=timezone.now(), stalled_after=settings.IMPORT_STALLED_AFTER)
    return redirect("customers:import", pk=batch.pk)


@access.role_required(access.CAN_IMPORT)
def import_refused_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The refused rows as they were in the file, plus "line" and "error" columns, to fix and re-import."""
    batch = ImportBatch.objects.filter(pk=pk, dealership__in=access.dealerships_of(request.user)).first()
    if batch is None:
        raise Http404(_("No such import."))
    headers, rows = importing.refused_rows_table(batch=batch)
    headers[-2:] = [_("Line"), _("Error")]  # the file's own columns stay as they were, to import again
    return csv_response(headers=headers, rows=rows, file_name=f"refused-{batch.kind}-{batch.pk}.csv")


@access.role_required(access.CAN_IMPORT)
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    """An empty file of a kind with the canonical header line."""
    if kind not in importing.KINDS:
        raise Http404(_("No such kind of import."))
    return csv_response(headers=importing.template_headers(kind), rows=[], file_name=f"{kind}.csv")

