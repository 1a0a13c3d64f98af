"""A realistic, deterministic demo dealer group (``python manage.py seed_demo``).

Two dealerships (Moscow, Yekaterinburg). Customers own one to three vehicles bought new or used over
the last six years; some bought again (repeat buyers, sometimes trading the old car in). Each car has
its own driving habit (500-4,000 km a month, log-normal around 1,300, with a seasonal swing of ±15 %),
and each customer a service habit: punctual, late, early, or defected (stops coming after a few
visits). Odometer readings carry the errors real data has: a digit typo, a reading lower than the
previous one, a duplicate. Some customers refused calls, some phones are unreachable.

The documented ranges (checked by tests/customers/test_seed_demo.py):
- median monthly mileage 1,000-1,700 km; every car between 500 and 4,000 km a month;
- repeat buyers (two or more purchases) 15-30 % of customers;
- defected customers 10-20 %; do-not-call 2-6 %; unreachable phones 3-8 %;
- bad readings (typo, rollback, duplicate) 3-10 % of readings.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

from customers.core.calendar import add_months

VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
PLATE_LETTERS = "АВЕКМНОРСТУХ"

MODELS = [
    # make, model, share weight, maintenance interval km (None = the global 15,000 km)
    ("Kia", "Rio", 14, None),
    ("Hyundai", "Solaris", 13, None),
    ("Lada", "Vesta", 12, None),
    ("Toyota", "Camry", 9, 10000),
    ("Toyota", "RAV4", 7, 10000),
    ("Skoda", "Octavia", 9, None),
    ("Volkswagen", "Polo", 8, None),
    ("Haval", "Jolion", 8, None),
    ("Chery", "Tiggo 7 Pro", 7, None),
    ("Geely", "Coolray", 6, None),
    ("Kia", "Sportage", 7, None),
]

MALE_FIRST = ["Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Артём", "Илья", "Кирилл",
              "Михаил", "Никита", "Иван", "Евгений", "Павел", "Олег", "Владимир", "Роман", "Денис"]
FEMALE_FIRST = ["Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Екатерина", "Светлана",
                "Юлия", "Дарья", "Алина", "Ксения", "Марина", "Виктория"]
LAST_NAMES = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
              "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
              "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
              "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв"]
MIDDLE_MALE = ["Александрович", "Дмитриевич", "Сергеевич", "Андреевич", "Алексеевич", "Иванович",
               "Михайлович", "Николаевич", "Владимирович", "Петрович"]
MIDDLE_FEMALE = ["Александровна", "Дмитриевна", "Сергеевна", "Андреевна", "Алексеевна", "Ивановна",
                 "Михайловна", "Николаевна", "Владимировна", "Петровна"]
STREETS = {
    "msk": ["ул. Профсоюзная", "Ленинский пр-т", "ул. Тверская", "Варшавское ш.", "ул. Академика Янгеля",
            "Каширское ш.", "ул. Бутлерова", "Мичуринский пр-т", "ул. Новаторов", "Дмитровское ш."],
    "ekb": ["ул. Малышева", "ул. Ленина", "ул. Мира", "ул. Белинского", "ул. Куйбышева", "ул. Вайнера",
            "ул. Шварца", "ул. Академика Шварца", "Сибирский тракт", "ул. Амундсена"],
}
DEALERSHIPS = [
    # code, name, time zone, region, plate region, city
    ("msk", "Автоцентр Москва-Юг", "Europe/Moscow", "", "77", "Москва"),
    ("ekb", "Автоцентр Екатеринбург", "Asia/Yekaterinburg", "", "96", "Екатеринбург"),
]
HABITS = [("punctual", 0.45), ("late", 0.22), ("early", 0.16), ("defected", 0.17)]
DAYS_PER_MONTH = 30.4375


@dataclass
class DemoReading:
    read_on: dt.date
    odometer_km: int
    source: str


@dataclass
class DemoVisit:
    visited_on: dt.date
    odometer_km: int
    kind: str
    external_id: str


@dataclass
class DemoSale:
    sold_on: dt.date
    kind: str
    odometer_km: int
    salesperson: str
    external_id: str


@dataclass
class DemoVehicle:
    vin: str
    make: str
    model: str
    year: int
    plate: str
    km_per_month: float
    interval_km: int | None
    is_active: bool
    sale: DemoSale
    visits: list[DemoVisit] = field(default_factory=list)
    readings: list[DemoReading] = field(default_factory=list)


@dataclass
class DemoCustomer:
    external_id: str
    dealership_code: str
    first_name: str
    middle_name: str
    last_name: str
    phone: str
    email: str
    address: str
    birthday: dt.date | None
    habit: str
    is_do_not_call: bool
    is_unreachable: bool
    is_holdout: bool
    vehicles: list[DemoVehicle] = field(default_factory=list)


def _seasonal(day: dt.date) -> float:
    """Summer driving is ~15 % above the mean, winter ~15 % below."""
    return 1.0 + 0.15 * math.sin((day.timetuple().tm_yday - 105) / 365.25 * 2 * math.pi)


def _day_reaching(start_km: int, start: dt.date, target_km: int, km_per_month: float, until: dt.date) -> dt.date:
    """The first day the seasonal odometer (``_odometer``'s) reaches ``target_km``; ``until`` when it does
    not before it. A car due by km is due when its own odometer gets there, summer or winter."""
    total, cursor = float(start_km), start
    while cursor < until:
        step = min(7, (until - cursor).days)
        daily = km_per_month / DAYS_PER_MONTH * _seasonal(cursor)
        if total + daily * step >= target_km:
            return min(until, cursor + dt.timedelta(days=math.ceil((target_km - total) / daily)))
        total += daily * step
        cursor += dt.timedelta(days=step)
    return until


def _odometer(start_km: int, start: dt.date, day: dt.date, km_per_month: float) -> int:
    """Integrate the seasonal driving rate from start to day (weekly steps are plenty)."""
    total, cursor = float(start_km), start
    while cursor < day:
        step = min(7, (day - cursor).days)
        total += km_per_month / DAYS_PER_MONTH * step * _seasonal(cursor)
        cursor += dt.timedelta(days=step)
    return int(total)


class DemoGenerator:
    def __init__(self, *, seed: int, today: dt.date) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.today = today
        self.vins: set[str] = set()
        self.phones: list[str] = []
        self.sequence = 0

    def _vin(self) -> str:
        while True:
            vin = "".join(self.rng.choice(VIN_ALPHABET) for _ in range(17))
            if vin not in self.vins:
                self.vins.add(vin)
                return vin

    def _plate(self, region: str) -> str:
        letters = self.rng.choices(PLATE_LETTERS, k=3)
        return f"{letters[0]}{self.rng.randint(1, 999):03d}{letters[1]}{letters[2]} {region}"

    def _phone(self) -> str:
        if self.phones and self.rng.random() < 0.02:  # a family sharing one number: one household
            return self.rng.choice(self.phones)
        phone = f"+79{self.rng.randint(0, 99):02d}{self.rng.randint(0, 9999999):07d}"
        self.phones.append(phone)
        return phone

    def customers(self, vehicle_count: int) -> list[DemoCustomer]:
        result: list[DemoCustomer] = []
        made = 0
        while made < vehicle_count:
            customer = self._customer(min(vehicle_count - made, self._vehicles_wanted()))
            made += len(customer.vehicles)
            result.append(customer)
        return result

    def _vehicles_wanted(self) -> int:
        roll = self.rng.random()
        return 1 if roll < 0.72 else 2 if roll < 0.93 else 3

    def _customer(self, vehicle_count: int) -> DemoCustomer:
        self.sequence += 1
        rng = self.rng
        code, _name, _zone, _region, plate_region, city = rng.choice(DEALERSHIPS)
        is_male = rng.random() < 0.62
        last = rng.choice(LAST_NAMES) + ("" if is_male else "а")
        first = rng.choice(MALE_FIRST if is_male else FEMALE_FIRST)
        middle = rng.choice(MIDDLE_MALE if is_male else MIDDLE_FEMALE)
        habit = rng.choices([h for h, _w in HABITS], weights=[w for _h, w in HABITS])[0]
        birthday = None
        if rng.random() < 0.8:
            birthday = dt.date(rng.randint(1955, 2003), rng.randint(1, 12), rng.randint(1, 28))
        customer = DemoCustomer(
            external_id=f"DEMO{self.seed}-C{self.sequence:07d}",
            dealership_code=code,
            first_name=first,
            middle_name=middle,
            last_name=last,
            phone=self._phone(),
            email=f"client{self.sequence}@example.ru" if rng.random() < 0.6 else "",
            address=f"г. {city}, {rng.choice(STREETS[code])}, д. {rng.randint(1, 120)}, кв. {rng.randint(1, 300)}",
            birthday=birthday,
            habit=habit,
            is_do_not_call=rng.random() < 0.04,
            is_unreachable=rng.random() < 0.05,
            is_holdout=rng.random() < 0.05,
        )
        # Purchases: the first within the last six years, repeat purchases 2-5 years after the previous.
        sold_on = self.today - dt.timedelta(days=rng.randint(20, 6 * 365))
        purchase_dates = [sold_on]
        for _ in range(vehicle_count - 1):
            earliest = purchase_dates[-1] + dt.timedelta(days=rng.randint(700, 1800))
            if earliest >= self.today:
                earliest = purchase_dates[-1] + dt.timedelta(days=rng.randint(1, max(1, (self.today - purchase_dates[-1]).days - 1)))
            purchase_dates.append(min(earliest, self.today - dt.timedelta(days=1)))
        purchase_dates.sort()
        for index, day in enumerate(purchase_dates):
            traded_in = index + 1 < len(purchase_dates) and rng.random() < 0.4
            customer.vehicles.append(self._vehicle(customer, day, plate_region, is_active=not traded_in))
        return customer

    def _vehicle(self, customer: DemoCustomer, sold_on: dt.date, plate_region: str, *, is_active: bool) -> DemoVehicle:
        rng = self.rng
        make, model, _weight, interval_km = rng.choices(MODELS, weights=[m[2] for m in MODELS])[0]
        is_new = rng.random() < 0.75
        sale_km = 0 if is_new else rng.randint(15000, 120000)
        year = sold_on.year if is_new else sold_on.year - rng.randint(2, 7)
        km_per_month = min(4000.0, max(500.0, rng.lognormvariate(math.log(1300), 0.45)))
        sale = DemoSale(
            sold_on=sold_on,
            kind="new" if is_new else "used",
            odometer_km=sale_km,
            salesperson=rng.choice(["Петров А.", "Сидорова Е.", "Ким В.", "Гусев Д."]),
            external_id=f"DEMO-S{len(self.vins) + 1:06d}",
        )
        vehicle = DemoVehicle(
            vin=self._vin(), make=make, model=model, year=year, plate=self._plate(plate_region),
            km_per_month=round(km_per_month, 1), interval_km=interval_km, is_active=is_active, sale=sale,
        )
        vehicle.readings.append(DemoReading(sold_on, sale_km, "sale"))
        self._service_history(customer, vehicle)
        self._spoil_readings(vehicle)
        return vehicle

    def _service_history(self, customer: DemoCustomer, vehicle: DemoVehicle) -> None:
        rng = self.rng
        interval_km = vehicle.interval_km or 15000
        last_day, last_km = vehicle.sale.sold_on, vehicle.sale.odometer_km
        stop_after = rng.randint(0, 3) if customer.habit == "defected" else 99
        visit_number = 0
        while visit_number < stop_after:
            # Due: the earlier of 12 months and the day the (seasonal) odometer reaches the interval.
            by_time = add_months(last_day, 12)
            due = _day_reaching(last_km, last_day, last_km + interval_km, vehicle.km_per_month, by_time)
            shift = {
                "punctual": rng.gauss(0, 5),
                "late": rng.uniform(15, 60),
                "early": -rng.uniform(5, 20),
                "defected": rng.gauss(5, 10),
            }[customer.habit]
            visited_on = due + dt.timedelta(days=int(shift))
            if visited_on >= self.today:
                break
            km = _odometer(last_km, last_day, visited_on, vehicle.km_per_month)
            visit_number += 1
            vehicle.visits.append(
                DemoVisit(visited_on, km, "maintenance", f"DEMO-V-{vehicle.vin}-{visit_number}")
            )
            vehicle.readings.append(DemoReading(visited_on, km, "visit"))
            if rng.random() < 0.25:  # a repair or tyre visit in between, with its own reading
                extra_day = visited_on + dt.timedelta(days=rng.randint(40, 150))
                if extra_day < self.today:
                    extra_km = _odometer(km, visited_on, extra_day, vehicle.km_per_month)
                    kind = rng.choice(["repair", "tyres", "body", "warranty"])
                    vehicle.visits.append(DemoVisit(extra_day, extra_km, kind, f"DEMO-X-{vehicle.vin}-{visit_number}"))
                    vehicle.readings.append(DemoReading(extra_day, extra_km, "visit"))
            last_day, last_km = visited_on, km
        if rng.random() < 0.3:  # a mileage the customer mentioned on a call
            day = self.today - dt.timedelta(days=rng.randint(5, 120))
            if day > last_day:
                vehicle.readings.append(DemoReading(day, _odometer(last_km, last_day, day, vehicle.km_per_month), "call"))
        vehicle.visits.sort(key=lambda visit: visit.visited_on)

    def _spoil_readings(self, vehicle: DemoVehicle) -> None:
        """The errors real data has, at realistic rates."""
        rng = self.rng
        spoiled: list[DemoReading] = []
        for reading in vehicle.readings:
            spoiled.append(reading)
            roll = rng.random()
            if reading.source == "sale":
                continue
            if roll < 0.025:  # a digit typo: an extra digit typed
                spoiled.append(DemoReading(reading.read_on + dt.timedelta(days=rng.randint(1, 20)), reading.odometer_km * 10 + rng.randint(0, 9), "manual"))
            elif roll < 0.045:  # a reading lower than the previous one
                spoiled.append(DemoReading(reading.read_on + dt.timedelta(days=rng.randint(1, 20)), max(0, reading.odometer_km - rng.randint(3000, 9000)), "manual"))
            elif roll < 0.075:  # the same reading typed twice
                spoiled.append(DemoReading(reading.read_on, reading.odometer_km, reading.source))
        vehicle.readings = [r for r in spoiled if r.read_on < self.today]
