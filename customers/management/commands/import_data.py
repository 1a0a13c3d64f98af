"""``python manage.py import_data KIND FILE [--dealership CODE] [--dry-run]``.

The same workflow as the Imports page (customers.importing.run_import_batch), run in this process;
the run is recorded in the import history like an upload, so its refused rows can be downloaded there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from customers.importing import KINDS, run_import_batch
from customers.models import Dealership, ImportBatch


class Command(BaseCommand):
    help = "Import customers, vehicles, sales, visits or readings from a CSV or XLSX file (docs/import.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=list(KINDS))
        parser.add_argument("file", type=Path)
        parser.add_argument("--dealership", help="Dealership code (needed when there is more than one).")
        parser.add_argument("--dry-run", action="store_true", help="Check the file and report; write nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        dealership = self._dealership(options["dealership"])
        path: Path = options["file"]
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        batch = ImportBatch.objects.create(
            kind=options["kind"], dealership=dealership, file_name=path.name[:255], file_content=content,
            is_dry_run=options["dry_run"], status=ImportBatch.Status.RUNNING,
        )
        report = run_import_batch(batch=batch)
        batch.refresh_from_db()
        if report is None:
            raise CommandError(batch.error)
        verb = "would be" if report.dry_run else "were"
        self.stdout.write(
            f"{report.total} rows: {report.created} {verb} created, {report.updated} {verb} updated, "
            f"{report.unchanged} unchanged, {len(report.refused)} refused."
        )
        if report.look_alike:
            self.stdout.write(f"{report.look_alike} rows look like an existing different customer: "
                              "review them on the Duplicates page (/customers/duplicates/).")
        if report.ignored_columns:
            self.stdout.write(f"Ignored columns: {', '.join(report.ignored_columns)}.")
        for line, earlier in report.merged:
            self.stdout.write(f"  line {line} is the same as line {earlier}: merged")
        for refusal in sorted(report.refused, key=lambda r: r.ref):
            self.stdout.write(f"  line {refusal.ref}: {refusal.reason}")
        self.stdout.write(f"Import #{batch.pk} ({batch.get_status_display()}).")
        if report.error:
            raise CommandError(report.error)

    def _dealership(self, code: str | None) -> Dealership:
        if code:
            found = Dealership.objects.filter(code=code).first()
            if found is None:
                raise CommandError(f"No dealership with code {code!r}; the codes are: {self._codes()}.")
            return found
        if Dealership.objects.count() != 1:
            raise CommandError(f"Give --dealership CODE (one of: {self._codes()}).")
        return Dealership.objects.get()

    def _codes(self) -> str:
        return ", ".join(Dealership.objects.order_by("code").values_list("code", flat=True)) or "none yet"
