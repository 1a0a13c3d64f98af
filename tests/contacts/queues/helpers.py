"""Helpers shared by the queue-build tests (contacts.queues)."""

from __future__ import annotations

import datetime as dt
import threading

from django.db import connection

from contacts.planning.chunk import replan
from contacts.queues import build_queue
from tests import factories

# Monday 2026-11-23, 07:30 in Moscow.
NOW = dt.datetime(2026, 11, 23, 4, 30, tzinfo=dt.UTC)
DAY = dt.date(2026, 11, 23)


def _customer_due_for_service(moscow, **customer):
    """Bought 2025-12-20 at 0 km, 12,300 km by 2026-10-01 (~1,290 km a month): maintenance falls due
    early in December 2026, so its invitation is open on the build day, as is the insurance renewal."""
    owner = factories.CustomerFactory(dealership=moscow, **customer)
    sale = factories.SaleFactory(vehicle__owner=owner, sold_on=dt.date(2025, 12, 20))
    factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=dt.date(2025, 12, 20), odometer_km=0, source="sale")
    factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=dt.date(2026, 10, 1), odometer_km=12300)
    replan(vehicle_ids=[sale.vehicle.id], now=NOW)
    return owner


def _build_in_a_thread(dealership, errors: list[BaseException]) -> threading.Thread:
    """A thread (not started) that builds the day's queue on its own connection, keeping its errors."""

    def run() -> None:
        try:
            build_queue(dealership=dealership, day=DAY, now=NOW)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    return threading.Thread(target=run)


def _wait_until_a_backend_waits_for_a_lock(seconds: float = 20) -> bool:
    import time

    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # The statistics views are read once per transaction unless the snapshot is cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.05)
    return False
