"""The day's messages on the queue page (contacts.message_board): each dealership's own local day, the
counts by state, the latest in the dealership's time, nothing of a dealership the user does not work."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from contacts.message_board import message_board
from contacts.models import OutboxMessage
from tests import factories
from tests.contacts.factories import make_outbox_message

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status
# 23:30 UTC on Monday 23 November: already Tuesday 24 November in Moscow (UTC+3) and in Yekaterinburg (UTC+5).
NOW = dt.datetime(2026, 11, 23, 23, 30, tzinfo=dt.UTC)
TUESDAY = dt.date(2026, 11, 24)


def moved(message, status, at):
    OutboxMessage.objects.filter(pk=message.pk).update(status=status, sent_at=at, status_changed_at=at)
    return message


def test_the_board_counts_the_local_day_and_lists_the_latest_that_moved(moscow, yekaterinburg):
    sent_at = dt.datetime(2026, 11, 24, 7, 5, tzinfo=dt.UTC)  # 10:05 in Moscow
    make_outbox_message(moscow, send_on=TUESDAY)  # waiting
    moved(make_outbox_message(moscow, send_on=TUESDAY), Status.SENT, sent_at)
    moved(make_outbox_message(moscow, send_on=TUESDAY), Status.DELIVERED, sent_at + dt.timedelta(minutes=2))
    moved(make_outbox_message(yekaterinburg, send_on=TUESDAY), Status.FAILED, sent_at + dt.timedelta(minutes=4))
    make_outbox_message(moscow, send_on=TUESDAY - dt.timedelta(days=1))  # yesterday's: not today's board

    board = message_board(dealerships=[moscow, yekaterinburg], now=NOW)

    assert (board.waiting, board.sent, board.delivered, board.not_delivered, board.total) == (1, 1, 1, 1, 4)
    assert [m.status for m in board.latest] == [Status.FAILED, Status.DELIVERED, Status.SENT]
    assert message_board(dealerships=[moscow], now=NOW).total == 3


def test_the_queue_page_shows_the_board_in_local_time_and_only_the_users_dealerships(client, moscow, yekaterinburg):
    agent = factories.make_user("alice", "agent", dealerships=(moscow,))
    theirs = make_outbox_message(yekaterinburg, send_on=TUESDAY)
    moved(theirs, Status.SENT, dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC))
    ours = make_outbox_message(moscow, send_on=TUESDAY)
    moved(ours, Status.DELIVERED, dt.datetime(2026, 11, 24, 7, 5, tzinfo=dt.UTC))
    client.force_login(agent)

    with time_machine.travel(dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC), tick=False), translation.override("ru"):
        body = client.get(reverse("contacts:queue"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()

    board = body[body.index('id="message-board"'):body.index("</details>", body.index('id="message-board"'))]
    assert "10:05" in board and "07:05" not in board  # Moscow's time, not UTC
    assert ours.customer.full_name in board and theirs.customer.full_name not in board
    assert "Сообщения за сегодня" in board and "доставлено" in board
