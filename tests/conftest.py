"""Shared fixtures: two dealerships in different time zones and the people who work them."""

from __future__ import annotations

import importlib

import pytest

from clm.celery import app as celery_app
from customers.models import Dealership
from tests import factories


@pytest.fixture(autouse=True)
def _language_reset():
    """A request in Russian leaves Russian active in the thread (LocaleMiddleware never deactivates):
    the next test starts in the default language again."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks run in-process unless a test starts a real worker (tests/contacts/test_worker.py)."""
    set_eager(True)
    yield
    set_eager(False)


@pytest.fixture
def tasks_queued_not_run():
    """Tasks go to an in-memory broker, as they would go to Redis with no worker taking them: for tests
    of what a page or the API does before a worker has run (re-plans, dashboard figures)."""
    from django.core.cache import cache

    # The app reads the CELERY_-namespaced keys first (see set_eager): set both spellings.
    previous = {key: celery_app.conf.get(key) for key in ("CELERY_BROKER_URL", "broker_url")}
    celery_app.close()
    set_eager(False)
    celery_app.conf.update(CELERY_BROKER_URL="memory://", broker_url="memory://")
    yield
    celery_app.close()
    celery_app.conf.update(previous)
    cache.clear()  # locks a queued computation holds


@pytest.fixture(autouse=True)
def _no_priors_in_use_from_another_test():
    """The priors in use outlive a test in the cache (no expiry; customers.forecasting): another test's
    dealership may have had the same id, so each test starts with none to settle against."""
    from django.core.cache import cache

    from customers.forecasting import PRIORS_IN_USE_KEY, PRIORS_LEARNED_KEY, SEASONS_IN_USE_KEY

    cache.delete_many([PRIORS_IN_USE_KEY, PRIORS_LEARNED_KEY, SEASONS_IN_USE_KEY])


@pytest.fixture(autouse=True)
def _browser_test(request):
    """A browser test runs at a fixed, ticking moment, and nothing in its pages may be refused by the
    Content-Security-Policy (tests/browser.py says why and how)."""
    if request.node.get_closest_marker("browser") is None:
        yield
        return
    import time_machine

    from tests.browser import BROWSER_NOW, CSP_VIOLATIONS

    CSP_VIOLATIONS.clear()
    with time_machine.travel(BROWSER_NOW, tick=True):
        yield
    assert CSP_VIOLATIONS == [], CSP_VIOLATIONS


def set_eager(value: bool) -> None:
    # The app reads Django settings with the CELERY_ namespace: the namespaced key is the one it sees.
    celery_app.conf.update(CELERY_TASK_ALWAYS_EAGER=value, task_always_eager=value)


@pytest.fixture(autouse=True)
def _migration_data(request, django_db_blocker):
    """Roles, departments and the default program come from data migrations; a transactional test
    (live server, worker, concurrency) flushes them at its end, so they are put back before a test."""
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db", "live_server"} & set(
        request.fixturenames
    )
    if uses_db:
        request.getfixturevalue("django_db_setup")
        with django_db_blocker.unblock():
            restore_migration_data()


def restore_migration_data() -> None:
    from django.apps import apps

    from contacts.models import TouchpointTemplate

    if TouchpointTemplate.objects.exists():
        return
    for module, functions in [
        ("customers.migrations.0002_roles", ["create_roles"]),
        ("contacts.migrations.0002_departments_and_call_gap_exclusion", ["create_departments"]),
        ("contacts.migrations.0004_default_program", ["load_program"]),
        ("contacts.migrations.0012_configuration_template_versions", ["keep_current_versions"]),
        ("customers.migrations.0008_customer_temperature", ["create_roles"]),
        ("contacts.migrations.0015_handoff_pipeline", ["insurance_takes_handoffs"]),
    ]:
        loaded = importlib.import_module(module)
        for name in functions:
            getattr(loaded, name)(apps, None)


@pytest.fixture
def moscow(db) -> Dealership:
    return factories.DealershipFactory(code="msk", name="Москва-Юг", time_zone="Europe/Moscow")


@pytest.fixture
def yekaterinburg(db) -> Dealership:
    return factories.DealershipFactory(code="ekb", name="Екатеринбург", time_zone="Asia/Yekaterinburg")


@pytest.fixture
def agent(moscow):
    return factories.make_user("alice", "agent", dealerships=(moscow,))


@pytest.fixture
def other_agent(yekaterinburg):
    return factories.make_user("bob", "agent", dealerships=(yekaterinburg,))


@pytest.fixture
def supervisor(moscow, yekaterinburg):
    return factories.make_user("sue", "supervisor", dealerships=(moscow, yekaterinburg))


@pytest.fixture
def manager(moscow, yekaterinburg):
    return factories.make_user("mike", "manager", dealerships=(moscow, yekaterinburg))
