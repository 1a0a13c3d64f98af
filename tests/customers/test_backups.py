"""manage.py backup / restore: a round trip gives the same data, on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from customers.models import Customer
from tests import factories


def everything() -> str:
    out = io.StringIO()
    call_command("dumpdata", "--indent", "0", "--exclude", "sessions", stdout=out)
    return out.getvalue()


def _round_trip(tmp_path: Path, moscow) -> None:
    # given: customers, cars, sales, visits
    for _ in range(3):
        sale = factories.SaleFactory(vehicle__owner__dealership=moscow)
        factories.ServiceVisitFactory(vehicle=sale.vehicle)
    before = everything()
    path = tmp_path / "clm.backup"
    # when: a backup, then changes, then the restore
    call_command("backup", str(path), stdout=io.StringIO())
    Customer.objects.filter(pk=Customer.objects.order_by("pk").first().pk).update(last_name="Changed")
    factories.SaleFactory(vehicle__owner__dealership=moscow)
    assert everything() != before
    call_command("restore", str(path), "--yes", stdout=io.StringIO())
    # then: the data is what it was at the backup
    assert everything() == before
    assert Customer.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_the_same_data_on_sqlite(tmp_path, moscow):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite round trip (the PostgreSQL one is below)")
    _round_trip(tmp_path, moscow)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_the_same_data_on_postgresql(tmp_path, moscow):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    _round_trip(tmp_path, moscow)


@pytest.mark.django_db
def test_restore_refuses_a_file_that_is_no_backup(tmp_path):
    path = tmp_path / "not-a-backup"
    path.write_text("hello")
    with pytest.raises(CommandError, match="is not a"):
        call_command("restore", str(path), "--yes")
    with pytest.raises(CommandError, match="There is no file"):
        call_command("restore", str(tmp_path / "missing"), "--yes")
