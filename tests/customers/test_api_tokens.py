"""API tokens (customers.api_tokens, customers.token_authentication): expiry, revocation, scopes per
endpoint family, the recorded use written at most once a minute, phones by role, the conversion of
DRF tokens, the command and the page."""

from __future__ import annotations

import datetime as dt
import importlib
import io

import pytest
import time_machine
from django.apps import apps
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from customers.models import ApiToken, hash_secret
from tests import factories

pytestmark = pytest.mark.django_db

DAY_0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # the pending-use counters are keyed by token id
    yield
    cache.clear()


@pytest.fixture
def manager(moscow):
    return factories.make_user("dms", "manager", "agent", dealerships=(moscow,))


def client_with(secret: str, language: str = "en") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}", HTTP_ACCEPT_LANGUAGE=language)
    return client


def test_a_token_valid_on_day_89_is_refused_on_day_91_in_english_and_russian(manager):
    # given a 90-day token created on day 0
    with time_machine.travel(DAY_0, tick=False):
        secret = factories.api_token(manager, days=90)
    # when / then: day 89 opens the API, day 91 is a 401 that says it expired and what to do
    with time_machine.travel(DAY_0 + dt.timedelta(days=89), tick=False):
        assert client_with(secret).get("/api/customers/").status_code == 200
    with time_machine.travel(DAY_0 + dt.timedelta(days=91), tick=False):
        english = client_with(secret).get("/api/customers/")
        russian = client_with(secret, "ru").get("/api/customers/")
    assert english.status_code == russian.status_code == 401
    assert "expired on" in english.json()["detail"] and "create a new one" in english.json()["detail"]
    assert "истёк" in russian.json()["detail"]


def test_the_default_lifetime_comes_from_the_setting(manager, settings):
    settings.API_TOKEN_DEFAULT_DAYS = 30
    with time_machine.travel(DAY_0, tick=False):
        factories.api_token(manager)
    assert ApiToken.objects.get().expires_at == DAY_0 + dt.timedelta(days=30)


def test_a_revoked_token_is_refused_and_an_unknown_one_too(manager):
    secret = factories.api_token(manager)
    client = client_with(secret)
    assert client.get("/api/customers/").status_code == 200
    from django.utils import timezone

    from customers import api_tokens
    api_tokens.revoke_token(token=ApiToken.objects.get(), now=timezone.now())
    revoked = client.get("/api/customers/")
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]
    assert "отозван" in client_with(secret, "ru").get("/api/customers/").json()["detail"]
    unknown = client_with(secret + "x").get("/api/customers/")
    assert unknown.status_code == 401 and "not valid" in unknown.json()["detail"]
    assert unknown["WWW-Authenticate"] == "Token"


def test_only_a_hash_of_the_secret_is_stored(manager):
    secret = factories.api_token(manager)
    token = ApiToken.objects.get()
    assert token.secret_hash == hash_secret(secret) and secret not in (token.secret_hash, token.prefix)
    assert secret.startswith(token.prefix)


@pytest.mark.parametrize(("scopes", "method", "url", "needed"), [
    (("write", "dialer"), "get", "/api/customers/", "read"),
    (("dialer",), "get", "/api/vehicles/", "read"),
    (("dialer",), "get", "/api/touchpoints/", "read"),
    (("dialer",), "get", "/api/figures/?from=2026-01-01&to=2026-01-31", "read"),
    (("read",), "post", "/api/customers/bulk/", "write"),
    (("read", "dialer"), "put", "/api/customers/by-external-id/C-9/", "write"),
    (("read", "dialer"), "post", "/api/customers/1/refusals/", "write"),
    (("read", "write"), "post", "/api/call-tasks/claim/", "dialer"),
    (("read", "write"), "post", "/api/call-tasks/1/outcome/", "dialer"),
    (("write",), "get", "/api/call-tasks/", "read or dialer"),
])
def test_a_token_without_the_scope_gets_403_naming_it(manager, scopes, method, url, needed):
    response = getattr(client_with(factories.api_token(manager, scopes=scopes)), method)(url, {}, format="json")
    assert response.status_code == 403
    assert f"lacks the {needed} scope" in response.json()["detail"]


@pytest.mark.parametrize(("scopes", "method", "url", "status"), [
    (("dialer",), "post", "/api/call-tasks/claim/", 200),
    (("dialer",), "get", "/api/call-tasks/", 200),
    (("read",), "get", "/api/call-tasks/", 200),
    (("read",), "get", "/api/customers/", 200),
    (("write",), "post", "/api/customers/bulk/", 400),  # let in; the empty body is refused
])
def test_a_token_with_the_scope_is_let_in(manager, scopes, method, url, status):
    response = getattr(client_with(factories.api_token(manager, scopes=scopes)), method)(url, {}, format="json")
    assert response.status_code == status


def test_the_scope_message_is_in_russian_too(manager):
    response = client_with(factories.api_token(manager, scopes=("read",)), "ru").post("/api/call-tasks/claim/")
    assert response.status_code == 403 and "dialer" in response.json()["detail"] and "нет" in response.json()["detail"]


def test_a_web_session_is_limited_by_its_roles_alone(manager):
    client = APIClient()
    client.force_login(manager)
    assert client.post("/api/call-tasks/claim/").status_code == 200


def test_use_is_recorded_at_most_once_a_minute_per_token(manager):
    secret = factories.api_token(manager)
    client = client_with(secret)
    token = ApiToken.objects.get()
    with time_machine.travel(DAY_0, tick=False):
        assert client.get("/api/customers/", REMOTE_ADDR="10.0.0.7").status_code == 200
        token.refresh_from_db()
        assert (token.use_count, token.last_used_at, token.last_used_address) == (1, DAY_0, "10.0.0.7")
        with CaptureQueriesContext(connection) as queries:
            client.get("/api/customers/")
            client.get("/api/customers/")
    with time_machine.travel(DAY_0 + dt.timedelta(seconds=30), tick=False), CaptureQueriesContext(connection) as later:
        client.get("/api/customers/")
        client.get("/api/customers/")
    # within the minute: counted in the cache, no write of the token's row
    assert not [q for q in [*queries.captured_queries, *later.captured_queries] if "UPDATE" in q["sql"].upper()]
    token.refresh_from_db()
    assert (token.use_count, token.last_used_at) == (1, DAY_0)
    with time_machine.travel(DAY_0 + dt.timedelta(seconds=61), tick=False):
        client.get("/api/customers/", REMOTE_ADDR="10.0.0.8")
    token.refresh_from_db()
    assert (token.use_count, token.last_used_address) == (6, "10.0.0.8")
    assert token.last_used_at == DAY_0 + dt.timedelta(seconds=61)


def test_an_agents_token_reads_customers_without_their_phones_a_managers_with(moscow, yekaterinburg, manager):
    factories.CustomerFactory(dealership=moscow, phone="+79161234567", email="a@example.ru")
    factories.CustomerFactory(dealership=yekaterinburg, phone="+79161234568")
    agent = factories.make_user("alice", "agent", dealerships=(moscow,))
    agents = client_with(factories.api_token(agent, scopes=("read",))).get("/api/customers/").json()["results"]
    managers = client_with(factories.api_token(manager, scopes=("read",))).get("/api/customers/").json()["results"]
    # only Moscow's customer, for both (dealership scoping); the phone and e-mail for the manager only
    assert [(row["phone"], row["email"]) for row in agents] == [("", "")]
    assert [(row["phone"], row["email"]) for row in managers] == [("+79161234567", "a@example.ru")]


def test_drf_tokens_become_ours_with_all_scopes_and_the_default_lifetime(manager, settings):
    # given an integration's DRF token from before
    key = Token.objects.create(user=manager).key
    migration = importlib.import_module("customers.migrations.0010_api_tokens")
    # when the data migration runs
    with time_machine.travel(DAY_0, tick=False):
        migration.convert_drf_tokens(apps, None)
    # then the same key opens the API, with every scope, until the default expiry; the plain key is gone
    token = ApiToken.objects.get()
    assert (token.user, token.scope_list, token.expires_at) == (
        manager, ["read", "write", "dialer"], DAY_0 + dt.timedelta(days=settings.API_TOKEN_DEFAULT_DAYS))
    assert not Token.objects.exists()
    with time_machine.travel(DAY_0 + dt.timedelta(days=1), tick=False):
        assert client_with(key).post("/api/call-tasks/claim/").status_code == 200


def test_the_command_creates_a_token_and_prints_its_secret_once(manager):
    out = io.StringIO()
    call_command("create_api_token", "dms", "--scopes", "read,write", "--days", "30", stdout=out, stderr=io.StringIO())
    secret = out.getvalue().strip()
    token = ApiToken.objects.get()
    assert token.scope_list == ["read", "write"] and token.secret_hash == hash_secret(secret)
    assert client_with(secret).get("/api/customers/").status_code == 200
    with pytest.raises(CommandError, match="Unknown scope admin"):
        call_command("create_api_token", "dms", "--scopes", "read,admin")
    with pytest.raises(CommandError, match="1 to 366 days"):
        call_command("create_api_token", "dms", "--days", "1000")


def test_the_page_creates_shows_the_secret_once_and_revokes(client, manager):
    client.force_login(manager)
    page = client.post("/account/tokens/", {"name": "1C export", "scopes": ["read", "write"], "days": "30"})
    token = ApiToken.objects.get()
    secret = page.context["secret"]
    assert page.status_code == 200 and secret in page.content.decode() and token.name == "1C export"
    assert secret not in client.get("/account/tokens/").content.decode()  # shown once
    assert client_with(secret).get("/api/customers/").status_code == 200
    client.post(f"/account/tokens/{token.pk}/revoke/")
    assert client_with(secret).get("/api/customers/").status_code == 401


def test_nobody_revokes_another_users_token(client, manager, agent):
    factories.api_token(manager)
    client.force_login(agent)
    assert client.post(f"/account/tokens/{ApiToken.objects.get().pk}/revoke/").status_code == 404
    assert ApiToken.objects.get().revoked_at is None


def test_the_page_tells_the_tokens_times_in_the_dealerships_time(client, agent):
    # given: Alice (Moscow, UTC+3) last used her token at 22:30 UTC on 30 November: 01:30 on 1 December in Moscow
    factories.api_token(agent)
    ApiToken.objects.update(last_used_at=dt.datetime(2026, 11, 30, 22, 30, tzinfo=dt.UTC), last_used_address="10.0.0.7")
    client.force_login(agent)
    # when
    page = client.get("/account/tokens/").content.decode()
    # then
    assert "01.12.2026 01:30 · 10.0.0.7" in page and "22:30" not in page
