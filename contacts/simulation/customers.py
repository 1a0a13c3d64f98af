"""Simulated customers and their cars: the truth the product only learns through calls and the DMS.

Each car drives at its own rate (the demo generator's habit, customers.demo), comes to maintenance by
its owner's habit (early, on time, late, or elsewhere), comes on time more often after a reached
invitation and on the booked day after a booking. Owners buy new cars (a hot lead makes it likely),
sometimes trading the old one in; a few cars are sold privately, which the product learns only when an
agent hears it. New buyers arrive. Everything the dealership's DMS records (visits, sales, new
customers and cars) waits in ``DmsBuffer`` for the weekly import (contacts.simulation.dms).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from customers.core.calendar import add_months
from customers.demo import MODELS, VIN_ALPHABET, DemoGenerator, _odometer
from customers.models import Customer, ServiceVisit, Vehicle

DAYS_PER_MONTH = 30.4375
# Per day: a repeat purchase (about 6 % of owners a year), a private sale of a car (3 % a year), a new
# buyer per existing vehicle (the fleet grows about 20 % a year).
REPEAT_PURCHASE_PER_DAY = 0.06 / 365
PRIVATE_SALE_PER_DAY = 0.03 / 365
NEW_BUYERS_PER_VEHICLE_DAY = 0.20 / 365
TRADE_IN_SHARE = 0.4
# A hot lead handed to sales buys within a month this often.
HOT_LEAD_BUYS = 0.35
# A reached invitation brings an owner of another habit on time this often; a booking is kept this often.
INVITATION_WORKS = 0.5
BOOKING_KEPT = 0.85
SERVICE_CODES = frozenset({"service_invite", "service_reminder", "missed_service", "lapsed"})


@dataclass
class Car:
    vehicle_id: int
    vin: str
    owner_id: int
    dealership_id: int
    km_per_month: float
    interval_km: int
    interval_months: int
    base_day: dt.date  # a point of the true odometer curve
    base_km: int
    last_service_day: dt.date
    last_service_km: int
    due_on: dt.date = dt.date.min
    next_visit: dt.date | None = None
    invited_on: dt.date | None = None
    visits: int = 0
    is_active: bool = True
    sold_privately: bool = False

    def odometer_on(self, day: dt.date) -> int:
        return _odometer(self.base_km, self.base_day, day, self.km_per_month) if day > self.base_day else self.base_km


@dataclass
class Person:
    customer_id: int
    external_id: str
    dealership_id: int
    habit: str  # punctual, late, early, defected (services elsewhere)
    answers: float  # the chance they pick up
    has_wrong_number: bool
    buys_on: dt.date | None = None
    cars: list[int] = field(default_factory=list)  # vehicle ids


@dataclass(frozen=True)
class VisitFact:
    vin: str
    dealership_id: int
    day: dt.date
    odometer_km: int
    due_on: dt.date
    after_invitation: bool
    external_id: str


@dataclass
class DmsBuffer:
    """What the DMS recorded since the last weekly export, per dealership and kind (rows as dicts)."""

    rows: dict[tuple[int, str], list[dict[str, str]]] = field(default_factory=dict)

    def add(self, dealership_id: int, kind: str, row: dict[str, str]) -> None:
        self.rows.setdefault((dealership_id, kind), []).append(row)

    def take(self, dealership_id: int, kind: str) -> list[dict[str, str]]:
        return self.rows.pop((dealership_id, kind), [])


def _shift(habit: str, rng: random.Random) -> int | None:
    """Days from the due date to the visit, by habit; None: services elsewhere this time."""
    if habit == "defected":
        return None if rng.random() < 0.8 else int(rng.uniform(15, 60))
    return int({"punctual": rng.gauss(0, 5), "late": rng.uniform(15, 60), "early": -rng.uniform(5, 20)}[habit])


class World:
    """The simulated customers and cars of the dealer group."""

    def __init__(self, *, seed: int, demo_today: dt.date, vehicles: int, rng: random.Random) -> None:
        self.rng = rng
        self.seed = seed
        self.cars: dict[int, Car] = {}
        self.people: dict[int, Person] = {}
        self.by_vin: dict[str, int] = {}
        self.buffer = DmsBuffer()
        self.visits: list[VisitFact] = []
        self.purchases = 0
        self.repeat_purchases = 0
        self.new_buyers = 0
        self.trade_ins = 0
        self.sequence = 0
        self._vins: set[str] = set()
        self._pending_cars: dict[str, tuple[int | str, dict[str, object]]] = {}
        demo = DemoGenerator(seed=seed, today=demo_today).customers(vehicles)
        self._habits = {c.external_id: c.habit for c in demo}
        self._rates = {v.vin: v.km_per_month for c in demo for v in c.vehicles}

    # --- loading what the product holds at the start ----------------------------------------------

    def load(self, *, today: dt.date) -> None:
        from customers.forecasting import interval_for, schedules

        table = schedules()
        maintenance: dict[int, tuple[dt.date, int]] = {}
        for vehicle_id, day, km in ServiceVisit.objects.filter(kind=ServiceVisit.Kind.MAINTENANCE).order_by(
            "vehicle_id", "visited_on"
        ).values_list("vehicle_id", "visited_on", "odometer_km"):
            maintenance[vehicle_id] = (day, km)
        for customer in Customer.objects.order_by("id"):
            self.people[customer.id] = Person(
                customer_id=customer.id, external_id=customer.external_id or f"C{customer.id}",
                dealership_id=customer.dealership_id, habit=self._habits.get(customer.external_id or "", "punctual"),
                answers=self.rng.uniform(0.35, 0.85), has_wrong_number=self.rng.random() < 0.03,
            )
        for vehicle in Vehicle.objects.filter(owner__isnull=False).order_by("id").prefetch_related("sales"):
            sale = max(vehicle.sales.all(), key=lambda s: s.sold_on, default=None)
            sold_on, sale_km = (sale.sold_on, sale.odometer_km) if sale else (today, 0)
            interval = interval_for(vehicle, table)
            last_day, last_km = maintenance.get(vehicle.id, (sold_on, sale_km))
            car = Car(
                vehicle_id=vehicle.id, vin=vehicle.vin, owner_id=vehicle.owner_id or 0, dealership_id=vehicle.dealership_id,
                km_per_month=self._rates.get(vehicle.vin, 1300.0), interval_km=interval.km, interval_months=interval.months,
                base_day=sold_on, base_km=sale_km, last_service_day=last_day, last_service_km=last_km,
                is_active=vehicle.is_active,
            )
            car.base_day, car.base_km = last_day, last_km
            self._add_car(car, today=today)

    def _add_car(self, car: Car, *, today: dt.date) -> None:
        self.cars[car.vehicle_id] = car
        self.by_vin[car.vin] = car.vehicle_id
        self._vins.add(car.vin)
        if car.owner_id in self.people:
            self.people[car.owner_id].cars.append(car.vehicle_id)
        self._plan_visit(car, today=today)

    def _plan_visit(self, car: Car, *, today: dt.date) -> None:
        by_time = add_months(car.last_service_day, car.interval_months)
        by_km = car.last_service_day + dt.timedelta(
            days=int((car.interval_km / max(car.km_per_month, 1.0)) * DAYS_PER_MONTH)
        )
        car.due_on = min(by_time, by_km)
        person = self.people.get(car.owner_id)
        shift = _shift(person.habit if person else "punctual", self.rng)
        car.next_visit = None if shift is None else car.due_on + dt.timedelta(days=shift)
        if car.next_visit is not None and car.next_visit <= today:
            # Overdue already (the demo's history ends today): half come some day in the next months,
            # the rest have lapsed and come back only if invited.
            car.next_visit = today + dt.timedelta(days=self.rng.randint(5, 120)) if self.rng.random() < 0.5 else None
        car.invited_on = None

    # --- what the product tells the customer ------------------------------------------------------

    def hear_invitation(self, *, vehicle_id: int, day: dt.date) -> None:
        car = self.cars.get(vehicle_id)
        if car is None or not car.is_active:
            return
        car.invited_on = day
        on_time = car.due_on + dt.timedelta(days=int(self.rng.gauss(0, 5)))
        late = car.next_visit is None or car.next_visit > car.due_on + dt.timedelta(days=7)
        if late and self.rng.random() < INVITATION_WORKS:
            car.next_visit = max(day + dt.timedelta(days=self.rng.randint(2, 10)), on_time)

    def hear_booking(self, *, vehicle_id: int, booked_on: dt.date, day: dt.date) -> None:
        car = self.cars.get(vehicle_id)
        if car is None:
            return
        car.invited_on = day
        if self.rng.random() < BOOKING_KEPT:
            car.next_visit = booked_on

    def hear_hot_lead(self, *, customer_id: int, day: dt.date) -> None:
        person = self.people.get(customer_id)
        if person is not None and person.buys_on is None and self.rng.random() < HOT_LEAD_BUYS:
            person.buys_on = day + dt.timedelta(days=self.rng.randint(3, 30))

    def told_sold(self, vehicle_id: int) -> None:
        car = self.cars.get(vehicle_id)
        if car is not None:
            car.is_active = False

    # --- the day's life ---------------------------------------------------------------------------

    def live(self, *, day: dt.date) -> tuple[int, list[int]]:
        """Visits, purchases and private sales of the day. Returns (visits, vehicle ids traded in today)."""
        visits = 0
        traded_in: list[int] = []
        for car in list(self.cars.values()):
            if not car.is_active or car.sold_privately:
                continue
            if car.next_visit == day:
                self._visit(car, day=day)
                visits += 1
            elif self.rng.random() < PRIVATE_SALE_PER_DAY:
                car.sold_privately = True
        for person in list(self.people.values()):
            wants = person.buys_on == day or (person.buys_on is None and self.rng.random() < REPEAT_PURCHASE_PER_DAY)
            if wants and person.cars:
                traded_in += self._purchase(person, day=day)
        by_dealership: dict[int, int] = {}
        for car in self.cars.values():
            if car.is_active:
                by_dealership[car.dealership_id] = by_dealership.get(car.dealership_id, 0) + 1
        for dealership_id, count in sorted(by_dealership.items()):
            if self.rng.random() < count * NEW_BUYERS_PER_VEHICLE_DAY:
                self._new_buyer(dealership_id, day=day)
        return visits, traded_in

    def _visit(self, car: Car, *, day: dt.date) -> None:
        km = car.odometer_on(day)
        car.visits += 1
        after_invitation = car.invited_on is not None and (day - car.invited_on).days <= 60
        fact = VisitFact(vin=car.vin, dealership_id=car.dealership_id, day=day, odometer_km=km, due_on=car.due_on,
                         after_invitation=after_invitation, external_id=f"SIM{self.seed}-V-{car.vin}-{car.visits}")
        self.visits.append(fact)
        self.buffer.add(car.dealership_id, "visits", {
            "external_id": fact.external_id, "vin": car.vin, "visited_on": day.isoformat(),
            "odometer_km": str(km), "kind": "maintenance",
        })
        car.last_service_day, car.last_service_km, car.base_day, car.base_km = day, km, day, km
        self._plan_visit(car, today=day)

    def _vin(self) -> str:
        while True:
            vin = "".join(self.rng.choice(VIN_ALPHABET) for _ in range(17))
            if vin not in self._vins:
                self._vins.add(vin)
                return vin

    def _sell_car(self, *, owner_key: str, owner_id: int | str, dealership_id: int, day: dt.date) -> None:
        make, model, _weight, interval_km = self.rng.choices(MODELS, weights=[m[2] for m in MODELS])[0]
        vin = self._vin()
        self.sequence += 1
        self.buffer.add(dealership_id, "vehicles", {
            "vin": vin, "make": make, "model": model, "year": str(day.year), "owner_external_id": owner_key,
        })
        self.buffer.add(dealership_id, "sales", {
            "external_id": f"SIM{self.seed}-S{self.sequence:06d}", "vin": vin, "customer_external_id": owner_key,
            "sold_on": day.isoformat(), "kind": "new", "odometer_km": "0",
        })
        self._pending_cars[vin] = (owner_id, {"day": day, "km_per_month": min(4000.0, max(500.0, self.rng.lognormvariate(7.17, 0.45))),
                                              "interval_km": interval_km or 15000, "dealership_id": dealership_id})
        self.purchases += 1

    def _purchase(self, person: Person, *, day: dt.date) -> list[int]:
        person.buys_on = None
        self.repeat_purchases += 1
        self._sell_car(owner_key=person.external_id, owner_id=person.customer_id, dealership_id=person.dealership_id, day=day)
        active = [vid for vid in person.cars if self.cars[vid].is_active and not self.cars[vid].sold_privately]
        if active and self.rng.random() < TRADE_IN_SHARE:
            old = self.cars[sorted(active)[0]]
            old.is_active = False
            self.trade_ins += 1
            return [old.vehicle_id]
        return []

    def _new_buyer(self, dealership_id: int, *, day: dt.date) -> None:
        self.sequence += 1
        self.new_buyers += 1
        key = f"SIM{self.seed}-C{self.sequence:06d}"
        self.buffer.add(dealership_id, "customers", {
            "external_id": key, "last_name": "Новиков", "first_name": "Пётр",
            "phone": f"+79{self.rng.randint(0, 99):02d}{self.rng.randint(0, 9999999):07d}",
            "email": f"sim{self.sequence}@example.ru",
        })
        self._sell_car(owner_key=key, owner_id=key, dealership_id=dealership_id, day=day)

    def after_import(self, *, today: dt.date) -> None:
        """Cars and customers the weekly import created: follow them from now on."""
        if not self._pending_cars:
            return
        ids = dict(Vehicle.objects.filter(vin__in=list(self._pending_cars)).values_list("vin", "id"))
        owners = dict(Vehicle.objects.filter(vin__in=list(ids)).values_list("vin", "owner_id"))
        for vin, vehicle_id in sorted(ids.items()):
            owner, facts = self._pending_cars.pop(vin)
            owner_id = owners.get(vin) or 0
            if isinstance(owner, str) and owner_id and owner_id not in self.people:
                self.people[owner_id] = Person(customer_id=owner_id, external_id=owner, dealership_id=int(str(facts["dealership_id"])),
                                               habit=self.rng.choices(["punctual", "late", "early", "defected"], [45, 22, 16, 17])[0],
                                               answers=self.rng.uniform(0.35, 0.85), has_wrong_number=self.rng.random() < 0.03)
            sold_on = facts["day"]
            assert isinstance(sold_on, dt.date)
            self._add_car(Car(
                vehicle_id=vehicle_id, vin=vin, owner_id=owner_id, dealership_id=int(str(facts["dealership_id"])),
                km_per_month=float(str(facts["km_per_month"])), interval_km=int(str(facts["interval_km"])), interval_months=12,
                base_day=sold_on, base_km=0, last_service_day=sold_on, last_service_km=0,
            ), today=today)
