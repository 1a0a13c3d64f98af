"""``python manage.py restore FILE [--yes]``: the database as it was at a backup."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from customers import backups

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = ("Replace the whole database with the backup in FILE (written by `backup`). Stop the web server, "
            "the workers and beat first.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not options["yes"]:
            answer = input(f"Replace everything in the database with {path}? Type yes to go on: ")
            if answer.strip().lower() != "yes":
                raise CommandError("Nothing restored.")
        try:
            backups.restore(path)
        except backups.BackupError as error:
            raise CommandError(str(error)) from None
        log.warning("database restored from %s", path)
        self.stdout.write(f"Restored from {path}. Run `manage.py migrate` if the backup is from an older version.")
