from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from contacts.models import CallTask, TouchpointTemplate
from contacts.planning.chunk import replan
from contacts.preview import preview_template_change
from contacts.queues import build_queue
from contacts.scripts import script_errors
from tests import factories

pytestmark = pytest.mark.django_db


def test_script_with_a_syntax_error_is_refused_with_its_line():
    # given
    template = TouchpointTemplate.objects.get(code="thank_you")
    template.script_en = "Hello {{ customer.first_name }}\nThis is {% if %} broken"
    # when
    with pytest.raises(ValidationError) as error:
        template.full_clean()
    # then
    message = error.value.message_dict["script_en"][0]
    assert message.startswith("Script (English): Line 2:")


def test_script_with_an_unknown_variable_is_refused_with_its_line():
    assert script_errors("Hi {{ customer.first_name }}\n\nYour car: {{ car.model }}") == [
        "Line 3: unknown variable “car.model”; use one of: agent, customer, dealership, forecast, touchpoint, vehicle."
    ]
    assert script_errors("{{ customer.passport }}") == [
        "Line 1: “customer” has no “passport”; use one of: birthday, email, first_name, full_name, last_name, middle_name, phone."
    ]


def test_every_default_script_is_valid():
    for template in TouchpointTemplate.objects.all():
        assert script_errors(template.script_en) == [], template.code
        assert script_errors(template.script_ru) == [], template.code


def test_editing_a_template_never_changes_an_issued_calls_script(moscow):
    # given: a call issued with today's script
    owner = factories.CustomerFactory(dealership=moscow, language="en")
    sale = factories.SaleFactory(vehicle__owner=owner, sold_on=dt.date(2025, 12, 20))
    factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=dt.date(2026, 10, 1), odometer_km=12300)
    now = dt.datetime(2026, 11, 23, 5, 0, tzinfo=dt.UTC)
    replan(vehicle_ids=[sale.vehicle.id], now=now)
    build_queue(dealership=moscow, day=dt.date(2026, 11, 23), now=now)
    task = CallTask.objects.get(customer=owner)
    issued_script = task.script
    # when
    template = TouchpointTemplate.objects.get(code="service_invite")
    template.script_en = "A completely new script for {{ customer.first_name }}."
    template.save()
    # then
    task.refresh_from_db()
    assert task.script == issued_script
    assert "A completely new script" not in task.script
    assert task.agenda[0]["template_version"] == 1


def test_preview_shows_the_effect_of_switching_a_template_off(moscow):
    # given
    for _ in range(3):
        owner = factories.CustomerFactory(dealership=moscow)
        factories.SaleFactory(vehicle__owner=owner, sold_on=dt.date(2026, 11, 1))
    template = TouchpointTemplate.objects.get(code="first_weeks")
    template.is_active = False
    # when
    preview = preview_template_change(edited=template, today=dt.date(2026, 11, 2))
    # then: three first-weeks calls due on Sunday 15 November (made on Monday the 16th) disappear
    index = preview.days.index("2026-11-16")
    assert preview.calls_before[index] - preview.calls_after[index] == 3
    assert preview.contacts_per_customer_year_after < preview.contacts_per_customer_year_before
    assert TouchpointTemplate.objects.get(code="first_weeks").is_active
