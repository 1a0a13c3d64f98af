"""Production security settings (clm.settings with DEBUG off), sessions and password reset."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent


def _production_env(tmp_path: Path) -> dict[str, str]:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process: a deployment never has it.
    dropped = {"DATABASE_URL", "REDIS_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update(DEBUG="false", SECRET_KEY="k" + "".join(chr(48 + (n * 7) % 75) for n in range(60)),
               ALLOWED_HOSTS="crm.example.ru", CLM_VAR_DIR=str(tmp_path))
    return env


def test_the_production_profile_passes_the_deploy_check(tmp_path):
    # when
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=_production_env(tmp_path), capture_output=True, text=True, timeout=120)
    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_debug_is_off_unless_asked_for(tmp_path):
    # given: no DEBUG in the environment
    env = _production_env(tmp_path)
    env.pop("DEBUG")
    probe = "from django.conf import settings; print(settings.DEBUG)"
    env_settings = env | {"DJANGO_SETTINGS_MODULE": "clm.settings"}
    # when
    off = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env_settings, capture_output=True, text=True, timeout=60)
    no_key = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={k: v for k, v in env_settings.items() if k != "SECRET_KEY"})
    on = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env_settings | {"DEBUG": "1"},
                        capture_output=True, text=True, timeout=60)
    # then
    assert off.stdout.strip() == "False", off.stderr
    assert no_key.returncode != 0 and "SECRET_KEY must be set when DEBUG is off" in no_key.stderr
    assert on.stdout.strip() == "True", on.stderr


PROBE = """
import django, json
django.setup()
from django.test import Client
client = Client(HTTP_HOST="crm.example.ru")
plain = client.get("/api/customers/")
secure = client.get("/api/customers/", secure=True)
print(json.dumps({"plain": [plain.status_code, plain.get("Location")],
                  "secure": [secure.status_code, secure.get("Strict-Transport-Security"),
                             secure.get("Content-Security-Policy"), secure.get("X-Frame-Options")]}))
"""


def test_with_debug_off_http_redirects_to_https_and_pages_carry_hsts_and_csp(tmp_path):
    env = _production_env(tmp_path) | {"DJANGO_SETTINGS_MODULE": "clm.settings"}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    import json

    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["plain"] == [301, "https://crm.example.ru/api/customers/"]
    status, hsts, csp, frames = answer["secure"]
    assert status == 401  # no token: the API's own answer, with the headers
    assert hsts == "max-age=31536000; includeSubDomains; preload"
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert frames == "DENY"


@pytest.fixture
def fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_a_session_lasts_a_working_shift(client, db, fast_hashing):
    User.objects.create_user("alice", password="old-password-1")
    response = client.post(reverse("login"), {"username": "alice", "password": "old-password-1"})
    assert response.status_code == 302
    assert response.cookies["sessionid"]["max-age"] == 10 * 3600


def test_a_forgotten_password_is_reset_by_e_mail(client, db, fast_hashing):
    # given
    User.objects.create_user("alice", email="alice@example.ru", password="old-password-1")
    assert "Forgotten your password?" in client.get(reverse("login")).content.decode()
    # when: she asks for a link and follows it
    client.post(reverse("password_reset"), {"email": "alice@example.ru"})
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.ru"]
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link)["Location"]  # Django swaps the token for a session key
    response = client.post(form_url, {"new_password1": "new-Password-2024", "new_password2": "new-Password-2024"})
    # then
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_complete")
    client.logout()
    assert client.post(reverse("login"), {"username": "alice", "password": "new-Password-2024"}).status_code == 302


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, db):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.ru"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []
