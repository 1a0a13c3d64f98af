"""What an import or its dry run reports (customers.importing.report)."""

from __future__ import annotations

import pytest

from customers.models import Customer
from tests.customers.importing.helpers import CUSTOMERS, counts, reasons, run

pytestmark = pytest.mark.django_db


def test_the_dry_run_counts_and_refuses_like_the_real_run_and_writes_nothing(moscow, django_capture_on_commit_callbacks):
    # given
    text = CUSTOMERS + "C-3;;Олег;;;\n"
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = run("customers", text, moscow, dry_run=True)
    # then
    assert counts(report) == (2, 0, 0, 1)
    assert reasons(report) == [(4, "last name is empty")]
    assert not Customer.objects.exists()
    assert callbacks == []
