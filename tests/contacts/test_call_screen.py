"""The call screen's read model (contacts.call_screen) and the words for codes (contacts.wording), EN and RU."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import translation

from contacts.call_screen import call_topics, call_vehicle_ids, script_sections
from contacts.forms import OutcomeForm
from contacts.models import CallTask, CallTaskItem, Touchpoint
from contacts.wording import reason_text, resolution_text
from tests import factories
from tests.contacts.factories import make_call_task

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 12, 2)
SCRIPT_RU = (
    "## {title} — Geely Coolray\n"
    "Приветствие: Добрый день, Алексей! Это [[agent]], сервис. Удобно говорить?\n"
    "Цель: По нашим данным, месяц назад вашему Geely Coolray подошёл срок ТО.\n"
    "Вопросы: ТО уже сделали?"
)


def _merged_call(moscow):
    """Two missed maintenances of one car (TO-4, TO-5) and a survey about a second car, on one call."""
    task = make_call_task(moscow, topics=("missed_service", "missed_service", "dealer_csi"))
    customer = task.customer
    first_car = customer.vehicles.get()
    second_car = factories.SaleFactory(vehicle__owner=customer, vehicle__model="Octavia", sold_on=dt.date(2026, 10, 21)).vehicle
    survey = CallTaskItem.objects.get(call_task=task, position=2).touchpoint
    Touchpoint.objects.filter(pk=survey.pk).update(vehicle=second_car)
    agenda = list(task.agenda)
    agenda[0] |= {"reason": "missed_maintenance:2025-07-22:TO-4", "detail": {}, "vehicle": "Geely Coolray T428OT 77"}
    agenda[1] |= {"reason": "missed_maintenance:2026-05-27:TO-5", "detail": {}, "vehicle": "Geely Coolray T428OT 77"}
    agenda[2] |= {"reason": "sale:2026-10-21", "detail": {}, "vehicle": "Skoda Octavia K190HH 77"}
    script = "\n\n".join(SCRIPT_RU.format(title=t) for t in ("Пропущенное ТО", "Пропущенное ТО", "Опрос"))
    CallTask.objects.filter(pk=task.pk).update(agenda=agenda, script=script)
    task.refresh_from_db()
    return task, first_car, second_car


def test_one_line_per_topic_and_car_in_the_agents_language(moscow):
    # given
    task, first_car, second_car = _merged_call(moscow)
    # when
    with translation.override("en"):
        topics = call_topics(task, today=TODAY)
    # then
    assert [(t["code"], t["title"], t["vehicle_id"], t["positions"]) for t in topics] == [
        ("missed_service", "Missed maintenance win-back", first_car.pk, [0, 1]),
        ("dealer_csi", "Dealer satisfaction survey", second_car.pk, [2]),
    ]
    assert topics[0]["why"] == (
        "maintenance 4 was due on July 22, 2025 and no visit followed; "
        "maintenance 5 was due on May 27, 2026 and no visit followed"
    )
    assert topics[1]["why"] == "bought on Oct. 21, 2026"
    assert call_vehicle_ids(topics) == [first_car.pk, second_car.pk]


def test_the_script_greets_once_and_says_when_the_missed_maintenance_was_due(moscow):
    # given
    task, _first, _second = _merged_call(moscow)
    with translation.override("en"):
        topics = call_topics(task, today=TODAY)
        # when: the customer speaks Russian, the agent reads the English UI
        sections = script_sections(task, topics=topics, agent_name="Anna", today=TODAY, language="ru")
    # then
    assert [s["position"] for s in sections] == [0, 2]
    assert sections[0]["body"].startswith("Приветствие: Добрый день, Алексей! Это Anna, сервис.")
    assert "Приветствие" not in sections[1]["body"]
    assert "месяц назад" not in sections[0]["body"]
    assert ("Цель: По нашим данным, вашему Geely Coolray T428OT 77 был положен плановый техосмотр "
            "(ТО-4 — 22 июля 2025 г., 1 год назад; ТО-5 — 27 мая 2026 г., 6 месяцев назад)") in sections[0]["body"].replace(
        "\xa0", " ")  # timesince puts a no-break space between a number and its unit


def test_the_calls_car_is_chosen_and_listed_first_for_a_multi_car_customer(moscow):
    # given: the call is about the second car the customer bought
    task, first_car, second_car = _merged_call(moscow)
    CallTaskItem.objects.filter(call_task=task, position__in=[0, 1]).delete()
    CallTask.objects.filter(pk=task.pk).update(agenda=[{}, {}, task.agenda[2]])
    task.refresh_from_db()
    # when
    form = OutcomeForm(task=task)
    # then
    assert form.fields["vehicle"].initial == second_car.pk
    assert [value for value, _label in form.fields["vehicle"].choices] == [second_car.pk, first_car.pk]


@pytest.mark.parametrize(("language", "reason", "words"), [
    ("en", "maintenance_due:2026-12-10:TO-1", "maintenance 1 due on Dec. 10, 2026"),
    ("ru", "maintenance_due:2026-12-10:TO-1", "ТО-1 — 10 декабря 2026 г."),
    ("en", "insurance_renewal:2026-12-19", "the insurance renews on Dec. 19, 2026"),
    ("ru", "lapsed:2024-09-19", "ни визитов, ни покупок с 19 сентября 2024 г."),
    ("en", "warranty_end:2027-02-17:km", "the warranty ends about Feb. 17, 2027, by mileage"),
    ("en", "something_new:2026-01-01", "something_new:2026-01-01"),
])
def test_plan_reasons_in_words(language, reason, words):
    with translation.override(language):
        assert reason_text(reason) == words


def test_several_missed_maintenances_are_said_once_with_the_first_due_date():
    detail = {"missed_numbers": "4,5", "missed_since": "2026-01-18"}
    with translation.override("en"):
        assert reason_text("missed_maintenance:2026-07-18:TO-5", detail) == (
            "maintenance 4, maintenance 5 missed, due since Jan. 18, 2026")


@pytest.mark.parametrize(("language", "resolution", "words"), [
    ("en", "call:booked", "call: Maintenance booked"),
    ("ru", "call:booked", "звонок: Записан на ТО"),
    ("en", "not_reached:no_answer", "not reached: no answer after every retry"),
    ("en", "do_not_contact:sms", "the customer refused this channel (SMS)"),
    ("en", "window_closed:min_gap", "its time window closed (too soon after another call)"),
    ("ru", "planned:2026-12-20", "назначено на 20 декабря 2026 г."),
    ("en", "reopened:call_expired", "back in the plan: its call was not made"),
    ("en", "obsolete:vehicle_gone", "no longer needed: the car was sold or traded in"),
    ("en", "window_closed:capacity", "its time window closed (the call centre's capacity for the day)"),
    ("en", "holdout", "hold-out group: no planned contact"),
    ("en", "one_greeting_per_person", "one greeting per person: another car of the customer carries it"),
])
def test_resolutions_in_words(language, resolution, words):
    with translation.override(language):
        assert resolution_text(resolution) == words


def test_phone_numbers_are_shown_as_people_write_them():
    template = Template("{% load phones %}{{ a|phone }} | {{ b|phone }} | {{ c|phone }}")
    assert template.render(Context({"a": "+79913936753", "b": "", "c": "not a phone"})) == (
        "+7 991 393-67-53 |  | not a phone")


def test_a_hot_lead_defaults_to_the_department_of_the_calls_topic(moscow):
    from contacts.models import Department

    trade_in_call = make_call_task(moscow, topics=("trade_in_valuation",))
    survey_call = make_call_task(moscow, topics=("dealer_csi",))
    assert OutcomeForm(task=trade_in_call).fields["department"].initial == Department.objects.get(code="trade_in").pk
    assert OutcomeForm(task=survey_call).fields["department"].initial is None  # the call centre takes no hand-offs
