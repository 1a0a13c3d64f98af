"""With Redis down: the API answers (its rate limit fails open, logged), an upload that cannot be queued
says so and can be retried from the page, and an import never stays "waiting" or "running" for ever.

These tests start their own redis-server on a port of their own and stop it to make Redis go down;
they never touch a Redis that other processes use."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clm.celery import app as celery_app
from customers.models import Customer, ImportBatch
from tests import factories
from tests.conftest import set_eager

pytestmark = pytest.mark.django_db
PORT = 6391
CUSTOMERS = "Код клиента;Фамилия;Имя;Телефон\nC-1;Иванов;Пётр;8 916 123-45-67\nC-2;Смирнова;Анна;+7 926 000 11 22\n"


class OwnRedis:
    """A redis-server of the test's own, without persistence, that the test can stop and start."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis(settings) -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = OwnRedis(PORT)
    redis.start()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis.url,
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2}}}
    yield redis
    redis.stop()


@pytest.fixture
def broker_on_own_redis(own_redis) -> Iterator[OwnRedis]:
    """Tasks go to the test's own Redis, as in production, and no worker takes them."""
    previous = {key: celery_app.conf.get(key) for key in ("CELERY_BROKER_URL", "broker_url")}
    _forget_broker_connections()
    set_eager(False)
    celery_app.conf.update(CELERY_BROKER_URL=own_redis.url, broker_url=own_redis.url)
    yield own_redis
    _forget_broker_connections()
    celery_app.conf.update(previous)


def _forget_broker_connections() -> None:
    # app.close() drops the connection pool but not the producer pool built on it, which would keep
    # publishing to the broker an earlier test used.
    celery_app.close()
    celery_app.amqp._producer_pool = None


def test_the_api_answers_with_redis_down_and_logs_it(client, moscow, own_redis, caplog):
    # given: a token user, and a first call counted by the rate limit while Redis is up
    user = factories.make_user("integration", "manager", dealerships=(moscow,))
    factories.CustomerFactory(dealership=moscow, external_id="C-1")
    headers = {"Authorization": f"Token {factories.api_token(user)}"}
    assert client.get(reverse("api-customers"), headers=headers).status_code == 200
    # when
    own_redis.stop()
    response = client.get(reverse("api-customers"), headers=headers)
    # then
    assert response.status_code == 200
    assert [row["external_id"] for row in response.json()["results"]] == ["C-1"]
    assert "API rate limit not applied: the cache is unavailable" in caplog.text


def _upload(client, moscow, language: str = "ru"):
    upload = SimpleUploadedFile("customers.csv", CUSTOMERS.encode(), content_type="text/csv")
    return client.post(reverse("customers:imports"), {"kind": "customers", "dealership": moscow.pk, "file": upload},
                       headers={"Accept-Language": language})


def test_an_upload_that_cannot_be_queued_says_so_and_is_retried_from_the_page(client, manager, moscow, broker_on_own_redis,
                                                                              caplog):
    # given: the broker is down
    client.force_login(manager)
    broker_on_own_redis.stop()
    # when
    response = _upload(client, moscow)
    # then: the file is kept, marked not queued, and the page says so in the user's language
    batch = ImportBatch.objects.get()
    assert batch.status == "unqueued"
    assert response.status_code == 302
    page = client.get(reverse("customers:import", args=[batch.pk]), headers={"Accept-Language": "ru"}).content.decode()
    assert "не удалось поставить в очередь" in page
    assert reverse("customers:import_retry", args=[batch.pk]) in page
    assert 'hx-trigger="every 1s"' not in page
    # when: the broker is back and the user retries
    broker_on_own_redis.start()
    client.post(reverse("customers:import_retry", args=[batch.pk]))
    # then: it is queued (waiting for a worker), no longer "not queued"
    batch.refresh_from_db()
    assert batch.status == "pending", caplog.text


def test_a_retry_with_the_broker_still_down_stays_retryable(client, manager, moscow, broker_on_own_redis):
    client.force_login(manager)
    broker_on_own_redis.stop()
    _upload(client, moscow)
    batch = ImportBatch.objects.get()
    client.post(reverse("customers:import_retry", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == "unqueued"


def test_a_waiting_import_with_no_worker_is_shown_stalled_after_five_minutes_and_runs_on_retry(client, manager, moscow):
    # given: a file queued at 10:00 that no worker took
    client.force_login(manager)
    start = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        batch = ImportBatch.objects.create(kind="customers", dealership=moscow, uploaded_by=manager, file_name="c.csv",
                                           file_content=CUSTOMERS.encode(), progressed_at=start)
    url = reverse("customers:import", args=[batch.pk])
    # when / then: at 10:04 it is still waiting; at 10:06 it is stalled, with a retry
    with time_machine.travel(start + dt.timedelta(minutes=4), tick=False):
        waiting = client.get(url, headers={"Accept-Language": "en"}).content.decode()
    with time_machine.travel(start + dt.timedelta(minutes=6), tick=False):
        stalled = client.get(url, headers={"Accept-Language": "en"}).content.decode()
        history = client.get(reverse("customers:imports"), headers={"Accept-Language": "en"}).content.decode()
        client.post(reverse("customers:import_retry", args=[batch.pk]))
    assert 'hx-trigger="every 1s"' in waiting and "has stalled" not in waiting
    assert "The import has stalled" in stalled and 'hx-trigger="every 1s"' not in stalled
    assert "Stalled: retry" in history
    batch.refresh_from_db()
    assert batch.status == "previewed" and batch.created_count == 2


def test_an_apply_killed_half_way_is_finished_from_the_page(client, manager, moscow):
    # given: an apply whose worker died after writing the first customer (progress 1 of 2, an hour ago)
    client.force_login(manager)
    factories.CustomerFactory(dealership=moscow, external_id="C-1", last_name="Иванов", first_name="Пётр",
                              phone="+79161234567", birthday=None)
    hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    batch = ImportBatch.objects.create(kind="customers", dealership=moscow, uploaded_by=manager, file_name="c.csv",
                                       file_content=CUSTOMERS.encode(), is_dry_run=False, status="running",
                                       total_rows=2, processed_rows=1, progressed_at=hour_ago)
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=hour_ago)
    # when
    page = client.get(reverse("customers:import", args=[batch.pk]), headers={"Accept-Language": "en"}).content.decode()
    client.post(reverse("customers:import_retry", args=[batch.pk]))
    # then: the rest is written, what was written stays as it was
    assert "The import has stalled" in page and "1 of 2 rows" in page
    batch.refresh_from_db()
    assert (batch.status, batch.created_count, batch.unchanged_count) == ("done", 1, 1)
    assert sorted(Customer.objects.values_list("external_id", flat=True)) == ["C-1", "C-2"]


def test_a_finished_import_cannot_be_retried(client, manager, moscow):
    client.force_login(manager)
    batch = ImportBatch.objects.create(kind="customers", dealership=moscow, uploaded_by=manager, file_name="c.csv",
                                       file_content=CUSTOMERS.encode(), status="done")
    client.post(reverse("customers:import_retry", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == "done" and not Customer.objects.exists()
