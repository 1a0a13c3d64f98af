"""``python manage.py show_plan VIN [--json]`` / ``show_plan --reference [--json]``: a plan, computed in memory."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from contacts.core.plan_engine import PlannedTouchpoint, plan_vehicle, reference_vehicle_facts
from contacts.planning.computing import build_facts, plan_facts
from contacts.planning.facts import active_templates
from customers.models import Vehicle


def as_row(tp: PlannedTouchpoint) -> dict[str, Any]:
    return {
        "code": tp.code,
        "occurrence": tp.occurrence,
        "date": tp.due_on.isoformat(),
        "window_start": tp.window_start.isoformat(),
        "window_end": tp.window_end.isoformat(),
        "department": tp.department,
        "channel": tp.channel,
        "reason": tp.reason,
    }


class Command(BaseCommand):
    help = "Show a vehicle's plan (or docs/program.md's reference vehicle's) without writing anything."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("vin", nargs="?", help="The vehicle's VIN.")
        parser.add_argument("--reference", action="store_true", help="docs/program.md's reference vehicle.")
        parser.add_argument("--json", action="store_true", help="Print JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        specs = [spec for _row, spec in active_templates()]
        if options["reference"]:
            planned = plan_vehicle(specs, reference_vehicle_facts())
        elif options["vin"]:
            vehicle = Vehicle.objects.select_related("owner", "dealership").filter(vin=options["vin"].strip().upper()).first()
            if vehicle is None:
                raise CommandError(f"No vehicle with VIN {options['vin']}.")
            today = vehicle.dealership.local_date(timezone.now())
            facts, _written = build_facts(
                vehicles=[vehicle], today_by_dealership={vehicle.dealership_id: today}, store_forecasts=False
            )
            if not facts:
                raise CommandError(f"Vehicle {vehicle.vin} has no plan: it has no owner with a sale, or it was sold on.")
            planned = plan_facts(facts, specs)
        else:
            raise CommandError("Give a VIN or --reference.")
        rows = [as_row(tp) for tp in planned]
        if options["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        calls = sum(1 for r in rows if r["channel"] == "call")
        for r in rows:
            self.stdout.write(
                f"{r['date']}  {r['code']:<22} #{r['occurrence']:<2} {r['channel']:<5} {r['department']:<13} "
                f"window {r['window_start']}..{r['window_end']}  {r['reason']}"
            )
        self.stdout.write(f"{len(rows)} touchpoints: {calls} calls, {len(rows) - calls} messages.")
