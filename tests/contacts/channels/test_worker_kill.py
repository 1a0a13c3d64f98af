"""A real Celery worker killed while SMSC holds a message: the next worker neither loses it nor sends
it twice (PostgreSQL and Redis, as in CI)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import zoneinfo
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from contacts import tasks
from contacts.models import ContactRules, OutboxMessage
from tests import factories
from tests.conftest import set_eager
from tests.contacts.factories import make_outbox_message

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def start_worker(smsc_url: str) -> subprocess.Popen[bytes]:
    db = connection.settings_dict
    env = dict(
        os.environ,
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        CELERY_TASK_ALWAYS_EAGER="false",
        SMS_SENDER="contacts.channels.smsc.SmscSender",
        SMSC_API_URL=smsc_url, SMSC_LOGIN=settings.SMSC_LOGIN, SMSC_PASSWORD=settings.SMSC_PASSWORD,
        SMS_HTTP_TIMEOUT="30", MESSAGE_RESERVATION_TIMEOUT_SECONDS="2",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "clm", "worker", "--pool=solo", "--loglevel=WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def wait_for(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def zone_at_midday(now: dt.datetime) -> str:
    """A fixed-offset zone where it is between 11:00 and 17:00 now, so the real clock is inside message hours."""
    for offset in range(-12, 15):
        name = f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"
        if 11 <= now.astimezone(zoneinfo.ZoneInfo(name)).hour < 17:
            return name
    raise AssertionError("no zone at midday")


def sends(provider) -> int:
    return sum(1 for path, _fields, _headers in provider.requests if path == "/sys/send.php")


def test_a_worker_killed_mid_send_neither_loses_nor_repeats_the_message(smsc_server):
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and PostgreSQL (CI)")
    # given: a dealership where it is midday now, every day a working day, and a message due today
    zone = zone_at_midday(timezone.now())
    dealership = factories.DealershipFactory(code="mid", time_zone=zone, country="")
    ContactRules.objects.create(dealership=dealership, working_weekdays="1234567")
    message = make_outbox_message(dealership, send_on=dealership.local_date(timezone.now()))
    smsc_server.state["stall_seconds"] = {"/sys/send.php": 20}
    url = settings.SMSC_API_URL
    set_eager(False)
    first = start_worker(url)
    try:
        # when: the worker hands the message to SMSC and is killed before SMSC answers
        tasks.send_due_messages.delay()
        assert wait_for(lambda: sends(smsc_server) == 1), "the worker did not send"
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    message.refresh_from_db()
    assert message.status == "reserved"
    # when: another worker runs the sender after the reservation timeout
    smsc_server.state["stall_seconds"] = {}
    time.sleep(2.5)
    second = start_worker(url)
    try:
        tasks.send_due_messages.delay()
        assert wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).status == "sent"), "not settled"
    finally:
        second.terminate()
        try:
            second.wait(20)
        except subprocess.TimeoutExpired:
            second.kill()
    # then: SMSC was asked, by the message's id, instead of being sent it again
    message.refresh_from_db()
    assert (message.provider_message_id, message.attempts) == (f"clm-{message.pk}", 1)
    assert sends(smsc_server) == 1
    assert [path for path, _f, _h in smsc_server.requests].count("/sys/status.php") == 1
