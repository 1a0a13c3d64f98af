"""An evaluation fleet for the forecast, by segment, with the truth known (a bench helper, not a test).

Each car drives at a daily rate given by its segment; each customer comes early, on time or late by
their own habit; readings come from the sale, the maintenance visits, repair visits and calls, and some
are wrong the ways real data is wrong. The true due day of every visit is kept (``FleetCar.true_due``)
for comparing the backtest with the best possible (``bench_mileage.py --accuracy`` prints it).

Segments: steady, seasonal (summer +40 %, winter -30 %), habit change (the rate halves or doubles once),
idle spells (two to six months parked), taxi (5,000-7,000 km a month), low mileage (300-600 km a month:
time-driven), truck (15,000-22,000 km a month, 30,000 km interval), bad readings (a swapped pair of
digits, an extra digit, miles typed as km, a rollback, a duplicate, a date years ahead).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from customers.core.calendar import MONTH_DAYS, add_months

SEGMENTS = ("steady", "seasonal", "habit_change", "idle", "taxi", "low_mileage", "truck", "bad_readings")
HABITS = (("early", 0.2), ("on_time", 0.5), ("late", 0.3))
MODELS = (("Kia", "Rio"), ("Hyundai", "Solaris"), ("Lada", "Vesta"), ("Skoda", "Octavia"))


@dataclass
class FleetCar:
    segment: str
    habit: str
    dealership_id: int
    make: str
    model: str
    interval_km: int
    interval_months: int
    sold_on: date
    sale_kind: str
    sale_km: int
    readings: list[tuple[date, int, str]] = field(default_factory=list)  # (day, km, source)
    visits: list[tuple[date, int]] = field(default_factory=list)  # maintenance visits (day, km)
    true_due: list[date] = field(default_factory=list)  # the true due day of each visit, by the km/time rule


class Fleet:
    def __init__(self, *, seed: int, today: date) -> None:
        self.rng = random.Random(seed)
        self.today = today

    def cars(self, count: int) -> list[FleetCar]:
        return [self._car(SEGMENTS[k % len(SEGMENTS)]) for k in range(count)]

    def _rate(self, segment: str, base: float, day: date, change_on: date, idle: tuple[date, date]) -> float:
        """km a day on ``day``."""
        rate = base
        if segment == "seasonal":  # +40 % at the height of summer, -30 % in deep winter
            phase = math.cos((day.timetuple().tm_yday - 196) / 365.25 * 2 * math.pi)
            rate *= 1.05 + 0.35 * phase
        elif segment == "habit_change" and day >= change_on:
            rate *= 2.0 if base < 40 else 0.5
        elif segment == "idle" and idle[0] <= day < idle[1]:
            rate *= 0.03
        return rate

    def _car(self, segment: str) -> FleetCar:
        rng = self.rng
        habit = rng.choices([h for h, _ in HABITS], weights=[w for _, w in HABITS])[0]
        make, model = ("GAZ", "Gazelle Next") if segment == "truck" else rng.choice(MODELS)
        interval_km, interval_months = (30000, 12) if segment == "truck" else (15000, 12)
        if segment == "taxi":
            monthly = rng.uniform(5000, 7000)
        elif segment == "low_mileage":
            monthly = rng.uniform(300, 600)
        elif segment == "truck":
            monthly = rng.uniform(15000, 22000)
        else:
            monthly = min(4500.0, max(400.0, rng.lognormvariate(math.log(1300), 0.45)))
        base = monthly / MONTH_DAYS
        sold_on = self.today - timedelta(days=rng.randint(60, 5 * 365))
        is_new = segment != "truck" and rng.random() < 0.75
        sale_km = 0 if is_new else rng.randint(15000, 120000)
        car = FleetCar(segment, habit, rng.randint(1, 2), make, model, interval_km, interval_months, sold_on,
                       "new" if is_new else "used", sale_km)
        change_on = sold_on + timedelta(days=rng.randint(200, 900))
        idle_start = sold_on + timedelta(days=rng.randint(60, 700))
        idle = (idle_start, idle_start + timedelta(days=rng.randint(60, 180)))
        noise = {}

        def odometer_at(day: date, start: date, start_km: float) -> float:
            km, cursor = start_km, start
            while cursor < day:
                step = min(7, (day - cursor).days)
                week = cursor.toordinal() // 7
                if week not in noise:
                    noise[week] = rng.uniform(0.8, 1.2)
                km += self._rate(segment, base, cursor, change_on, idle) * step * noise[week]
                cursor += timedelta(days=step)
            return km

        shift = {"early": -rng.uniform(5, 20), "on_time": 0.0, "late": rng.uniform(15, 45)}[habit]
        car.readings.append((sold_on, sale_km, "sale"))
        # A first-weeks call asks for the mileage half the time (the program's early calls do).
        if rng.random() < 0.5:
            day = sold_on + timedelta(days=rng.randint(14, 45))
            if day < self.today:
                car.readings.append((day, round(odometer_at(day, sold_on, sale_km)), "call"))
        last_on, last_km = sold_on, float(sale_km)
        while True:
            # The true due day: the earlier of the time limit and the day the odometer reaches the km limit.
            by_time = add_months(last_on, interval_months)
            target = last_km + interval_km
            day, km = last_on, last_km
            while day < by_time:
                nxt = day + timedelta(days=1)
                km_next = odometer_at(nxt, day, km)
                if km_next >= target:
                    day = nxt
                    break
                day, km = nxt, km_next
            due = min(day, by_time)
            visited_on = due + timedelta(days=round(shift + rng.gauss(0, 4)))
            if visited_on >= self.today:
                break
            visit_km = round(odometer_at(visited_on, last_on, last_km))
            car.visits.append((visited_on, visit_km))
            car.true_due.append(due)
            car.readings.append((visited_on, visit_km, "visit"))
            if rng.random() < 0.3:  # a repair or a call in between, with a reading
                extra = visited_on + timedelta(days=rng.randint(30, 150))
                if extra < self.today:
                    car.readings.append((extra, round(odometer_at(extra, visited_on, visit_km)), "call"))
            last_on, last_km = visited_on, float(visit_km)
        car.readings.sort()
        if segment == "bad_readings":
            self._spoil(car)
        return car

    def _spoil(self, car: FleetCar) -> None:
        rng = self.rng
        good = [r for r in car.readings if r[2] != "sale"]
        if not good:
            return
        for _ in range(rng.randint(1, 2)):
            day, km, _source = rng.choice(good)
            kind = rng.choice(["swap", "extra_digit", "miles", "rollback", "duplicate", "far_future"])
            if kind == "swap" and km >= 100:
                digits = list(str(km))
                i = rng.randrange(len(digits) - 1)
                digits[i], digits[i + 1] = digits[i + 1], digits[i]
                bad = (day + timedelta(days=rng.randint(1, 10)), int("".join(digits)), "manual")
            elif kind == "extra_digit":
                bad = (day + timedelta(days=rng.randint(1, 10)), km * 10 + rng.randint(0, 9), "manual")
            elif kind == "miles":
                bad = (day + timedelta(days=rng.randint(1, 10)), round(km / 1.609), "manual")
            elif kind == "rollback":
                bad = (day + timedelta(days=rng.randint(1, 10)), max(0, km - rng.randint(3000, 9000)), "manual")
            elif kind == "duplicate":
                bad = (day, km + rng.randint(1, 400), "manual")
            else:
                bad = (date(9999, 12, 31), km + 1000, "manual")
            car.readings.append(bad)
        car.readings.sort()
