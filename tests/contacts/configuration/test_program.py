"""The program page: the three-year timeline for the reference car and for a real car by VIN."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import translation

from contacts.configuration.readmodels.program import reference_timeline, when_in_words
from contacts.models import TouchpointTemplate
from tests import factories
from tests.contacts.configuration.history import finished_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(moscow):
    return factories.make_user("ada", "admin", dealerships=(moscow,))


def test_the_reference_car_gets_the_whole_program_in_its_three_years():
    # when
    timeline = reference_timeline()
    # then: docs/program.md's 36 touchpoints of the cycle, in date order, each said in words
    assert len(timeline.entries) == 36
    assert timeline.cycle_start == dt.date(2025, 1, 15)
    assert [e.due_on for e in timeline.entries] == sorted(e.due_on for e in timeline.entries)
    invite = next(e for e in timeline.entries if e.code == "service_invite")
    assert invite.words == "21 days before each predicted maintenance date: called between 25.10.2025 and 08.11.2025"
    assert invite.department == "Service"
    assert 0 < invite.left_percent < 33.4


@pytest.mark.parametrize(
    ("code", "english", "russian"),
    [
        ("thank_you", "1 day after the sale", "через 1 день после продажи"),
        ("service_invite", "21 days before each predicted maintenance date", "за 21 день до каждой прогнозной даты ТО"),
        ("lapsed", "12 months and 1 day after the last visit, purchase or reached call",
         "через 12 месяцев и 1 день после последнего визита, покупки или состоявшегося разговора"),
        ("birthday", "on the customer's birthday", "в день рождения клиента"),
    ],
)
def test_each_template_says_when_in_plain_words(code, english, russian):
    template = TouchpointTemplate.objects.get(code=code)
    assert when_in_words(template) == english
    with translation.override("ru"):
        assert when_in_words(template) == russian


def test_the_page_shows_a_real_car_by_vin_from_the_admins_dealerships(client, admin, moscow):
    # given
    sale = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2026, 3, 1))
    client.force_login(admin)
    # when
    with time_machine.travel(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)):
        page = client.get("/program/", {"vin": sale.vehicle.vin.lower()})
    # then
    assert page.status_code == 200
    html = page.content.decode()
    assert sale.vehicle.vin in html
    assert "cycle from 01.03.2026" in html
    assert "1 day after the sale: called between 02.03.2026 and 16.03.2026" in html


def test_a_car_of_another_dealership_is_not_shown(client, admin, yekaterinburg):
    sale = factories.SaleFactory(vehicle__owner__dealership=yekaterinburg, sold_on=dt.date(2026, 3, 1))
    client.force_login(admin)
    page = client.get("/program/", {"vin": sale.vehicle.vin})
    assert f"No vehicle with VIN {sale.vehicle.vin} in your dealerships." in page.content.decode()
    assert "cycle from" not in page.content.decode()


def test_only_the_admin_role_opens_the_program(client, agent, manager):
    for user in (agent, manager):
        client.force_login(user)
        assert client.get("/program/").status_code == 403


def test_the_templates_table_says_which_touchpoints_bring_bookings(client, admin, moscow):
    # given: three finished first-weeks calls this year, one booked, one a hot lead
    template = TouchpointTemplate.objects.get(code="first_weeks")
    for outcome in ("booked", "hot_lead", "no_answer"):
        finished_call(moscow, template, outcome)
    client.force_login(admin)
    # when
    with time_machine.travel(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)):
        page = client.get("/program/")
    # then
    row = next(r for r in page.context["rows"] if r.template.code == "first_weeks")
    assert (row.calls, row.booked, row.hot_leads, row.booked_percent) == (3, 1, 1, 33.3)
    other = next(r for r in page.context["rows"] if r.template.code == "thank_you")
    assert (other.calls, other.booked_percent) == (0, None)
