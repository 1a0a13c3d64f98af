"""customers.models.vehicles: VINs and odometer readings."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from customers.models import OdometerReading, Vehicle
from tests import factories

pytestmark = pytest.mark.django_db



def test_duplicate_vin_is_refused_by_the_database(moscow):
    # given
    vehicle = factories.VehicleFactory(owner__dealership=moscow)
    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        Vehicle.objects.create(vin=vehicle.vin, make="Kia", model="Rio", year=2024, dealership=moscow)
    assert Vehicle.objects.filter(vin=vehicle.vin).count() == 1



@pytest.mark.parametrize(
    "vin_case",
    ["SHORT123", "XTA2109904356789", "XTAO1099043567890", "XTA2109904356789Q", "xta210990435678 9"],
)
def test_bad_vin_is_refused_with_a_message_naming_it(moscow, vin_case):
    # given
    vehicle = Vehicle(vin=vin_case, make="Kia", model="Rio", year=2024, dealership=moscow)
    # when
    with pytest.raises(ValidationError) as error:
        vehicle.full_clean()
    # then
    assert "vin" in error.value.message_dict
    assert "17 letters and digits, without I, O or Q" in error.value.message_dict["vin"][0]



def test_bad_vin_is_refused_by_the_database_too(moscow):
    with pytest.raises(IntegrityError), transaction.atomic():
        Vehicle.objects.create(vin="XTAO1099043567890", make="Kia", model="Rio", year=2024, dealership=moscow)
    assert not Vehicle.objects.exists()



def test_negative_odometer_is_refused_by_the_database(moscow):
    # given
    vehicle = factories.VehicleFactory(owner__dealership=moscow)
    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        OdometerReading.objects.bulk_create(
            [OdometerReading(vehicle=vehicle, read_on=dt.date(2025, 1, 1), odometer_km=-5, source="manual")]
        )
    assert not OdometerReading.objects.exists()

