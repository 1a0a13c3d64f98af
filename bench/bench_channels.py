"""Messages per second through the SMS adapter, and what 10,000 messages cost in database writes.

The sending workflow production runs (contacts.sending.send_due_messages, the two-phase claim, the
SMSC.ru adapter over HTTP) against the local server that speaks SMSC's API (the one the tests use),
on the database DATABASE_URL names. Beside it, the reference from the same run: the same number of
plain HTTP requests to the same server with no database (the adapter's ceiling here).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_bench .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_bench .venv/bin/python bench/bench_channels.py --messages 2000

It creates a dealership "bench-channels" (message hours around the clock, every day a working day),
one customer, car, touchpoint and message per message, and deletes them all at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clm.settings")
os.environ.setdefault("DEBUG", "1")  # the development profile (DEBUG is off by default)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from contacts import sending  # noqa: E402
from contacts.models import ContactRules, OutboxMessage, Touchpoint, TouchpointTemplate  # noqa: E402
from customers.models import Customer, Dealership, Vehicle  # noqa: E402
from tests.contacts.channels.conftest import SMSC_LOGIN, SMSC_PASSWORD, FakeProvider, serve, smsc_answer  # noqa: E402
from tests.factories import vin_for  # noqa: E402


def prepare(count: int) -> Dealership:
    dealership, _created = Dealership.objects.get_or_create(code="bench-channels", defaults={"name": "Bench", "time_zone": "UTC"})
    ContactRules.objects.update_or_create(
        dealership=dealership,
        defaults={"message_hours_start": dt.time(0, 0), "message_hours_end": dt.time(23, 59, 59), "working_weekdays": "1234567"},
    )
    Dealership.objects.filter(pk=dealership.pk).update(country="")
    dealership.refresh_from_db()
    today = dealership.local_date(timezone.now())
    template = TouchpointTemplate.objects.get(code="service_reminder")
    customers = Customer.objects.bulk_create(
        Customer(dealership=dealership, first_name="Иван", last_name=f"Bench{n}", phone=f"+7926{n:07d}") for n in range(count)
    )
    vehicles = Vehicle.objects.bulk_create(
        Vehicle(vin=vin_for(900_000_000 + n), make="Kia", model="Rio", year=2024, owner=c, dealership=dealership)
        for n, c in enumerate(customers)
    )
    touchpoints = Touchpoint.objects.bulk_create(
        Touchpoint(vehicle=v, customer=v.owner, template=template, cycle_start=today, occurrence=1, due_on=today,
                   window_start=today, window_end=today, reason="bench", status=Touchpoint.Status.ISSUED)
        for v in vehicles
    )
    OutboxMessage.objects.bulk_create(
        OutboxMessage(dealership=dealership, customer=tp.customer, touchpoint=tp, channel="sms", recipient=tp.customer.phone,
                      body="Иван, пора на ТО-2. Ответьте пробегом, например «45 000 км».", send_on=today)
        for tp in touchpoints
    )
    return dealership


def clean_up(dealership: Dealership) -> None:
    OutboxMessage.objects.filter(dealership=dealership).delete()
    Touchpoint.objects.filter(customer__dealership=dealership).delete()
    Vehicle.objects.filter(dealership=dealership).delete()
    Customer.objects.filter(dealership=dealership).delete()
    ContactRules.objects.filter(dealership=dealership).delete()
    dealership.delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    provider = FakeProvider()
    server, _thread = serve(provider, smsc_answer)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings.SMS_SENDER = "contacts.channels.smsc.SmscSender"
    settings.SMSC_API_URL, settings.SMSC_LOGIN, settings.SMSC_PASSWORD = base, SMSC_LOGIN, SMSC_PASSWORD
    dealership = prepare(args.messages)
    writes = {"statements": 0}

    def count_writes(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if sql.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes["statements"] += 1
        return execute(sql, params, many, context)

    try:
        started = time.perf_counter()
        with connection.execute_wrapper(count_writes):
            counts = sending.send_due_messages(batch=args.messages)
        elapsed = time.perf_counter() - started
        assert counts.sent == args.messages, counts
        # The reference: the same number of send requests, straight over HTTP, no database.
        body = b"login=dealer&psw=secret&phones=79260000000&mes=x&fmt=3&charset=utf-8&id="
        reference_started = time.perf_counter()
        for n in range(args.messages):
            urllib.request.urlopen(urllib.request.Request(f"{base}/sys/send.php", data=body + f"ref-{n}".encode()), timeout=5).read()
        reference = time.perf_counter() - reference_started
    finally:
        clean_up(dealership)
        server.shutdown()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {connection.vendor}")
    print(f"messages sent through the SMSC adapter: {counts.sent} in {elapsed:.2f} s = {counts.sent / elapsed:.0f} messages/s")
    print(f"reference, plain HTTP requests to the same server: {args.messages} in {reference:.2f} s = {args.messages / reference:.0f} requests/s")
    print(f"database writes: {writes['statements']} statements = {writes['statements'] / counts.sent * 10_000:.0f} per 10,000 messages")


if __name__ == "__main__":
    main()
