"""An import end to end: repeated rows merged or refused across windows, a stored batch through the task (customers.importing.flows, customers.tasks)."""

from __future__ import annotations

import pytest
from django.db import connection

from customers import importing, tasks
from customers.models import Customer, ImportBatch
from tests.customers.importing.helpers import (
    CP1251_FILES,
    CUSTOMERS,
    counts,
    reasons,
    run,
)

pytestmark = pytest.mark.django_db


def test_identical_duplicate_rows_are_merged_and_different_ones_are_refused(moscow):
    # given: line 4 repeats line 2 exactly (the phone written differently), line 5 repeats line 3 with another name
    text = (
        "external_id;last_name;first_name;phone\n"
        "D-1;Иванов;Пётр;8 916 123-45-67\n"
        "D-2;Петров;Иван;\n"
        "D-1;Иванов;Пётр;+79161234567\n"
        "D-2;Петров;Илья;\n"
    )
    # when
    report = run("customers", text, moscow)
    # then
    assert counts(report) == (2, 0, 1, 1)
    assert report.merged == [(4, 2)]
    assert reasons(report) == [(5, "line 5 repeats line 3 with different values")]
    assert Customer.objects.get(external_id="D-2").first_name == "Иван"


def test_a_large_file_is_processed_in_windows_and_repeats_are_found_across_them(moscow, monkeypatch):
    # given: windows of two rows; line 4 repeats line 2 exactly, line 5 repeats line 3 with another first name
    monkeypatch.setattr(importing.flows, "WINDOW_ROWS", 2)
    text = "external_id;last_name;first_name\nW-1;Аа;Бб\nW-2;Вв;Гг\nW-1;Аа;Бб\nW-2;Вв;Дд\nW-3;Ее;Жж\n"
    # when
    report = run("customers", text, moscow)
    # then
    assert counts(report) == (3, 0, 1, 1)
    assert (report.merged, reasons(report)) == ([(4, 2)], [(5, "line 5 repeats line 3 with different values")])


@pytest.mark.parametrize("kind", list(CP1251_FILES))
def test_every_kind_merges_an_identical_repeated_row_and_refuses_a_different_one(two_customers_two_cars, moscow, kind):
    # given: line 3 repeats line 2; line 4 has line 2's key with another (valid) value
    text, _column = CP1251_FILES[kind]
    header, row = text.splitlines()
    changed = {"customers": row.replace("Семён", "Семен"), "vehicles": row.replace("2023", "2024"),
               "sales": row.replace("Трейд-ин", "Новый"), "visits": row.replace("Шиномонтаж", "ТО"),
               "readings": row + ";звонок"}[kind]
    header = header + (";Источник" if kind == "readings" else "")
    # when
    report = run(kind, "\n".join([header, row, row, changed]), moscow)
    # then
    assert counts(report) == (1, 0, 1, 1)
    assert (report.merged, reasons(report)) == ([(3, 2)], [(4, "line 4 repeats line 2 with different values")])


def test_ten_thousand_rows_through_the_task_reach_full_progress(moscow, manager):
    # given
    lines = ["Код клиента;Фамилия;Имя;Телефон"] + [f"C{n};Фамилия{n};Имя;+7 916 {n:07d}" for n in range(10_000)]
    batch = ImportBatch.objects.create(kind="customers", dealership=moscow, uploaded_by=manager, file_name="big.csv",
                                       file_content="\n".join(lines).encode("cp1251"), is_dry_run=False)
    progress: list[int] = []

    def record_progress(execute, sql, params, many, context):
        if sql.startswith('UPDATE "customers_importbatch" SET "processed_rows"'):
            progress.append(params[0])
        return execute(sql, params, many, context)

    # when
    with connection.execute_wrapper(record_progress):
        result = tasks.run_import(batch.pk)
    # then
    batch.refresh_from_db()
    assert result == "done"
    assert (batch.status, batch.total_rows, batch.processed_rows, batch.created_count, batch.refused_count) == (
        "done", 10_000, 10_000, 10_000, 0)
    assert progress == [2000, 4000, 6000, 8000, 10_000]
    assert Customer.objects.count() == 10_000


def test_a_refused_file_fails_its_batch_with_the_reason(moscow, manager):
    # given
    batch = ImportBatch.objects.create(kind="sales", dealership=moscow, uploaded_by=manager, file_name="sales.csv",
                                       file_content="vin;дата\n".encode(), is_dry_run=True)
    # when
    result = tasks.run_import(batch.pk)
    # then
    batch.refresh_from_db()
    assert (result, batch.status) == ("refused", "failed")
    assert batch.error.startswith("Missing columns: external_id (external id), customer_external_id (customer).")


def test_nul_characters_in_cells_and_headers_are_refused_and_stored_without_them(moscow, manager):
    # given: PostgreSQL cannot store a NUL character in text or jsonb
    text = "Код клиента;Фамилия;Имя;Прим\x00ечание\nN-1;Ив\x00анов;Пётр;x\nN-2;Петров;Иван;\n"
    batch = ImportBatch.objects.create(kind="customers", dealership=moscow, uploaded_by=manager, file_name="nul.csv",
                                       file_content=text.encode(), is_dry_run=False)
    # when
    tasks.run_import(batch.pk)
    # then
    batch.refresh_from_db()
    assert (batch.status, batch.created_count, batch.refused_count) == ("done", 1, 1)
    assert batch.refused_rows == [{"line": 2, "reason": "last name contains a NUL character",
                                   "row": {"external_id": "N-1", "last_name": "Иванов", "first_name": "Пётр"}}]


def test_a_finished_batch_is_not_run_again(moscow, manager):
    # given
    batch = ImportBatch.objects.create(kind="customers", dealership=moscow, uploaded_by=manager, file_name="c.csv",
                                       file_content=CUSTOMERS.encode(), is_dry_run=False, status="done")
    # when
    result = tasks.run_import(batch.pk)
    # then
    assert result == "skipped"
    assert not Customer.objects.exists()
