"""``python manage.py simulate --days N [--vehicles N] [--seed S] [--json] [--work-share F] [--faults ...]``.

Seeds the demo dealer group into an empty database and lives N days through the real beat tasks,
printing a ledger line a day and the business figures at the end (contacts.simulation).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from contacts.simulation.faults import FAULTS
from contacts.simulation.run import DEFAULT_START, simulate
from customers.models import Customer


def _date(value: str) -> Any:
    import datetime as dt

    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(_("--start must be a date like 2027-03-01, not %(value)s.") % {"value": value}) from None


class Command(BaseCommand):
    help = "Simulate the dealer group's life day by day and check the schedule's promises every day."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, required=True, help="Days to simulate.")
        parser.add_argument("--vehicles", type=int, default=2000, help="Vehicles of the demo group (default 2000).")
        parser.add_argument("--seed", type=int, default=7, help="Random seed (default 7); a seed gives the same run.")
        parser.add_argument("--work-share", type=float, default=1.0,
                            help="Share of each day's queue the agents work, 0 to 1 (default 1).")
        parser.add_argument("--faults", nargs="*", default=[], metavar="FAULT",
                            help=f"Faults to inject: {', '.join(FAULTS)}.")
        parser.add_argument("--start", type=str, default=DEFAULT_START.isoformat(), help="First simulated day.")
        parser.add_argument("--json", action="store_true", help="Print a machine-readable summary only.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] < 1:
            raise CommandError(_("--days must be at least 1."))
        if options["vehicles"] < 1:
            raise CommandError(_("--vehicles must be at least 1."))
        if not 0 <= options["work_share"] <= 1:
            raise CommandError(_("--work-share must be between 0 and 1."))
        unknown = sorted(set(options["faults"]) - set(FAULTS))
        if unknown:
            raise CommandError(_("Unknown fault %(fault)s: use %(faults)s.") % {"fault": ", ".join(unknown), "faults": ", ".join(FAULTS)})
        if Customer.objects.exists():
            raise CommandError(_("The simulation writes a whole simulated period into the database: run it on an empty database."))
        quiet = options["json"]
        report = simulate(
            days=options["days"], vehicles=options["vehicles"], seed=options["seed"], work_share=options["work_share"],
            faults=tuple(options["faults"]), start=_date(options["start"]),
            emit=None if quiet else (lambda line: self.stdout.write(line)),
        )
        if quiet:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str))
        else:
            for line in report.text():
                self.stdout.write(line)
