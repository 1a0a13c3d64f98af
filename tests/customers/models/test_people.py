"""customers.models.people: phones, external ids and consents."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from customers.models import Customer, normalize_phone
from tests import factories

pytestmark = pytest.mark.django_db



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

