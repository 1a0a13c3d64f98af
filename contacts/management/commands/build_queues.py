"""``python manage.py build_queues [--date D] [--dealership CODE]``: build daily call queues now."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from contacts.queues import build_queue
from customers.models import Dealership


class Command(BaseCommand):
    help = "Build the daily call queue of each dealership (today in its own time zone unless --date)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="The day, YYYY-MM-DD (default: each dealership's local today).")
        parser.add_argument("--dealership", help="A dealership code (default: all).")

    def handle(self, *args: Any, **options: Any) -> None:
        day = None
        if options["date"]:
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(f"--date {options['date']!r} is not a date like 2026-11-23.") from None
        dealerships = Dealership.objects.all()
        if options["dealership"]:
            dealerships = dealerships.filter(code=options["dealership"])
            if not dealerships.exists():
                raise CommandError(f"No dealership with code {options['dealership']!r}.")
        now = timezone.now()
        for dealership in dealerships:
            started = time.monotonic()
            local_day = day or dealership.local_date(now)
            counts = build_queue(dealership=dealership, day=local_day, now=now)
            self.stdout.write(
                f"{dealership.code} {local_day}: {counts.calls} calls, {counts.messages} messages, "
                f"{counts.suppressed} suppressed, {counts.over_capacity} moved for capacity "
                f"({time.monotonic() - started:.1f} s)"
            )
