"""Forms of the facts app."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers.models import Dealership, ImportBatch

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # ~500,000 rows of customers as CSV; larger files go in parts
UPLOAD_EXTENSIONS = (".csv", ".txt", ".xlsx")


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file holds"), choices=ImportBatch.Kind.choices)
    dealership = forms.ModelChoiceField(label=gettext_lazy("Dealership"), queryset=Dealership.objects.none())
    file = forms.FileField(label=gettext_lazy("CSV or Excel (.xlsx) file"))

    def __init__(self, *args: Any, dealerships: QuerySet[Dealership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["dealership"])
        field.queryset = dealerships
        if dealerships.count() == 1:
            field.initial = dealerships.get()

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if (upload.size or 0) > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 50 MB: split it into parts."))
        if not (upload.name or "").lower().endswith(UPLOAD_EXTENSIONS):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        return upload
