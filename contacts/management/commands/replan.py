"""``python manage.py replan [--all | --vin VIN] [--force]``: forecast and re-plan vehicles now."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contacts.planning.chunk import replan
from contacts.planning.writing import PlanWriteResult
from customers.models import Vehicle

CHUNK = 2000


class Command(BaseCommand):
    help = "Re-forecast and re-plan vehicles in this process (the nightly beat job does the same through workers)."

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--all", action="store_true", help="Every vehicle.")
        group.add_argument("--vin", help="One vehicle by VIN.")
        parser.add_argument(
            "--force", action="store_true", help="Re-plan even vehicles whose inputs have not changed since their last re-plan."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["vin"]:
            ids = list(Vehicle.objects.filter(vin=options["vin"].strip().upper()).values_list("id", flat=True))
            if not ids:
                raise CommandError(f"No vehicle with VIN {options['vin']}.")
        else:
            ids = list(Vehicle.objects.order_by("id").values_list("id", flat=True))
        started = time.monotonic()
        total = PlanWriteResult()
        for start in range(0, len(ids), CHUNK):
            part = replan(vehicle_ids=ids[start : start + CHUNK], force=options["force"] or bool(options["vin"]))
            total.vehicles += part.vehicles
            total.created += part.created
            total.updated += part.updated
            total.cancelled += part.cancelled
            total.forecasts_written += part.forecasts_written
            total.skipped += part.skipped
        self.stdout.write(
            f"Re-planned {total.vehicles} vehicles ({total.skipped} unchanged, skipped) in {time.monotonic() - started:.1f} s: "
            f"{total.created} touchpoints created, {total.updated} moved, {total.cancelled} cancelled, "
            f"{total.forecasts_written} forecasts written."
        )
