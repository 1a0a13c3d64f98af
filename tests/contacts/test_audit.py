"""The audit of stored contacts (contacts.audit, manage.py audit_contacts)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from contacts.models import CallTask
from tests import factories

pytestmark = pytest.mark.django_db


def test_audit_contacts_reports_a_call_on_a_holiday(moscow, capsys):
    # given: a task placed by hand on 1 January, a Russian public holiday
    customer = factories.CustomerFactory(dealership=moscow)
    CallTask.objects.create(
        dealership=moscow, customer=customer, scheduled_on=dt.date(2027, 1, 1), window_start=dt.date(2027, 1, 1),
        window_end=dt.date(2027, 1, 5), blocks_until=dt.date(2027, 1, 8),
    )
    # when
    call_command("audit_contacts", "--json")
    # then
    import json

    report = json.loads(capsys.readouterr().out)
    assert report["checked"] == 1
    assert report["violations"]["holiday"] == 1
