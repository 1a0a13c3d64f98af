"""``python manage.py export_metrics --from D --to D [--dealership CODE] --format csv|json [--table NAME]``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone, translation

from contacts import metrics
from contacts.dashboard_exports import EXPORTS, export_table
from customers.exports import write_csv
from customers.models import Dealership


def parse_day(value: str, flag: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{flag} {value!r} is not a date like 2026-01-31.") from None
    if not 1950 <= day.year <= 2100:
        raise CommandError(f"{flag} {value!r} is out of range (1950-2100).")
    return day


class Command(BaseCommand):
    help = "Export the dashboard figures of a period, or one of its tables, as CSV or JSON (to standard output)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", required=True)
        parser.add_argument("--to", dest="end", required=True)
        parser.add_argument("--dealership", help="A dealership code (default: all).")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--repeat-years", type=int, default=3)
        parser.add_argument("--return-months", type=int, default=15)
        parser.add_argument("--active-months", type=int, default=12)
        parser.add_argument("--table", choices=sorted(EXPORTS), default="figures",
                            help="Which table of the dashboard to write as CSV (default: figures); "
                                 "series and agent_series are the charts' monthly figures.")
        parser.add_argument("--language", choices=["en", "ru"], default="en",
                            help="The CSV's headers and layout: en (',' and decimal point) or ru (';' and "
                                 "decimal comma, for Russian Excel). Rates are percentages, as on the page.")

    def handle(self, *args: Any, **options: Any) -> None:
        start, end = parse_day(options["start"], "--from"), parse_day(options["end"], "--to")
        if start > end:
            raise CommandError("--from must not be after --to.")
        dealerships = Dealership.objects.all()
        if options["dealership"]:
            dealerships = dealerships.filter(code=options["dealership"])
            if not dealerships.exists():
                raise CommandError(f"No dealership with code {options['dealership']!r}.")
        today = timezone.now().date()
        scope = metrics.Scope(tuple(dealerships.values_list("id", flat=True)), start, end, as_of=today)
        figures = {"repeat_years": options["repeat_years"], "return_months": options["return_months"],
                   "active_months": options["active_months"]}
        if options["format"] == "json" or options["table"] in ("series", "agent_series"):
            series = metrics.monthly_series(scope, **figures)
            value = metrics.all_figures(scope, **figures, series=series)
            series.pop("agent_totals")  # the same as value["agents"]
            value["series"] = series
        else:
            value = metrics.all_figures(scope, **figures)
        if options["format"] == "json":
            self.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str))
            return
        with translation.override(options["language"]):
            header, rows = export_table(options["table"], value)
            write_csv(self.stdout, headers=header, rows=rows, language=options["language"])
