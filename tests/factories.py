"""factory_boy factories for the facts; tests reach them through fixtures in conftest.py."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth.models import Group, User

from customers.models import Customer, Dealership, OdometerReading, Sale, ServiceVisit, Vehicle

VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def vin_for(n: int) -> str:
    digits = []
    for _ in range(17):
        n, r = divmod(n, len(VIN_CHARS))
        digits.append(VIN_CHARS[r])
    return "".join(reversed(digits))


class DealershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dealership
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"Dealer {n}")
    code = factory.Sequence(lambda n: f"d{n}")
    time_zone = "Europe/Moscow"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    dealership = factory.SubFactory(DealershipFactory)
    first_name = "Иван"
    last_name = factory.Sequence(lambda n: f"Петров{n}")
    phone = factory.Sequence(lambda n: f"+7916{n % 10_000_000:07d}")
    birthday = dt.date(1985, 6, 20)


class VehicleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vehicle

    vin = factory.Sequence(lambda n: vin_for(10_000_000 + n))
    make = "Kia"
    model = "Rio"
    year = 2025
    owner = factory.SubFactory(CustomerFactory)
    dealership = factory.LazyAttribute(lambda o: o.owner.dealership)


class SaleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sale

    vehicle = factory.SubFactory(VehicleFactory)
    customer = factory.LazyAttribute(lambda o: o.vehicle.owner)
    dealership = factory.LazyAttribute(lambda o: o.vehicle.dealership)
    sold_on = dt.date(2025, 1, 15)
    kind = "new"
    odometer_km = 0


class ServiceVisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceVisit

    vehicle = factory.SubFactory(VehicleFactory)
    dealership = factory.LazyAttribute(lambda o: o.vehicle.dealership)
    visited_on = dt.date(2025, 11, 15)
    odometer_km = 15000
    kind = "maintenance"


class OdometerReadingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OdometerReading

    vehicle = factory.SubFactory(VehicleFactory)
    read_on = dt.date(2025, 6, 1)
    odometer_km = 7000
    source = "manual"


def make_user(username: str, *roles: str, dealerships: tuple[Dealership, ...] = ()) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username)
    user.groups.add(*Group.objects.filter(name__in=roles))
    for dealership in dealerships:
        dealership.staff.add(user)
    return user


def queued_tasks(callbacks) -> list[tuple[str, tuple]]:
    """(task name, arguments) of the tasks queued on commit (not run: the callbacks were kept), by
    contacts.queueing.send_on_commit or by Celery's delay_on_commit."""
    from contacts.queueing import send_safely

    result = []
    for callback in callbacks:
        if callback.func is send_safely:
            task_name, args = callback.args
            result.append((task_name, tuple(args)))
        else:
            result.append((callback.func.__self__.name, callback.args))
    return result


def api_token(user: User, scopes: tuple[str, ...] = ("read", "write", "dialer"), days: int | None = None) -> str:
    """A new API token's secret for ``user`` (customers.api_tokens), all scopes unless told."""
    from django.utils import timezone

    from customers import api_tokens

    return api_tokens.issue_token(user=user, name="test", scopes=scopes, days=days, now=timezone.now()).secret
