"""``python manage.py backup FILE``: a consistent copy of the database, while the product runs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from customers import backups

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Back up the whole database to FILE (SQLite: the online backup API; PostgreSQL: pg_dump -Fc)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            backups.backup(options["file"])
        except backups.BackupError as error:
            raise CommandError(str(error)) from None
        log.info("backup written to %s", options["file"])
        self.stdout.write(f"Backup written to {options['file']} ({options['file'].stat().st_size:,} bytes).")
