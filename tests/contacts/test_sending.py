"""Sending the outbox inside each dealership's message hours, on its own calendar day, under a moving clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from contacts import tasks
from contacts.core.message_hours import MessageHours, Verdict, sending_verdict
from contacts.models import ContactRules, OutboxMessage, Touchpoint, TouchpointTemplate
from customers.models import Consent
from tests import factories
from tests.contacts.factories import make_outbox_message

UTC = dt.UTC
# Friday 4 December 2026 to Monday 7 December 2026: two working days around a weekend.
FRIDAY, SATURDAY, SUNDAY, MONDAY = (dt.date(2026, 12, 4) + dt.timedelta(days=n) for n in range(4))
MSK = ZoneInfo("Europe/Moscow")
HOURS = MessageHours(start=dt.time(10), end=dt.time(20))


def make_message(dealership, *, send_on: dt.date, code: str = "service_reminder", window_days: int = 3) -> OutboxMessage:
    return make_outbox_message(dealership, send_on=send_on, code=code, window_days=window_days, channel="sms")


def run_sender_every_ten_minutes(start: dt.datetime, end: dt.datetime, *, before_each=None) -> int:
    """The beat entry's cadence: the real task at every tenth minute of the faked clock."""
    sent = 0
    moment = start
    with time_machine.travel(moment, tick=False) as traveller:
        while moment < end:
            traveller.move_to(moment)
            if before_each is not None:
                before_each(moment)
            sent += tasks.send_due_messages()
            moment += dt.timedelta(minutes=10)
    return sent


@pytest.mark.django_db
def test_messages_go_out_inside_local_hours_on_their_own_day_in_two_time_zones(moscow, yekaterinburg, tmp_path, settings):
    # given: Yekaterinburg (UTC+5) sends only 12:00-18:00; Moscow (UTC+3) has the default 10:00-20:00
    settings.MESSAGE_FILE_DIR = tmp_path
    ContactRules.objects.create(dealership=yekaterinburg, message_hours_start=dt.time(12), message_hours_end=dt.time(18))
    messages = []
    for dealership in (moscow, yekaterinburg):
        for day in (FRIDAY, MONDAY):
            messages += [make_message(dealership, send_on=day) for _ in range(3)]
        birthday = make_message(dealership, send_on=SATURDAY, code="birthday", window_days=0)
        make_message(dealership, send_on=SUNDAY, code="tyre_season")
        messages.append(birthday)
    late_written = {}

    def morning_build_ran_late(moment: dt.datetime) -> None:
        # Friday 21:00 in Moscow: a late build writes a message for its day, after the hours.
        if moment == dt.datetime(2026, 12, 4, 18, 0, tzinfo=UTC):
            late_written["closing"] = make_message(moscow, send_on=FRIDAY, window_days=0)
            late_written["open"] = make_message(moscow, send_on=FRIDAY, window_days=3)

    # when: the clock moves from Thursday evening to Tuesday morning (UTC), the sender every ten minutes
    sent = run_sender_every_ten_minutes(
        dt.datetime(2026, 12, 3, 15, 0, tzinfo=UTC), dt.datetime(2026, 12, 8, 6, 0, tzinfo=UTC),
        before_each=morning_build_ran_late,
    )

    # then: every message went out once, inside its dealership's hours, on its own local day
    assert sent == len(messages) == 14
    rows = OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT).select_related("dealership")
    assert {m.pk for m in rows} == {m.pk for m in messages}
    for message in rows:
        rules = ContactRules.for_dealership(message.dealership)
        local = message.sent_at.astimezone(message.dealership.zone)
        assert local.date() == message.send_on, message
        assert rules.message_hours_start <= local.time() < rules.message_hours_end, message
    # each dealership's first message of a day at its own opening hour, not at the UTC day's
    first_sent = {
        (m.dealership.code, m.send_on): min(r.sent_at for r in rows if r.dealership_id == m.dealership_id and r.send_on == m.send_on)
        for m in rows
    }
    assert first_sent[("msk", FRIDAY)] == dt.datetime(2026, 12, 4, 7, 0, tzinfo=UTC)  # 10:00 Moscow
    assert first_sent[("ekb", FRIDAY)] == dt.datetime(2026, 12, 4, 7, 0, tzinfo=UTC)  # 12:00 Yekaterinburg
    assert first_sent[("ekb", SATURDAY)] == dt.datetime(2026, 12, 5, 7, 0, tzinfo=UTC)
    # a greeting goes on a Saturday; a tyre-season SMS on a Sunday does not, and goes back to the plan
    assert OutboxMessage.objects.filter(send_on=SUNDAY).count() == 0
    assert Touchpoint.objects.filter(template__code="tyre_season", status="planned", resolution="message_closed_day").count() == 2
    # the messages written after Friday's hours never went out on Saturday
    closing = OutboxMessage.objects.get(pk=late_written["closing"].pk)
    assert (closing.status, closing.sent_at, closing.error) == ("cancelled", None, "missed_day")
    assert Touchpoint.objects.get(pk=closing.touchpoint_id).resolution == "window_closed:missed_day"
    assert not OutboxMessage.objects.filter(pk=late_written["open"].pk).exists()
    assert Touchpoint.objects.get(pk=late_written["open"].touchpoint_id).status == "planned"


@pytest.mark.django_db
def test_hours_hold_through_a_daylight_saving_change(tmp_path, settings):
    # given: a Berlin dealership on the Sunday its clocks go back (25 October 2026, 03:00 → 02:00)
    settings.MESSAGE_FILE_DIR = tmp_path
    berlin = factories.DealershipFactory(code="ber", time_zone="Europe/Berlin", country="DE")
    birthday = make_message(berlin, send_on=dt.date(2026, 10, 25), code="birthday", window_days=0)
    # when
    run_sender_every_ten_minutes(dt.datetime(2026, 10, 24, 20, 0, tzinfo=UTC), dt.datetime(2026, 10, 25, 20, 0, tzinfo=UTC))
    # then: 10:00 CET is 09:00 UTC that day (it was 08:00 UTC the day before)
    birthday.refresh_from_db()
    assert birthday.sent_at == dt.datetime(2026, 10, 25, 9, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_a_holiday_stops_other_messages_but_not_a_greeting(moscow, tmp_path, settings):
    # given: 4 November, National Unity Day in Russia (a Wednesday)
    settings.MESSAGE_FILE_DIR = tmp_path
    holiday = dt.date(2026, 11, 4)
    greeting = make_message(moscow, send_on=holiday, code="birthday", window_days=0)
    reminder = make_message(moscow, send_on=holiday, window_days=0)
    # when
    with time_machine.travel(dt.datetime(2026, 11, 4, 9, 0, tzinfo=UTC), tick=False):
        sent = tasks.send_due_messages()
    # then
    assert sent == 1
    assert OutboxMessage.objects.get(pk=greeting.pk).status == "sent"
    assert OutboxMessage.objects.get(pk=reminder.pk).status == "cancelled"
    assert Touchpoint.objects.get(pk=reminder.touchpoint_id).resolution == "window_closed:closed_day"


@pytest.mark.parametrize(
    ("local_now", "send_on", "may_go_on_days_off", "is_working_day", "expected"),
    [
        (dt.datetime(2026, 12, 4, 9, 59, tzinfo=MSK), FRIDAY, False, True, Verdict.WAIT),
        (dt.datetime(2026, 12, 4, 10, 0, tzinfo=MSK), FRIDAY, False, True, Verdict.SEND),
        (dt.datetime(2026, 12, 4, 19, 59, tzinfo=MSK), FRIDAY, False, True, Verdict.SEND),
        (dt.datetime(2026, 12, 4, 20, 0, tzinfo=MSK), FRIDAY, False, True, Verdict.WAIT),
        (dt.datetime(2026, 12, 5, 0, 0, tzinfo=MSK), FRIDAY, False, True, Verdict.MISSED),
        (dt.datetime(2026, 12, 3, 12, 0, tzinfo=MSK), FRIDAY, False, True, Verdict.WAIT),
        (dt.datetime(2026, 12, 5, 12, 0, tzinfo=MSK), SATURDAY, True, False, Verdict.SEND),
        (dt.datetime(2026, 12, 5, 12, 0, tzinfo=MSK), SATURDAY, False, False, Verdict.CLOSED_DAY),
        (dt.datetime(2026, 12, 5, 8, 0, tzinfo=MSK), SATURDAY, False, False, Verdict.CLOSED_DAY),
        (dt.datetime(2026, 12, 5, 8, 0, tzinfo=ZoneInfo("Asia/Yekaterinburg")), SATURDAY, True, False, Verdict.WAIT),
    ],
)
def test_sending_verdict(local_now, send_on, may_go_on_days_off, is_working_day, expected):
    assert sending_verdict(
        send_on=send_on, local_now=local_now, hours=HOURS, may_go_on_days_off=may_go_on_days_off,
        is_working_day=is_working_day
    ) is expected


def test_message_hours_must_end_after_they_start():
    with pytest.raises(ValueError, match="must end after they start"):
        MessageHours(start=dt.time(20), end=dt.time(10))


@pytest.mark.django_db
def test_a_refusal_recorded_in_the_admin_stops_the_days_message(moscow, tmp_path, settings):
    # given: the build wrote the SMS, then an admin recorded the refusal on the Consent row directly
    settings.MESSAGE_FILE_DIR = tmp_path
    message = make_message(moscow, send_on=FRIDAY)
    Consent.objects.create(customer=message.customer, channel="sms", is_allowed=False,
                           changed_at=dt.datetime(2026, 12, 4, 6, 0, tzinfo=UTC), reason="asked by phone")
    # when
    with time_machine.travel(dt.datetime(2026, 12, 4, 9, 0, tzinfo=UTC), tick=False):
        sent = tasks.send_due_messages()
    # then
    assert sent == 0
    message.refresh_from_db()
    assert (message.status, message.sent_at) == ("cancelled", None)
    assert Touchpoint.objects.get(pk=message.touchpoint_id).resolution == "do_not_contact:sms"
    assert not list(tmp_path.iterdir())


@pytest.mark.django_db
def test_the_last_moment_check_stops_an_offer_the_customer_refused_and_sends_the_service_reminder(moscow, tmp_path, settings):
    # given: the build wrote an offer and a service reminder by SMS, then the customer's refusal of
    # offers by SMS reached the Consent row directly (as an admin or a DMS import may write it)
    settings.MESSAGE_FILE_DIR = tmp_path
    offer = make_outbox_message(moscow, send_on=FRIDAY, code="accessories", channel="sms")
    reminder = make_outbox_message(moscow, send_on=FRIDAY, code="service_reminder", channel="sms", customer=offer.customer)
    Consent.objects.create(customer=offer.customer, channel="sms", purpose="marketing", is_allowed=False,
                           changed_at=dt.datetime(2026, 12, 4, 6, 0, tzinfo=UTC), reason="без рекламы")
    # when
    with time_machine.travel(dt.datetime(2026, 12, 4, 9, 0, tzinfo=UTC), tick=False):
        sent = tasks.send_due_messages()
    # then
    assert sent == 1
    offer.refresh_from_db()
    reminder.refresh_from_db()
    assert (offer.status, offer.error, reminder.status) == ("cancelled", "do_not_contact:sms:marketing", "sent")
    assert Touchpoint.objects.get(pk=offer.touchpoint_id).resolution == "do_not_contact:sms:marketing"


@pytest.mark.parametrize("may_go_on_days_off", [True, False])
def test_a_message_on_a_saturday_goes_by_its_templates_setting(moscow, tmp_path, settings, may_go_on_days_off):
    # given: a service reminder (not a greeting) for Saturday, its template's "may go on weekends and
    # holidays" set one way or the other
    settings.MESSAGE_FILE_DIR = tmp_path
    TouchpointTemplate.objects.filter(code="service_reminder").update(may_go_on_days_off=may_go_on_days_off)
    reminder = make_message(moscow, send_on=SATURDAY)
    # when: the sender runs every ten minutes through Saturday
    run_sender_every_ten_minutes(dt.datetime(2026, 12, 4, 21, 0, tzinfo=UTC), dt.datetime(2026, 12, 5, 21, 0, tzinfo=UTC))
    # then: on, it went at 10:00 Moscow on Saturday; off, it went back to the plan to go on a working day
    if may_go_on_days_off:
        reminder.refresh_from_db()
        assert (reminder.status, reminder.sent_at) == ("sent", dt.datetime(2026, 12, 5, 7, 0, tzinfo=UTC))
    else:
        # its window is still open: the row is taken back and the touchpoint waits for a working day
        assert not OutboxMessage.objects.filter(pk=reminder.pk).exists()
        touchpoint = Touchpoint.objects.get(pk=reminder.touchpoint_id)
        assert (touchpoint.status, touchpoint.resolution) == ("planned", "message_closed_day")


@pytest.mark.django_db
def test_a_birthday_template_may_go_on_days_off_and_no_other_does_by_default():
    # the data migration's default (docs/program.md version 2): only the birthday message has it on
    assert list(TouchpointTemplate.objects.filter(may_go_on_days_off=True).values_list("code", flat=True)) == ["birthday"]
