"""Fixtures shared by the call-centre page tests."""

from __future__ import annotations

import pytest
import time_machine

from tests.contacts.calls.helpers import NOW


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield
