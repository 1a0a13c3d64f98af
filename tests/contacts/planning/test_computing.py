"""The plan in memory and the fingerprint of a vehicle's inputs (contacts.planning.computing)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from contacts.models import TouchpointTemplate

pytestmark = pytest.mark.django_db


def test_default_program_is_installed_by_the_migration():
    codes = set(TouchpointTemplate.objects.values_list("code", flat=True))
    assert {"thank_you", "service_invite", "service_reminder", "tyre_season", "birthday", "keep_alive"} <= codes
    assert all(t.script_en and t.script_ru for t in TouchpointTemplate.objects.all())


FINGERPRINT_OF_A_HAND_BUILT_CAR = """
import datetime as dt
from contacts.planning.computing import fingerprint
from contacts.planning.facts import ChunkFacts
from customers.forecasting import SaleRow, VehicleRow
car = VehicleRow(7, 1, "Kia", "Rio", None, None)
facts = ChunkFacts(vehicles=[car], owner_of={7: 3}, is_active={7: True}, warranty={7: (36, 100000)},
                   birthday={3: dt.date(1985, 6, 20)})
facts.sales[7].append(SaleRow(3, dt.date(2025, 1, 15), "new", 0))
facts.visits[7].append(("maintenance", dt.date(2026, 1, 20), 15200))
facts.readings[7].append((11, dt.date(2025, 1, 15), 0))
print(fingerprint(facts, car, seasons=((3, 20), (10, 5)), prior=1450.0, common="templates"))
"""


def test_the_fingerprint_is_the_same_in_another_process():
    """Digests come from repr and blake2b, not hash(): a worker with another PYTHONHASHSEED agrees."""
    import contextlib
    import io
    import os
    import subprocess
    import sys

    here = io.StringIO()
    with contextlib.redirect_stdout(here):
        exec(FINGERPRINT_OF_A_HAND_BUILT_CAR, {})  # noqa: S102 - the test's own fixed source
    setup = "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'clm.settings'); django.setup()\n"
    there = subprocess.run(
        [sys.executable, "-c", setup + FINGERPRINT_OF_A_HAND_BUILT_CAR],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "12345"},
    ).stdout
    assert int(there.strip().splitlines()[-1]) == int(here.getvalue().strip())


def test_show_plan_reference_prints_the_36_touchpoints(capsys):
    # when
    call_command("show_plan", "--reference", "--json")
    # then
    import json

    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 36
    assert sum(1 for r in rows if r["channel"] == "call") == 21
    assert {"code", "date", "window_start", "window_end", "department", "channel"} <= set(rows[0])
    assert rows[0]["code"] == "thank_you" and rows[0]["date"] == "2025-01-16"
