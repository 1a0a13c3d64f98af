"""Weeks of operation under a moving clock, through the real beat tasks, with a template's "may go on
weekends and holidays" setting: its messages go on weekends and holidays, the others wait for a working
day, and the auditor, reading the same setting from the template, finds nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from contacts import tasks
from contacts.audit import audit_stored_contacts
from contacts.models import OutboxMessage, TouchpointTemplate
from customers.models import Dealership
from tests import factories

pytestmark = pytest.mark.django_db

START = dt.date(2026, 11, 2)  # a Monday; 4 November is a Russian public holiday
DAYS = 28


def _buyers(dealership: Dealership) -> None:
    """One buyer a day whose accessories e-mail (60 days after the sale) falls on each day of the four
    weeks, with a birthday on that day too, and an e-mail address and a phone for both messages."""
    for n in range(DAYS):
        due = START + dt.timedelta(days=n)
        sold_on = due - dt.timedelta(days=60)
        sale = factories.SaleFactory(
            vehicle__owner__dealership=dealership, vehicle__owner__email=f"buyer{n}@example.ru",
            vehicle__owner__birthday=dt.date(1980, due.month, due.day), sold_on=sold_on,
        )
        factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=sold_on, odometer_km=0, source="sale")
    # and buyers whose first maintenance falls due in those weeks: calls, so the auditor has a calendar
    for n in range(4):
        sold_on = START - dt.timedelta(days=330 - 5 * n)
        sale = factories.SaleFactory(vehicle__owner__dealership=dealership, sold_on=sold_on)
        factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=sold_on, odometer_km=0, source="sale")
        factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=START - dt.timedelta(days=40), odometer_km=9000 + 700 * n)


def _one_day(day: dt.date) -> None:
    # 00:30 UTC the nightly re-plan, 04:05 UTC (07:05 Moscow) the build sweep, then the sender through the
    # day's message hours (10:00-20:00 Moscow) every half hour.
    with time_machine.travel(dt.datetime.combine(day, dt.time(0, 30), tzinfo=dt.UTC), tick=False):
        tasks.replan_all_vehicles()
    with time_machine.travel(dt.datetime.combine(day, dt.time(4, 5), tzinfo=dt.UTC), tick=False) as traveller:
        tasks.build_due_queues()
        moment = dt.datetime.combine(day, dt.time(6, 30), tzinfo=dt.UTC)
        while moment.time() < dt.time(17, 30):
            traveller.move_to(moment)
            tasks.send_due_messages()
            moment += dt.timedelta(minutes=30)


def test_over_four_weeks_the_setting_decides_the_days_and_the_auditor_finds_nothing(moscow, settings, tmp_path):
    # given: the accessories e-mail may go on weekends and holidays; the birthday keeps its default (on)
    settings.MESSAGE_FILE_DIR = tmp_path
    TouchpointTemplate.objects.filter(code="accessories").update(may_go_on_days_off=True)
    _buyers(moscow)
    # when: four weeks go by
    for n in range(DAYS):
        _one_day(START + dt.timedelta(days=n))
    # then: messages of both templates went out on weekends and on the holiday
    sent = OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT)
    days_off = {d for d in (START + dt.timedelta(days=n) for n in range(DAYS)) if d.isoweekday() >= 6}
    days_off.add(dt.date(2026, 11, 4))
    for code in ("accessories", "birthday"):
        went_on = set(sent.filter(touchpoint__template__code=code).values_list("send_on", flat=True))
        assert went_on & days_off, f"no {code} message went on a weekend or the holiday"
    # and the auditor, reading the same setting from the templates, finds nothing
    report = audit_stored_contacts()
    assert report["checked"] > 0
    assert {rule: count for rule, count in report["violations"].items() if count} == {}


def test_only_a_message_template_may_go_on_weekends_and_holidays():
    # given: a call template with the setting ticked (the admin and the program pages both call clean)
    from django.core.exceptions import ValidationError

    template = TouchpointTemplate.objects.get(code="first_weeks")
    assert template.channel == "call"
    template.may_go_on_days_off = True
    # when / then: refused on that field, in plain words
    with pytest.raises(ValidationError) as refused:
        template.full_clean()
    assert "a call never goes on them" in str(refused.value.message_dict["may_go_on_days_off"])
