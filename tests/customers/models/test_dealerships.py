"""customers.models.dealerships: time zones and the local day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from customers.models import Dealership

pytestmark = pytest.mark.django_db



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



def test_local_date_follows_the_dealerships_zone_across_midnight(moscow, yekaterinburg):
    # given: 20:30 UTC on New Year's Eve
    moment = dt.datetime(2025, 12, 31, 20, 30, tzinfo=dt.UTC)
    # then: already 1 January in Yekaterinburg (UTC+5) and still 31 December... no: Moscow is UTC+3
    assert moscow.local_date(moment) == dt.date(2025, 12, 31)
    assert yekaterinburg.local_date(moment) == dt.date(2026, 1, 1)

