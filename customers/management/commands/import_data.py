"""``python manage.py import_data KIND FILE [--dealership CODE] [--dry-run]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from customers.importing import COLUMNS, ImportFileError, import_file
from customers.models import Dealership


class Command(BaseCommand):
    help = "Import customers, vehicles, sales, visits or readings from a CSV or XLSX file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=list(COLUMNS))
        parser.add_argument("file", type=Path)
        parser.add_argument("--dealership", help="Dealership code (needed when there is more than one).")
        parser.add_argument("--dry-run", action="store_true", help="Check and report; write nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        dealerships = Dealership.objects.all()
        if options["dealership"]:
            dealerships = dealerships.filter(code=options["dealership"])
        if dealerships.count() != 1:
            codes = ", ".join(Dealership.objects.values_list("code", flat=True))
            raise CommandError(f"Give --dealership CODE (one of: {codes}).")
        try:
            content = options["file"].read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {options['file']}: {error.strerror}.") from None
        try:
            report = import_file(kind=options["kind"], content=content, file_name=options["file"].name,
                                 dealership=dealerships.get(), dry_run=options["dry_run"])
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        verb = "would be" if options["dry_run"] else "were"
        self.stdout.write(
            f"{report.total} rows: {report.created} {verb} created, {report.updated} {verb} updated, "
            f"{report.unchanged} unchanged, {len(report.refused)} refused."
        )
        for refused in report.refused:
            self.stdout.write(f"  line {refused['line']}: {refused['reason']}")
