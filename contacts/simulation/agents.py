"""Simulated call-centre agents: they take calls with the real "next call" and record real outcomes.

An agent claims with contacts.calls.claim_next_call and records with contacts.calls.record_outcome,
the functions behind the call screen and the dialer API. Whether the customer answers, and what they
say, comes from the simulated customer (contacts.simulation.customers): no answer, a wrong number,
reached with the mileage, a booking, a call back, a refusal, serviced elsewhere, a sold car, a hot lead.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth.models import Group, User

from contacts.calls import CHURN_REASONS, OutcomeError, claim_next_call, queue_for, record_outcome
from contacts.models import CallAttempt, CallTask, Department, Touchpoint
from contacts.simulation.clock import Clock, local_moment
from contacts.simulation.customers import SERVICE_CODES, World
from customers.models import Dealership, Vehicle

Outcome = CallAttempt.Outcome
# A call takes this long from claim to outcome; an agent abandons a claimed call this often (walks
# away from the screen; release-stale-claims returns it to the pool).
CALL_MINUTES = 4
ABANDON_SHARE = 0.01


@dataclass
class ShiftCounts:
    calls: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    refused_inputs: Counter[str] = field(default_factory=Counter)
    abandoned: int = 0


def agents_for(dealership: Dealership, count: int) -> list[User]:
    """The dealership's simulated agents (created once, like the demo's users)."""
    group = Group.objects.filter(name="agent").first()
    agents = []
    for number in range(1, count + 1):
        user, created = User.objects.get_or_create(username=f"sim-{dealership.code}-{number}",
                                                   defaults={"first_name": f"Agent{number}"})
        if created and group is not None:
            user.groups.add(group)
        dealership.staff.add(user)
        agents.append(user)
    return agents


def _agenda(task: CallTask) -> list[tuple[int, str]]:
    """(vehicle id, template code) of the call's agenda."""
    return list(
        Touchpoint.objects.filter(call_item__call_task=task).order_by("call_item__position").values_list(
            "vehicle_id", "template__code"
        )
    )


def work_shift(
    *, dealership: Dealership, agents: list[User], share: float, local_day: dt.date, start_hour: int, clock: Clock,
    world: World, rng: random.Random, counts: ShiftCounts,
) -> None:
    """Work ``share`` of the calls waiting now, the agents taking turns, a few minutes a call."""
    clock.move_to(local_moment(local_day, start_hour, 0, dealership.zone))
    waiting = queue_for(dealerships=[dealership], now=clock.now).count()
    # Rounded at random, so that half of a queue of one call is worked every other day, not never.
    target = int(waiting * share + rng.random())
    for number in range(target):
        agent = agents[number % len(agents)]
        clock.advance(dt.timedelta(minutes=CALL_MINUTES / len(agents)))
        claimed = claim_next_call(agent=agent, now=clock.now, dealerships=[dealership])
        if claimed.task is None:
            break
        if rng.random() < ABANDON_SHARE:
            counts.abandoned += 1
            continue
        clock.advance(dt.timedelta(minutes=1))
        _make_call(task=claimed.task, agent=agent, clock=clock, world=world, rng=rng, counts=counts, today=local_day)


def _make_call(*, task: CallTask, agent: User, clock: Clock, world: World, rng: random.Random, counts: ShiftCounts,
               today: dt.date) -> None:
    person = world.people.get(task.customer_id)
    agenda = _agenda(task)
    vehicle_ids = [vid for vid, _code in agenda]
    service_cars = [vid for vid, code in agenda if code in SERVICE_CODES]
    active = list(Vehicle.objects.filter(owner_id=task.customer_id, is_active=True).order_by("id"))
    car = next((v for v in active if v.id in vehicle_ids), active[0] if active else None)
    options: dict[str, object] = {}
    outcome: str
    if person is None or person.has_wrong_number:
        outcome = Outcome.WRONG_NUMBER
    elif rng.random() > person.answers:
        outcome = Outcome.NO_ANSWER
    else:
        outcome, options = _conversation(task=task, agenda=agenda, service_cars=service_cars, car=car, active=active,
                                         world=world, rng=rng, clock=clock, today=today)
    try:
        record_outcome(task=task, agent=agent, outcome=outcome, now=clock.now, **options)  # type: ignore[arg-type]
    except OutcomeError as error:
        # The product refused what the agent typed (e.g. a mileage it finds implausible): the agent
        # records the call without it, as they would on the screen.
        counts.refused_inputs[str(error)[:60]] += 1
        options.pop("odometer_km", None)
        try:
            record_outcome(task=task, agent=agent, outcome=outcome, now=clock.now, **options)  # type: ignore[arg-type]
        except OutcomeError as second:
            counts.refused_inputs[str(second)[:60]] += 1
            return
    counts.calls += 1
    counts.outcomes[outcome] += 1
    _tell_the_world(outcome=outcome, options=options, agenda=agenda, service_cars=service_cars, task=task, world=world,
                    today=today)


def _conversation(
    *, task: CallTask, agenda: list[tuple[int, str]], service_cars: list[int], car: Vehicle | None, active: list[Vehicle],
    world: World, rng: random.Random, clock: Clock, today: dt.date,
) -> tuple[str, dict[str, object]]:
    """What the customer who picked up says."""
    sold = [world.cars[vid] for vid, _code in agenda if vid in world.cars and world.cars[vid].sold_privately]
    if sold:
        vehicle = next((v for v in active if v.id == sold[0].vehicle_id), None)
        if vehicle is not None:
            return Outcome.SOLD_CAR, {"vehicle": vehicle, "note": "Продал машину"}
    roll = rng.random()
    if roll < 0.025:
        channels = ["call", "sms"] if rng.random() < 0.3 else ["call"]
        return Outcome.DO_NOT_CALL, {"channels": channels, "note": "Просил не звонить"}
    if roll < 0.10:
        callback = local_moment(today + dt.timedelta(days=1), 11, 30, task.dealership.zone)
        return Outcome.CALL_BACK, {"callback_at": callback}
    if roll < 0.14:
        sales = Department.objects.filter(code="sales").first()
        return Outcome.HOT_LEAD, {"department": sales, "note": "Хочет обменять машину на новую", "vehicle": car}
    if service_cars and car is not None:
        service_vehicle = next((v for v in active if v.id == service_cars[0]), car)
        if roll < 0.21:
            return Outcome.SERVICED_ELSEWHERE, {"reason": rng.choice(sorted(CHURN_REASONS)), "vehicle": service_vehicle}
        if roll < 0.55:
            booked_on = today + dt.timedelta(days=rng.randint(2, 14))
            return Outcome.BOOKED, {"booked_on": booked_on, "vehicle": service_vehicle,
                                    "odometer_km": world.cars[service_vehicle.id].odometer_on(today)
                                    if service_vehicle.id in world.cars else None}
    options: dict[str, object] = {}
    if car is not None and car.id in world.cars and rng.random() < 0.7:
        options = {"vehicle": car, "odometer_km": world.cars[car.id].odometer_on(today)}
    return Outcome.REACHED, options


def _tell_the_world(*, outcome: str, options: dict[str, object], agenda: list[tuple[int, str]], service_cars: list[int],
                    task: CallTask, world: World, today: dt.date) -> None:
    if outcome == Outcome.BOOKED:
        vehicle = options["vehicle"]
        booked_on = options["booked_on"]
        assert isinstance(vehicle, Vehicle) and isinstance(booked_on, dt.date)
        world.hear_booking(vehicle_id=vehicle.id, booked_on=booked_on, day=today)
    elif outcome == Outcome.SOLD_CAR:
        vehicle = options["vehicle"]
        assert isinstance(vehicle, Vehicle)
        world.told_sold(vehicle.id)
    elif outcome == Outcome.HOT_LEAD:
        world.hear_hot_lead(customer_id=task.customer_id, day=today)
    if outcome in (Outcome.REACHED, Outcome.HOT_LEAD, Outcome.CALL_BACK):
        for vehicle_id in service_cars:
            world.hear_invitation(vehicle_id=vehicle_id, day=today)
