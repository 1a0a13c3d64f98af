"""The Imports page: dry run, apply, progress, refused rows, templates, history, who may import (customers.import_views)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse

from customers import tasks
from customers.models import Customer, ImportBatch
from tests import factories
from tests.customers.importing.helpers import CUSTOMERS

pytestmark = pytest.mark.django_db


def upload(client, kind, text, dealership, name="file.csv"):
    content = io.BytesIO(text.encode())
    content.name = name
    return client.post(reverse("customers:imports"), {"kind": kind, "dealership": dealership.pk, "file": content})


def test_an_upload_is_dry_run_first_then_applied(client, manager, moscow, django_capture_on_commit_callbacks):
    # given
    client.force_login(manager)
    # when: the upload runs the dry run
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, "customers", CUSTOMERS + "C-3;;Олег;;;\n", moscow)
    batch = ImportBatch.objects.get()
    preview = client.get(reverse("customers:import", args=[batch.pk])).content.decode()
    # then
    assert response.status_code == 302
    assert (batch.status, batch.is_dry_run, batch.created_count, batch.refused_count) == ("previewed", True, 2, 1)
    assert not Customer.objects.exists()
    assert "would be created" in preview and "line 4: last name is empty" in preview
    # when: applied
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("customers:import_apply", args=[batch.pk]))
    # then
    batch.refresh_from_db()
    assert (batch.status, batch.is_dry_run, batch.created_count) == ("done", False, 2)
    assert Customer.objects.count() == 2


def test_applying_twice_runs_the_import_once(client, manager, moscow, tasks_queued_not_run):
    # given: a previewed batch
    from celery.signals import before_task_publish

    client.force_login(manager)
    batch = ImportBatch.objects.create(kind="customers", dealership=moscow, uploaded_by=manager, file_name="c.csv",
                                       file_content=CUSTOMERS.encode(), status="previewed")
    published: list[tuple[str, tuple]] = []

    def record(sender, body, **kwargs):
        published.append((sender, tuple(body[0])))

    before_task_publish.connect(record)
    # when
    try:
        client.post(reverse("customers:import_apply", args=[batch.pk]))
        client.post(reverse("customers:import_apply", args=[batch.pk]))
    finally:
        before_task_publish.disconnect(record)
    # then
    assert published == [("customers.tasks.run_import", (batch.pk,))]


def test_the_progress_partial_polls_while_running_and_stops_when_done(client, manager, moscow):
    # given
    client.force_login(manager)
    batch = ImportBatch.objects.create(kind="customers", dealership=moscow, uploaded_by=manager, file_name="c.csv",
                                       file_content=b"", status="running", total_rows=8000, processed_rows=2000)
    url = reverse("customers:import", args=[batch.pk])
    # when
    running = client.get(url, headers={"HX-Request": "true"}).content.decode()
    ImportBatch.objects.filter(pk=batch.pk).update(status="done", processed_rows=8000, created_count=8000)
    done = client.get(url, headers={"HX-Request": "true"}).content.decode()
    # then
    assert 'hx-trigger="every 1s"' in running and "2000 of 8000 rows (25 %)" in running
    assert "<html" not in running
    assert 'hx-trigger' not in done and "Applied." in done


def test_the_refused_rows_download_has_the_original_columns_plus_line_and_error(client, manager, moscow):
    # given
    client.force_login(manager)
    text = "Код клиента;Фамилия;Имя;Цвет глаз\nR-1;Иванов;Пётр;серый\nR-2;;Анна;карий\n"
    batch = ImportBatch.objects.create(kind="customers", dealership=moscow, uploaded_by=manager, file_name="c.csv",
                                       file_content=text.encode("cp1251"), is_dry_run=True)
    tasks.run_import(batch.pk)
    # when
    response = client.get(reverse("customers:import_refused", args=[batch.pk]))
    # then
    assert response["Content-Disposition"] == f'attachment; filename="refused-customers-{batch.pk}.csv"'
    assert response.content.decode("utf-8-sig").splitlines() == [
        "Код клиента,Фамилия,Имя,Цвет глаз,Line,Error",
        "R-2,,Анна,карий,3,last name is empty",
    ]
    # and for a Russian reader, as Russian Excel splits it
    russian = client.get(reverse("customers:import_refused", args=[batch.pk]), headers={"Accept-Language": "ru"})
    assert russian.content.decode("utf-8-sig").splitlines()[0] == "Код клиента;Фамилия;Имя;Цвет глаз;Строка;Ошибка"


def test_each_kind_has_a_template_with_its_columns(client, manager):
    # given
    client.force_login(manager)
    # when
    response = client.get(reverse("customers:import_template", args=["sales"]))
    # then
    assert response.content.decode("utf-8-sig").strip() == (
        "external_id,vin,customer_external_id,sold_on,kind,odometer_km,salesperson")


def test_the_history_lists_imports_of_the_users_dealerships_only(client, moscow, yekaterinburg):
    # given
    ekb_manager = factories.make_user("eva", "manager", dealerships=(yekaterinburg,))
    ImportBatch.objects.create(kind="customers", dealership=moscow, file_name="moscow.csv", file_content=b"")
    theirs = ImportBatch.objects.create(kind="sales", dealership=yekaterinburg, uploaded_by=ekb_manager,
                                        file_name="ekb-sales.csv", file_content=b"")
    mine = ImportBatch.objects.filter(dealership=moscow).get()
    client.force_login(ekb_manager)
    # when
    page = client.get(reverse("customers:imports")).content.decode()
    # then
    assert "ekb-sales.csv" in page and "moscow.csv" not in page
    assert client.get(reverse("customers:import", args=[mine.pk])).status_code == 404
    assert client.get(reverse("customers:import", args=[theirs.pk])).status_code == 200


def test_the_history_says_when_in_the_dealerships_time_and_who_by_name(client, moscow, yekaterinburg):
    # given: an import uploaded at 07:30 UTC by Eva Orlova for Yekaterinburg (UTC+5)
    eva = factories.make_user("eva", "manager", dealerships=(yekaterinburg,))
    eva.first_name, eva.last_name = "Eva", "Orlova"
    eva.save()
    batch = ImportBatch.objects.create(kind="sales", dealership=yekaterinburg, uploaded_by=eva,
                                       file_name="ekb-sales.csv", file_content=b"")
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=dt.datetime(2026, 12, 1, 7, 30, tzinfo=dt.UTC))
    client.force_login(eva)
    # when
    page = client.get(reverse("customers:imports")).content.decode()
    # then
    assert ">01.12.2026 12:30</a>" in page and "07:30" not in page
    assert "<td>Eva Orlova</td>" in page


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_only_managers_and_admins_may_import(client, moscow, role):
    # given
    client.force_login(factories.make_user("someone", role, dealerships=(moscow,)))
    # when
    response = upload(client, "customers", CUSTOMERS, moscow)
    # then
    assert response.status_code == 403
    assert client.get(reverse("customers:imports")).status_code == 403
    assert not ImportBatch.objects.exists()


def test_an_upload_of_another_file_type_is_refused_by_the_form(client, manager, moscow):
    # given
    client.force_login(manager)
    # when
    response = upload(client, "customers", CUSTOMERS, moscow, name="customers.pdf")
    # then
    assert response.status_code == 200
    assert "Upload a .csv or .xlsx file." in response.content.decode()
    assert not ImportBatch.objects.exists()
