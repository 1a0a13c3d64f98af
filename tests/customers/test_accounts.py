"""Login throttling and lockout on every login form (django-axes, customers.accounts)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
ATTACKER = "203.0.113.7"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Dozens of logins per test: PBKDF2's deliberate slowness is not what these tests are about."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice(db) -> User:
    return User.objects.create_user("alice", password="right-password-1", is_staff=True, is_superuser=True)


def _login(client, url_name: str, password: str, address: str = ATTACKER, language: str = "en"):
    return client.post(reverse(url_name), {"username": "alice", "password": password},
                       REMOTE_ADDR=address, headers={"Accept-Language": language})


@pytest.mark.parametrize("url_name", ["login", "admin:login"])
def test_five_wrong_passwords_lock_the_user_from_that_address(client, alice, settings, url_name):
    # given
    with time_machine.travel(START, tick=False):
        for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
            assert _login(client, url_name, "guess").status_code == 200
        assert _login(client, url_name, "guess").status_code == 429
        # when: even the right password
        locked = _login(client, url_name, "right-password-1")
        # then
        assert locked.status_code == 429
        assert "Too many wrong passwords for this user from your address" in locked.content.decode()
        assert "locked for 15 minutes" in locked.content.decode()
        assert "_auth_user_id" not in client.session
        # and the same user from another address is not locked out
        assert _login(client, url_name, "right-password-1", address="198.51.100.4").status_code == 302


def test_the_lockout_is_said_in_russian(client, alice, settings):
    with time_machine.travel(START, tick=False):
        for _attempt in range(settings.AXES_FAILURE_LIMIT):
            _login(client, "login", "guess", language="ru")
        locked = _login(client, "login", "guess", language="ru")
    assert locked.status_code == 429
    assert "Слишком много неверных паролей" in locked.content.decode()


def test_the_lock_ends_fifteen_minutes_after_the_last_attempt(client, alice, settings):
    with time_machine.travel(START, tick=False):
        for _attempt in range(settings.AXES_FAILURE_LIMIT):
            _login(client, "login", "guess")
    # an attempt while locked is refused and counts: the lock runs from it
    with time_machine.travel(START + dt.timedelta(minutes=14), tick=False):
        assert _login(client, "login", "right-password-1").status_code == 429
    with time_machine.travel(START + dt.timedelta(minutes=28), tick=False):
        assert _login(client, "login", "right-password-1").status_code == 429
    with time_machine.travel(START + dt.timedelta(minutes=44), tick=False):
        assert _login(client, "login", "right-password-1").status_code == 302


def test_an_administrator_unlocks_the_user(client, alice, settings):
    # given
    with time_machine.travel(START, tick=False):
        for _attempt in range(settings.AXES_FAILURE_LIMIT):
            _login(client, "login", "guess")
        assert _login(client, "login", "right-password-1").status_code == 429
        # when
        call_command("axes_reset_username", "alice")
        # then
        assert _login(client, "login", "right-password-1").status_code == 302


def test_a_successful_login_resets_the_count(client, alice, settings):
    with time_machine.travel(START, tick=False):
        for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
            _login(client, "login", "guess")
        assert _login(client, "login", "right-password-1").status_code == 302
        client.logout()
        for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
            _login(client, "login", "guess")
        assert _login(client, "login", "right-password-1").status_code == 302
