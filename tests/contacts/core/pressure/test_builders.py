"""The resolver's fast output builders (contacts/core/pressure/builders.py).

Pure: no database. Runs under the project's pytest setup, or on its own with
``-p no:django --noconftest`` (tests/conftest.py imports Django models). Today is Sunday 2026-11-22
unless a test says otherwise.
"""

from __future__ import annotations

import dataclasses

import pytest

from contacts.core.pressure import (
    CallPlan,
    Decision,
    MessagePlan,
)
from contacts.core.pressure.builders import _call, _decision, _message
from tests.contacts.core.pressure.helpers import (
    day,
    message,
)


def test_fast_builders_make_objects_equal_to_the_dataclass_constructors() -> None:
    # given
    item = message(1, "2026-11-24")
    on = day("2026-11-25")

    # when / then
    assert _decision(1, "deferred", "deferred:weekend", on, "d") == Decision(
        1, "deferred", "deferred:weekend", on, "d"
    )
    assert _call("c:1", 1, on, on, on, (item,), True) == CallPlan("c:1", 1, on, on, on, (item,), True)
    assert _message(item, on) == MessagePlan(1, 1, "sms", on, item.window_start, item.window_end, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        _decision(1, "placed", "placed", on, "").reason = "changed"
