"""Forecast workflows: load a vehicle's facts, call the pure estimator, store the forecast."""

from __future__ import annotations

import datetime as dt
from typing import Any

from customers.models import OdometerReading, Vehicle, VehicleForecast


def forecast_view_data(*, vehicle: Vehicle, readings: list[OdometerReading], today: dt.date) -> dict[str, Any]:
    forecast = VehicleForecast.objects.filter(vehicle=vehicle).first()
    return {"forecast": forecast, "today": today}
