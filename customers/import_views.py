"""Import pages: upload (dry run first), progress, preview with refused rows, apply, history."""

from __future__ import annotations

import csv
import io

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from customers import access, tasks
from customers.importing import COLUMNS, template_csv
from customers.models import Dealership, ImportBatch

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file holds"), choices=ImportBatch.Kind.choices)
    dealership = forms.ModelChoiceField(label=gettext_lazy("Dealership"), queryset=Dealership.objects.none())
    file = forms.FileField(label=gettext_lazy("CSV or Excel file"))

    def __init__(self, *args: object, user: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["dealership"].queryset = access.dealerships_of(user)  # type: ignore[attr-defined]

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 50 MB; split it into parts."))
        if not upload.name.lower().endswith((".csv", ".txt", ".xlsx")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        return upload


def _get_batch_for_user(request: HttpRequest, pk: int) -> ImportBatch:
    batch = ImportBatch.objects.filter(pk=pk, dealership__in=access.dealerships_of(request.user)).first()
    if batch is None:
        raise Http404(_("No such import."))
    return batch


@access.role_required(access.CAN_IMPORT)
def imports(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch = ImportBatch.objects.create(
            kind=form.cleaned_data["kind"], dealership=form.cleaned_data["dealership"], uploaded_by=request.user,  # type: ignore[misc]
            file_name=upload.name, file_content=upload.read(), is_dry_run=True,
        )
        tasks.run_import.delay_on_commit(batch.pk)
        return redirect("customers:import", pk=batch.pk)
    history = ImportBatch.objects.filter(dealership__in=access.dealerships_of(request.user)).select_related(
        "dealership", "uploaded_by"
    ).defer("file_content")[:50]
    return render(request, "customers/import_list.html", {"form": form, "history": history, "columns": COLUMNS})


@access.role_required(access.CAN_IMPORT)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _get_batch_for_user(request, pk)
    template = "customers/import_detail.html#status" if request.headers.get("HX-Request") else "customers/import_detail.html"
    return render(request, template, {"batch": batch, "refused": batch.refused_rows[:200]})


@require_POST
@access.role_required(access.CAN_IMPORT)
def import_apply(request: HttpRequest, pk: int) -> HttpResponse:
    preview = _get_batch_for_user(request, pk)
    if preview.status != ImportBatch.Status.PREVIEWED:
        raise Http404(_("Only a finished dry run can be applied."))
    batch = ImportBatch.objects.create(
        kind=preview.kind, dealership=preview.dealership, uploaded_by=request.user, file_name=preview.file_name,  # type: ignore[misc]
        file_content=preview.file_content, is_dry_run=False,
    )
    tasks.run_import.delay_on_commit(batch.pk)
    return redirect("customers:import", pk=batch.pk)


@access.role_required(access.CAN_IMPORT)
def import_refused_csv(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _get_batch_for_user(request, pk)
    columns = list(COLUMNS[batch.kind])
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["line", "error", *columns])
    for refused in batch.refused_rows:
        writer.writerow([refused["line"], refused["reason"], *(refused["row"].get(c, "") for c in columns)])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="refused-{batch.kind}-{batch.pk}.csv"'
    return response


@access.role_required(access.CAN_IMPORT)
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in COLUMNS:
        raise Http404(_("No such kind."))
    response = HttpResponse("\ufeff" + template_csv(kind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="template-{kind}.csv"'
    return response
