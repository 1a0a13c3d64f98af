"""``manage.py import_data`` (customers.management.commands.import_data)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from customers.models import Customer, ImportBatch
from tests.customers.importing.helpers import CUSTOMERS

pytestmark = pytest.mark.django_db


def test_the_command_dry_run_prints_every_refused_line_and_writes_nothing(tmp_path, moscow, capsys):
    # given
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS + "C-3;;Олег;;;;\n", encoding="cp1251")
    # when
    call_command("import_data", "customers", str(path), "--dealership", "msk", "--dry-run")
    # then
    out = capsys.readouterr().out.splitlines()
    batch = ImportBatch.objects.get()
    assert out == [
        "3 rows: 2 would be created, 0 would be updated, 0 unchanged, 1 refused.",
        "  line 4: last name is empty",
        f"Import #{batch.pk} (Previewed (dry run)).",
    ]
    assert not Customer.objects.exists()


def test_the_command_imports_and_refuses_bad_arguments(tmp_path, moscow, yekaterinburg, capsys):
    # given
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")
    # when
    call_command("import_data", "customers", str(path), "--dealership", "ekb")
    # then
    assert capsys.readouterr().out.startswith("2 rows: 2 were created, 0 were updated, 0 unchanged, 0 refused.")
    assert Customer.objects.filter(dealership=yekaterinburg).count() == 2
    with pytest.raises(CommandError, match="Give --dealership CODE \\(one of: ekb, msk\\)."):
        call_command("import_data", "customers", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_data", "customers", str(tmp_path / "missing.csv"), "--dealership", "msk")
    with pytest.raises(CommandError, match="Missing columns: vin \\(VIN\\), make"):
        call_command("import_data", "vehicles", str(path), "--dealership", "msk")
