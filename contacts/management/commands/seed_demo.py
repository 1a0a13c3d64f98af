"""``python manage.py seed_demo [--vehicles N] [--seed S]``: the demo dealer group, idempotent."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from contacts.models import ContactRules
from customers.demo import DEALERSHIPS, DemoCustomer, DemoGenerator, DemoVehicle
from customers.models import (
    Consent,
    Customer,
    Dealership,
    MaintenanceSchedule,
    OdometerReading,
    Sale,
    ServiceVisit,
    Vehicle,
)

DEMO_USERS = [
    # username, first name, last name, roles, dealership codes, is superuser
    ("agent1", "Анна", "Оператор", ["agent"], ["msk"], False),
    ("agent2", "Борис", "Оператор", ["agent"], ["ekb"], False),
    ("supervisor", "Светлана", "Старшая", ["supervisor"], ["msk", "ekb"], False),
    ("manager", "Михаил", "Руководитель", ["manager"], ["msk", "ekb"], False),
    ("service1", "Сергей", "Мастер-приёмщик", ["service"], ["msk"], False),
    ("sales1", "Ольга", "Менеджер продаж", ["sales", "trade_in"], ["msk"], False),
    ("admin", "Админ", "Системный", ["admin"], ["msk", "ekb"], True),
]
BATCH = 2000


class Command(BaseCommand):
    help = "Create a realistic, deterministic demo dealer group. Running it again adds nothing twice."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--vehicles", type=int, default=2000, help="How many vehicles (default 2000).")
        parser.add_argument("--seed", type=int, default=7, help="Random seed (default 7).")
        parser.add_argument("--today", type=dt.date.fromisoformat, default=None, help="Pretend today is YYYY-MM-DD.")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when customers already exist.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["vehicles"] < 1:
            self.stderr.write("--vehicles must be at least 1.")
            raise SystemExit(2)
        started = time.monotonic()
        dealerships = self._dealerships()
        self._users(dealerships)
        if options["if_empty"] and Customer.objects.exists():
            self.stdout.write("Demo data already present; nothing to do.")
        else:
            today = options["today"] or dealerships["msk"].local_date(timezone.now())
            counts = self._facts(dealerships, seed=options["seed"], vehicles=options["vehicles"], today=today)
            self.stdout.write(
                "Created {customers} customers, {vehicles} vehicles, {sales} sales, {visits} service visits, "
                "{readings} odometer readings in {seconds:.1f} s.".format(**counts, seconds=time.monotonic() - started)
            )
            if connection.vendor == "postgresql":
                # Fresh statistics, so that the planner walks the indexes (the claim order, the queue)
                # from the first request instead of after autovacuum's next visit.
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
        self.stdout.write("Demo logins (password: demo): " + ", ".join(u[0] for u in DEMO_USERS))

    def _dealerships(self) -> dict[str, Dealership]:
        result = {}
        for code, name, zone, region, _plate, _city in DEALERSHIPS:
            dealership, _created = Dealership.objects.get_or_create(
                code=code, defaults={"name": name, "time_zone": zone, "country": "RU", "region": region}
            )
            rules = ContactRules.for_dealership(dealership)
            if code == "msk" and rules.working_weekdays == "12345":
                # The Moscow call centre works seven days a week (many do); Yekaterinburg Monday to Friday.
                rules.working_weekdays = "1234567"
                rules.save(update_fields=["working_weekdays"])
            result[code] = dealership
        for make, model, interval_km in [("Toyota", "", 10000)]:
            MaintenanceSchedule.objects.get_or_create(
                make=make, model=model, defaults={"interval_km": interval_km, "interval_months": 12}
            )
        return result

    def _users(self, dealerships: dict[str, Dealership]) -> None:
        for username, first, last, roles, codes, is_superuser in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "is_superuser": is_superuser, "is_staff": is_superuser},
            )
            if created:
                user.set_password("demo")
                user.save(update_fields=["password"])
            user.groups.add(*Group.objects.filter(name__in=roles))
            for code in codes:
                dealerships[code].staff.add(user)

    @transaction.atomic
    def _facts(self, dealerships: dict[str, Dealership], *, seed: int, vehicles: int, today: dt.date) -> dict[str, int]:
        generator = DemoGenerator(seed=seed, today=today)
        demo_customers = generator.customers(vehicles)
        known_customers = set(Customer.objects.filter(external_id__startswith="DEMO").values_list("external_id", flat=True))
        known_vins = set(Vehicle.objects.filter(vin__in=generator.vins).values_list("vin", flat=True))
        fresh = [c for c in demo_customers if c.external_id not in known_customers]
        customer_rows = _create_customers(fresh, dealerships, today=today, now=timezone.now())
        vehicle_rows, pending = _create_vehicles(customer_rows, fresh, dealerships, known_vins=known_vins)
        return {"customers": len(customer_rows), "vehicles": len(vehicle_rows),
                **_create_history(vehicle_rows, pending, dealerships)}


def _create_customers(fresh: list[DemoCustomer], dealerships: dict[str, Dealership], *, today: dt.date,
                      now: dt.datetime) -> list[Customer]:
    """The demo customers not stored yet, with their refusals of calls."""
    customer_rows = Customer.objects.bulk_create(
        [
            Customer(
                dealership=dealerships[c.dealership_code],
                external_id=c.external_id,
                first_name=c.first_name,
                middle_name=c.middle_name,
                last_name=c.last_name,
                phone=c.phone,
                email=c.email,
                address=c.address,
                birthday=c.birthday,
                status=Customer.Status.DEFECTED if c.habit == "defected" else Customer.Status.ACTIVE,
                phone_failures=3 if c.is_unreachable else 0,
                phone_unreachable_since=today - dt.timedelta(days=40) if c.is_unreachable else None,
                is_holdout=c.is_holdout,
            )
            for c in fresh
        ],
        batch_size=BATCH,
    )
    Consent.objects.bulk_create(
        [
            Consent(customer=row, channel="call", is_allowed=False, changed_at=now, reason="Попросил не звонить")
            for row, c in zip(customer_rows, fresh, strict=True)
            if c.is_do_not_call
        ],
        batch_size=BATCH,
    )
    return customer_rows


def _create_vehicles(customer_rows: list[Customer], fresh: list[DemoCustomer], dealerships: dict[str, Dealership], *,
                     known_vins: set[str]) -> tuple[list[Vehicle], list[tuple[Customer, DemoCustomer, DemoVehicle]]]:
    """Their cars not stored yet; with each, its owner row and the demo owner and car it comes from."""
    vehicle_rows: list[Vehicle] = []
    pending = []
    for row, c in zip(customer_rows, fresh, strict=True):
        for v in c.vehicles:
            if v.vin in known_vins:
                continue
            vehicle_rows.append(
                Vehicle(
                    vin=v.vin, make=v.make, model=v.model, year=v.year, plate=v.plate, owner=row,
                    dealership=dealerships[c.dealership_code], is_active=v.is_active,
                    maintenance_interval_km=v.interval_km,
                )
            )
            pending.append((row, c, v))
    vehicle_rows = Vehicle.objects.bulk_create(vehicle_rows, batch_size=BATCH)
    return vehicle_rows, pending


def _create_history(vehicle_rows: list[Vehicle], pending: list[tuple[Customer, DemoCustomer, DemoVehicle]],
                    dealerships: dict[str, Dealership]) -> dict[str, int]:
    """Each new car's sale, service visits and odometer readings; how many of each."""
    sales: list[Sale] = []
    visits: list[ServiceVisit] = []
    readings: list[OdometerReading] = []
    for vehicle_row, (customer_row, c, v) in zip(vehicle_rows, pending, strict=True):
        dealership = dealerships[c.dealership_code]
        sales.append(
            Sale(
                vehicle=vehicle_row, customer=customer_row, dealership=dealership, sold_on=v.sale.sold_on,
                kind=v.sale.kind, salesperson=v.sale.salesperson, odometer_km=v.sale.odometer_km,
                external_id=f"DEMO-S-{v.vin}",
            )
        )
        visits.extend(
            ServiceVisit(
                vehicle=vehicle_row, dealership=dealership, visited_on=visit.visited_on,
                odometer_km=visit.odometer_km, kind=visit.kind, external_id=visit.external_id,
            )
            for visit in v.visits
        )
        readings.extend(
            OdometerReading(vehicle=vehicle_row, read_on=r.read_on, odometer_km=r.odometer_km, source=r.source)
            for r in v.readings
        )
    Sale.objects.bulk_create(sales, batch_size=BATCH)
    ServiceVisit.objects.bulk_create(visits, batch_size=BATCH)
    OdometerReading.objects.bulk_create(readings, batch_size=BATCH)
    return {"sales": len(sales), "visits": len(visits), "readings": len(readings)}
