"""The rules page: plain controls for a dealership's contact rules, each with a sentence saying what it does."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from contacts.models import ContactRules
from tests import factories

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def admin(moscow):
    return factories.make_user("ada", "admin", dealerships=(moscow,))


def posted(**changes):
    data = {
        "min_days_between_calls": 7, "min_days_between_messages": 3, "max_calls_per_30_days": 2,
        "max_calls_per_365_days": 12, "merge_window_days": 10, "working_weekdays": ["1", "2", "3", "4", "5"],
        "keep_alive_months": 11, "unreachable_after_failures": 3, "calls_per_agent": 40, "default_agents_on_shift": 4,
        "claim_timeout_minutes": 20, "queue_build_hour": 7, "holdout_share_percent": 5, "call_hours_start": "09:00",
        "call_hours_end": "20:00", "department_order": "", "message_hours_start": "10:00", "message_hours_end": "20:00",
        "handoff_hours_hot": 2, "handoff_hours_warm": 8, "handoff_hours_cold": 24, "handoff_match_days": 14,
    }
    data.update(changes)
    return data


def test_weekdays_priorities_and_hours_are_saved_from_plain_controls(client, admin, moscow):
    # given
    client.force_login(admin)
    # when: Saturday becomes a working day, sales goes first, calls start at 10:00
    response = client.post("/program/rules/", posted(
        working_weekdays=["6", "1", "2", "3", "4", "5"], call_hours_start="10:00",
        department_order="sales,service,insurance,trade_in,call_centre,manufacturer,parts",
    ))
    # then
    assert response.status_code == 302
    rules = ContactRules.objects.get(dealership=moscow)
    assert rules.working_weekdays == "123456"
    assert rules.department_priorities == {
        "sales": 1, "service": 2, "insurance": 3, "trade_in": 4, "call_centre": 5, "manufacturer": 6, "parts": 7,
    }
    moscow.refresh_from_db()
    assert moscow.call_hours_start == dt.time(10, 0)


def test_the_page_says_what_each_rule_does_and_lists_the_holidays(client, admin):
    client.force_login(admin)
    with time_machine.travel(NOW, tick=False):
        html = client.get("/program/rules/").content.decode()
    assert "Nobody is called again sooner than this, whatever the department." in html
    assert 'type="checkbox" name="working_weekdays" value="6"' in html
    assert "07.01.2027" in html  # Orthodox Christmas, a Russian public holiday
    assert "<textarea" not in html and "{}" not in html


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"working_weekdays": []}, "Working days: choose at least one day, or no call is ever placed."),
        ({"max_calls_per_30_days": 0}, "Calls in any 30 days: at least 1, or nobody is ever called."),
        ({"call_hours_start": "21:00"}, "Calls until: it must be later than the start of call hours."),
        ({"department_order": "service,nowhere"}, "Department priorities: each known department once"),
        ({"message_hours_start": "20:00", "message_hours_end": "09:00"},
         "Messages until: it must be later than the start of message hours."),
        ({"message_hours_end": "25:00"}, "Enter a valid time."),
        ({"handoff_hours_hot": 0}, "Hot hand-off: from 1 to 120 working hours."),
        ({"handoff_hours_cold": 500}, "Cold hand-off: from 1 to 120 working hours."),
        ({"handoff_hours_hot": 9}, "Hot hand-off: it cannot wait longer than a warm one (8 h)."),
        ({"handoff_hours_warm": 30}, "Warm hand-off: it cannot wait longer than a cold one (24 h)."),
        ({"handoff_match_days": 0}, "Sale or visit: link within 1 to 365 days."),
    ],
)
def test_a_rule_that_would_stop_the_calls_is_refused_and_nothing_is_stored(client, admin, moscow, changes, message):
    client.force_login(admin)
    response = client.post("/program/rules/", posted(**changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "Constraint" not in response.content.decode()
    rules = ContactRules.for_dealership(moscow)
    assert (rules.max_calls_per_30_days, rules.working_weekdays, rules.department_priorities) == (2, "12345", {})
    assert (rules.message_hours_start, rules.message_hours_end) == (dt.time(10, 0), dt.time(20, 0))
    assert (rules.handoff_hours_hot, rules.handoff_hours_warm, rules.handoff_hours_cold) == (2, 8, 24)
    moscow.refresh_from_db()
    assert moscow.call_hours_start == dt.time(9, 0)


def test_an_admin_cannot_open_another_dealerships_rules(client, admin, yekaterinburg):
    client.force_login(admin)
    assert client.get("/program/rules/", {"dealership": yekaterinburg.pk}).status_code == 404
    assert client.post("/program/rules/", posted(dealership=yekaterinburg.pk, max_calls_per_30_days=1)).status_code == 404
    assert not ContactRules.objects.filter(dealership=yekaterinburg).exists()


def test_a_change_is_recorded_with_who_when_and_the_values_before_and_after(client, admin, moscow):
    from contacts.models import ConfigurationChange

    # given
    client.force_login(admin)
    # when: two saves, the second changing nothing
    with time_machine.travel(NOW, tick=False):
        client.post("/program/rules/", posted(max_calls_per_30_days=3, call_hours_end="19:00"))
        client.post("/program/rules/", posted(max_calls_per_30_days=3, call_hours_end="19:00"))
    # then: one event row, with the changed values only
    (change,) = ConfigurationChange.objects.all()
    assert (change.dealership, change.subject, change.changed_by, change.changed_at) == (moscow, "rules", admin, NOW)
    assert change.changes == {"max_calls_per_30_days": [2, 3], "call_hours_end": ["20:00:00", "19:00:00"]}
    assert "calls in any 30 days, at most: 2 → 3" in client.get("/program/rules/").content.decode()


def test_message_hours_and_the_handoff_sla_are_saved_with_the_rest_and_recorded(client, admin, moscow):
    from contacts.models import ConfigurationChange

    # given
    client.force_login(admin)
    # when: messages from 09:30 to 18:00, a hot hand-off answered within one working hour, a sale linked within 30 days
    with time_machine.travel(NOW, tick=False):
        response = client.post("/program/rules/", posted(
            message_hours_start="09:30", message_hours_end="18:00", handoff_hours_hot=1, handoff_match_days=30,
        ))
    # then: stored with the other rules, in one recorded change
    assert response.status_code == 302
    rules = ContactRules.objects.get(dealership=moscow)
    assert (rules.message_hours_start, rules.message_hours_end) == (dt.time(9, 30), dt.time(18, 0))
    assert (rules.handoff_hours_hot, rules.handoff_hours_warm, rules.handoff_hours_cold, rules.handoff_match_days) == (
        1, 8, 24, 30)
    (change,) = ConfigurationChange.objects.all()
    assert change.changes == {
        "message_hours_start": ["10:00:00", "09:30:00"], "message_hours_end": ["20:00:00", "18:00:00"],
        "handoff_hours_hot": [2, 1], "handoff_match_days": [14, 30],
    }
    html = client.get("/program/rules/").content.decode()
    assert 'name="message_hours_start" value="09:30"' in html
    assert "No SMS or e-mail goes out before this time, in the dealership&#x27;s time zone." in html
    assert "answer a hot hand-off within, working hours: 2 → 1" in html


def test_the_rules_page_speaks_russian_about_message_hours_and_handoffs(client, admin):
    client.force_login(admin)
    html = client.get("/program/rules/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Когда уходят SMS и письма" in html
    assert "Передачи в отделы" in html
    response = client.post("/program/rules/", posted(handoff_hours_hot=9), HTTP_ACCEPT_LANGUAGE="ru")
    assert "Горячая передача: она не может ждать дольше тёплой (8 ч)." in response.content.decode()
