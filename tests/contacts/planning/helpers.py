"""Helpers shared by the re-plan tests."""

from __future__ import annotations

import datetime as dt

from tests import factories

NOW = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def bought_new(moscow, *, sold_on=dt.date(2025, 1, 15)):
    sale = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=sold_on)
    factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=sold_on, odometer_km=0, source="sale")
    factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=dt.date(2025, 2, 15), odometer_km=1500)
    return sale.vehicle
