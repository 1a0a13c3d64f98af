"""``python manage.py backtest_forecast [--dealership CODE] [--readings FILE.csv] [--json]``.

For every real maintenance visit with a sale or a visit before it, predict it as the re-plan would have
the day before (customers.core.forecast.forecast_vehicle on the facts known then) and compare, beside
three baselines, for all visits, first visits after a sale and later visits. Visits that cannot be
replayed are counted by reason. With ``--readings`` it reads a dealer's own export instead of the
database (columns ``vin,date,odometer_km,is_maintenance``; bad rows reported by line and skipped).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from customers.core import backtest, forecast
from customers.core.readings import Reading
from customers.forecasting import interval_for, mileage_priors, prior_for, schedules, seasonal_profiles
from customers.importing import ImportFileError, read_table
from customers.models import Dealership, OdometerReading, Sale, ServiceVisit, Vehicle

TRUE_WORDS = {"1", "true", "yes", "y", "да", "x"}
FALSE_WORDS = {"0", "false", "no", "n", "нет", ""}


def _cell(value: Any) -> str:
    """A cell as text: CSV cells are text already, Excel gives dates and numbers."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_date(text: str) -> dt.date:
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    raise ValueError(f"date {text!r} is not YYYY-MM-DD or DD.MM.YYYY")


def histories_from_file(path: Path, *, interval_km: int, interval_months: int) -> tuple[list[backtest.VehicleHistory], list[str]]:
    problems: list[str] = []
    readings: dict[str, list[Reading]] = defaultdict(list)
    visits: dict[str, list[backtest.MaintenanceVisit]] = defaultdict(list)
    try:
        content = path.read_bytes()
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
    try:  # the imports' reader: CSV in UTF-8, UTF-16 or Windows-1251, any delimiter, or .xlsx
        table = read_table(content=content, kind="readings")
    except ImportFileError as error:
        raise CommandError(f"{path}: {error}") from None
    headers = [header.strip().lower() for header in table.headers]
    expected = {"vin", "date", "odometer_km", "is_maintenance"}
    found = set(headers) - {""}
    if not expected <= found:
        raise CommandError(
            f"{path}: missing column(s) {', '.join(sorted(expected - found))}; found {', '.join(sorted(found)) or 'none'}."
        )
    for source in table.rows:
        line = source.line
        row = {name: _cell(value) for name, value in zip(headers, source.cells, strict=False)}
        try:
            vin = row.get("vin", "").upper()
            if not vin:
                raise ValueError("VIN is empty")
            day = parse_date(row.get("date", ""))
            km = int(row.get("odometer_km", "").replace(" ", "").replace("\u00a0", "").replace(",", ""))
            flag = row.get("is_maintenance", "").lower()
            if flag not in TRUE_WORDS | FALSE_WORDS:
                raise ValueError(f"is_maintenance {row.get('is_maintenance')!r} is not yes/no or 1/0")
        except ValueError as error:
            problems.append(f"line {line}: {error}")
            continue
        readings[vin].append(Reading(read_on=day, odometer_km=km))
        if flag in TRUE_WORDS:
            visits[vin].append(backtest.MaintenanceVisit(visited_on=day, odometer_km=km))
    histories = [
        backtest.VehicleHistory(
            readings=tuple(readings[vin]),
            maintenances=tuple(sorted(visits[vin], key=lambda v: v.visited_on)),
            interval_km=interval_km,
            interval_months=interval_months,
        )
        for vin in sorted(readings)
    ]
    return histories, problems


def histories_from_database(dealership: Dealership | None) -> list[backtest.VehicleHistory]:
    """Each vehicle's facts as the re-plan loads them: every reading (sale, visit, call, manual,
    telematics), every maintenance visit, every sale with its kind (the latest one before a visit starts
    its cycle; the first interval applies only after a new-car sale) and the prior production uses."""
    vehicles = Vehicle.objects.all()
    if dealership is not None:
        vehicles = vehicles.filter(dealership=dealership)
    ids = list(vehicles.values_list("id", flat=True))
    readings: dict[int, list[Reading]] = defaultdict(list)
    for pk, vehicle_id, day, km in OdometerReading.objects.filter(vehicle_id__in=ids).values_list(
        "id", "vehicle_id", "read_on", "odometer_km"
    ):
        readings[vehicle_id].append(Reading(read_on=day, odometer_km=km, reading_id=pk))
    visits: dict[int, list[backtest.MaintenanceVisit]] = defaultdict(list)
    for vehicle_id, day, km in (
        ServiceVisit.objects.filter(vehicle_id__in=ids, kind=ServiceVisit.Kind.MAINTENANCE)
        .order_by("visited_on")
        .values_list("vehicle_id", "visited_on", "odometer_km")
    ):
        visits[vehicle_id].append(backtest.MaintenanceVisit(visited_on=day, odometer_km=km))
    sales: dict[int, list[forecast.Sale]] = defaultdict(list)
    for vehicle_id, day, km, kind in Sale.objects.filter(vehicle_id__in=ids).order_by("sold_on").values_list(
        "vehicle_id", "sold_on", "odometer_km", "kind"
    ):
        sales[vehicle_id].append(forecast.Sale(sold_on=day, kind=kind, odometer_km=km or 0))
    table = schedules()
    priors = mileage_priors()
    today = timezone.localdate()
    # The profiles production uses now, learned from the whole fleet's readings (also those after a
    # replayed visit): the backtest measures the forecast as it runs today.
    profiles = seasonal_profiles()
    result = []
    for vehicle in vehicles.only(
        "id", "dealership_id", "make", "model", "maintenance_interval_km", "maintenance_interval_months"
    ):
        interval = interval_for(vehicle, table)
        result.append(
            backtest.VehicleHistory(
                readings=tuple(readings[vehicle.id]),
                maintenances=tuple(visits[vehicle.id]),
                interval_km=interval.km,
                interval_months=interval.months,
                first_interval_km=interval.first_km,
                first_interval_months=interval.first_months,
                prior_km_per_month=prior_for(vehicle, priors, sales=sales[vehicle.id], today=today),
                sales=tuple(sales[vehicle.id]),
                seasonality=profiles.get(vehicle.dealership_id),
            )
        )
    return result


def percent(value: Any) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def days(value: Any) -> str:
    return "—" if value is None else f"{value:.1f} d"


METHODS = (
    ("forecast", None),
    ("previous + interval", "previous_plus_interval"),
    ("last two readings", "last_two_readings"),
    ("first-to-last average", "first_to_last_average"),
)


def table_lines(report: dict[str, Any]) -> list[str]:
    """The report as a text table: every method for all visits, first visits and later visits."""
    lines = [
        f"{'visits':<14}{'method':<24}{'visits':>7}{'invited':>10}{'±14 d':>9}{'±30 d':>9}{'median':>9}"
        f"{'p90':>9}{'bias':>9}{'inside':>9}{'width':>9}"
    ]
    for part, label in (("", "all"), ("first_visits", "first after sale"), ("later_visits", "later")):
        figures = report[part] if part else {"forecast": report, "baselines": report["baselines"]}
        for name, key in METHODS:
            row = figures["forecast"] if key is None else figures["baselines"][key]
            lines.append(
                f"{label:<14}{name:<24}{row['visits']:>7}{percent(row['invitation_window']):>10}"
                f"{percent(row['within_14_days']):>9}{percent(row['within_30_days']):>9}"
                f"{days(row['median_abs_error_days']):>9}{days(row['p90_abs_error_days']):>9}"
                f"{days(row['mean_bias_days']):>9}{percent(row['inside_interval']):>9}{days(row['median_interval_days']):>9}"
            )
    return lines


SKIP_REASONS = {
    "nothing_before": gettext_noop("no sale and no maintenance before the visit"),
    "date_out_of_range": gettext_noop("a date the calendar cannot hold (near year 9999)"),
    "after_today": gettext_noop("dated after today"),
}


class Command(BaseCommand):
    help = "Backtest the maintenance due-date forecast against real visits, beside three naive baselines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dealership", help="Only this dealership's vehicles (code).")
        parser.add_argument("--readings", type=Path, help="A CSV or .xlsx export: vin,date,odometer_km,is_maintenance.")
        parser.add_argument("--interval-km", type=int, default=15000, help="Maintenance interval for --readings.")
        parser.add_argument("--interval-months", type=int, default=12, help="Maintenance interval for --readings.")
        parser.add_argument("--json", action="store_true", help="Print JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        problems: list[str] = []
        if options["readings"]:
            if options["interval_km"] <= 0 or options["interval_months"] <= 0:
                raise CommandError("--interval-km and --interval-months must be positive.")
            histories, problems = histories_from_file(
                options["readings"], interval_km=options["interval_km"], interval_months=options["interval_months"]
            )
        else:
            dealership = None
            if options["dealership"]:
                dealership = Dealership.objects.filter(code=options["dealership"]).first()
                if dealership is None:
                    raise CommandError(f"No dealership with code {options['dealership']!r}.")
            histories = histories_from_database(dealership)
        # Visits dated after today have not happened (a date typed as 9999): counted, not replayed.
        report = backtest.backtest(histories, today=timezone.localdate()).to_dict()
        for problem in problems:
            self.stderr.write(f"skipped {problem}")
        skipped: dict[str, int] = report["skipped"]  # type: ignore[assignment]
        for reason, count in skipped.items():
            self.stderr.write(
                _("%(count)s maintenance visit(s) not replayed: %(reason)s.")
                % {"count": count, "reason": _(SKIP_REASONS.get(reason, reason))}
            )
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        for line in table_lines(report):
            self.stdout.write(line)
