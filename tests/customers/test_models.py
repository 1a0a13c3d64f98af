from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from customers.models import Customer, Dealership, OdometerReading, Vehicle, normalize_phone
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


def test_bad_time_zone_is_refused_with_a_clear_error():
    # given
    dealership = Dealership(name="X", code="x", time_zone="Europe/Atlantis")
    # when
    with pytest.raises(ValidationError) as error:
        dealership.full_clean()
    # then
    assert error.value.message_dict["time_zone"] == [
        "Europe/Atlantis is not a known time zone; use an IANA name such as Europe/Moscow."
    ]


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("8 (916) 123-45-67", "+79161234567"),
        ("+7 916 123 45 67", "+79161234567"),
        ("9161234567", "+79161234567"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phones_are_normalised_to_e164(raw, e164):
    assert normalize_phone(raw) == e164


def test_bad_phone_is_a_validation_error_that_names_it(moscow):
    # given
    customer = Customer(dealership=moscow, first_name="A", last_name="B", phone="12-34")
    # when
    with pytest.raises(ValidationError) as error:
        customer.full_clean()
    # then
    assert error.value.message_dict["phone"] == ["Phone number 12-34 is not valid."]


def test_phone_not_in_e164_is_refused_by_the_database(moscow):
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(dealership=moscow, first_name="A", last_name="B", phone="89161234567")


def test_external_id_is_unique_per_dealership_only(moscow, yekaterinburg):
    # given
    factories.CustomerFactory(dealership=moscow, external_id="C1")
    # when: the same id in another dealership is a different customer
    factories.CustomerFactory(dealership=yekaterinburg, external_id="C1")
    # then: but not twice in one dealership
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.CustomerFactory(dealership=moscow, external_id="C1")
    assert Customer.objects.filter(external_id="C1").count() == 2


def test_do_not_call_blocks_only_its_channel(moscow):
    # given
    customer = factories.CustomerFactory(dealership=moscow)
    customer.consents.create(channel="call", is_allowed=False, changed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), reason="asked")
    # then
    assert customer.blocked_channels() == frozenset({"call"})
    assert not customer.allows("call")
    assert customer.allows("sms")


def test_local_date_follows_the_dealerships_zone_across_midnight(moscow, yekaterinburg):
    # given: 20:30 UTC on New Year's Eve
    moment = dt.datetime(2025, 12, 31, 20, 30, tzinfo=dt.UTC)
    # then: already 1 January in Yekaterinburg (UTC+5) and still 31 December... no: Moscow is UTC+3
    assert moscow.local_date(moment) == dt.date(2025, 12, 31)
    assert yekaterinburg.local_date(moment) == dt.date(2026, 1, 1)
