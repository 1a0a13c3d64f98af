from __future__ import annotations

import io

import pytest
import tablib
from django.core.management import CommandError, call_command
from django.urls import reverse

from customers import tasks
from customers.importing import ImportFileError, import_file
from customers.models import Customer, ImportBatch, OdometerReading, Sale, ServiceVisit, Vehicle

pytestmark = pytest.mark.django_db

CUSTOMERS = (
    "Код клиента;Фамилия;Имя;Отчество;Телефон;Дата рождения\n"
    "C-1;Иванов;Пётр;Сергеевич;8 (916) 123-45-67;20.06.1985\n"
    "C-2;Смирнова;Анна;;+7 926 000 11 22;\n"
)
VEHICLES = "VIN;Марка;Модель;Год выпуска;Госномер;Код клиента\nXTA21099043567891;Kia;Rio;2024;А123ВС 77;C-1\n"


def run(kind, text, dealership, *, dry_run=False, encoding="utf-8", name="file.csv"):
    return import_file(kind=kind, content=text.encode(encoding), file_name=name, dealership=dealership, dry_run=dry_run)


def test_customers_in_cp1251_with_russian_headers_are_imported(moscow):
    # when
    report = run("customers", CUSTOMERS, moscow, encoding="cp1251")
    # then
    assert (report.created, report.refused) == (2, [])
    ivanov = Customer.objects.get(external_id="C-1")
    assert (ivanov.phone, ivanov.birthday.isoformat(), ivanov.middle_name) == ("+79161234567", "1985-06-20", "Сергеевич")


def test_importing_the_same_file_twice_changes_nothing(moscow):
    run("customers", CUSTOMERS, moscow)
    second = run("customers", CUSTOMERS, moscow)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert Customer.objects.count() == 2


def test_a_changed_row_updates_and_an_empty_cell_never_erases(moscow):
    run("customers", CUSTOMERS, moscow)
    report = run("customers", "external_id;last_name;first_name;phone;birthday\nC-1;Иванов;Пётр;+7 916 999 88 77;\n", moscow)
    ivanov = Customer.objects.get(external_id="C-1")
    assert report.updated == 1
    assert ivanov.phone == "+79169998877"
    assert ivanov.birthday is not None  # the empty cell kept the stored birthday


def test_dry_run_reports_and_writes_nothing(moscow):
    report = run("customers", CUSTOMERS, moscow, dry_run=True)
    assert report.created == 2
    assert not Customer.objects.exists()


def test_bad_rows_are_refused_by_line_with_the_reason_and_good_rows_apply(moscow):
    # given
    run("customers", CUSTOMERS, moscow)
    text = (
        "VIN;Марка;Модель;Год;Владелец\n"
        "XTA21099043567891;Kia;Rio;2024;C-1\n"
        "XTAO1099043567891;Kia;Rio;2024;C-1\n"
        "XTA21099043567892;Kia;Rio;2024;C-77\n"
        "XTA21099043567891;Kia;Rio;2024;C-1\n"
    )
    # when
    report = run("vehicles", text, moscow)
    # then
    assert report.created == 1
    assert [(r["line"], r["reason"]) for r in report.refused] == [
        (3, "VIN XTAO1099043567891 is invalid: it must be 17 letters and digits, without I, O or Q."),
        (4, "customer C-77 is not in the database: import customers first"),
        (5, "line 5 repeats line 2"),
    ]
    assert list(Vehicle.objects.values_list("vin", flat=True)) == ["XTA21099043567891"]


def test_a_bad_date_is_refused_in_plain_words(moscow):
    run("customers", CUSTOMERS, moscow)
    run("vehicles", VEHICLES, moscow)
    report = run("sales", "external_id;vin;customer_id;sale_date\nS-1;XTA21099043567891;C-1;31.02.2025\n", moscow)
    assert report.refused[0]["reason"] == "date “31.02.2025” is not a valid date (use 31.12.2025 or 2025-12-31)"
    assert not Sale.objects.exists()


def test_a_file_without_a_required_column_is_refused_whole(moscow):
    with pytest.raises(ImportFileError, match="Missing column\\(s\\): vin"):
        run("vehicles", "Марка;Модель;Год\nKia;Rio;2024\n", moscow)


def test_sales_visits_and_readings_chain_and_queue_a_replan(moscow, django_capture_on_commit_callbacks):
    run("customers", CUSTOMERS, moscow)
    run("vehicles", VEHICLES, moscow)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sales = run("sales", "Номер договора;VIN;Клиент;Дата продажи;Тип;Пробег\nS-1;XTA21099043567891;C-1;15.01.2025;новый;0\n", moscow)
    visits = run("visits", "external_id;vin;date;odometer;kind\nV-1;XTA21099043567891;2025-11-20;15 020;ТО\n", moscow)
    readings = run("readings", "vin;date;km\nXTA21099043567891;01.06.2025;7 400\nXTA21099043567891;01.06.2025;7 400\n", moscow)
    assert (sales.created, visits.created, readings.created) == (1, 1, 1)
    assert readings.refused[0]["reason"] == "line 3 repeats line 2"
    assert ServiceVisit.objects.get().odometer_km == 15020
    assert OdometerReading.objects.count() == 2  # the visit's reading and the imported one
    assert len(callbacks) == 1


def test_xlsx_files_are_read(moscow):
    data = tablib.Dataset(headers=["external_id", "last_name", "first_name", "phone"])
    data.append(["X-1", "Петров", "Олег", "+79161112233"])
    report = import_file(kind="customers", content=data.export("xlsx"), file_name="c.xlsx", dealership=moscow, dry_run=False)
    assert report.created == 1


def test_ten_thousand_rows_through_the_task_with_progress(moscow, manager):
    # given
    lines = ["external_id;last_name;first_name;phone"] + [f"C{n};Фамилия{n};Имя;" for n in range(10_000)]
    batch = ImportBatch.objects.create(kind="customers", dealership=moscow, uploaded_by=manager, file_name="big.csv",
                                       file_content="\n".join(lines).encode(), is_dry_run=False)
    # when
    tasks.run_import(batch.pk)
    # then
    batch.refresh_from_db()
    assert (batch.status, batch.total_rows, batch.processed_rows, batch.created_count) == ("done", 10_000, 10_000, 10_000)
    assert Customer.objects.count() == 10_000


def test_upload_page_runs_a_dry_run_then_applies(client, manager, moscow, django_capture_on_commit_callbacks):
    client.force_login(manager)
    upload = io.BytesIO(CUSTOMERS.encode())
    upload.name = "customers.csv"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("customers:imports"), {"kind": "customers", "dealership": moscow.pk, "file": upload})
    preview = ImportBatch.objects.get()
    assert response.status_code == 302 and preview.status == "previewed" and not Customer.objects.exists()
    page = client.get(reverse("customers:import", args=[preview.pk])).content.decode()
    assert "would be created" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("customers:import_apply", args=[preview.pk]))
    assert Customer.objects.count() == 2


def test_agents_cannot_import(client, agent):
    client.force_login(agent)
    assert client.get(reverse("customers:imports")).status_code == 403


def test_import_data_command_dry_run(tmp_path, moscow, capsys):
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS + "C-3;;Иван;;;\n", encoding="utf-8")
    call_command("import_data", "customers", str(path), "--dealership", "msk", "--dry-run")
    out = capsys.readouterr().out
    assert "3 rows: 2 would be created" in out and "line 4: last_name is empty" in out
    assert not Customer.objects.exists()
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_data", "customers", str(tmp_path / "missing.csv"), "--dealership", "msk")


def test_new_customers_are_drawn_into_the_hold_out_group_at_the_dealerships_share(moscow):
    # given: the default 5 % share
    lines = ["external_id;last_name;first_name"] + [f"H{n};Фамилия;Имя" for n in range(4000)]
    # when
    run("customers", "\n".join(lines), moscow)
    # then
    held = Customer.objects.filter(is_holdout=True).count()
    assert 140 <= held <= 260
