"""The resolver's inputs (contacts/core/pressure/types.py).

Pure: no database. Runs under the project's pytest setup, or on its own with
``-p no:django --noconftest`` (tests/conftest.py imports Django models). Today is Sunday 2026-11-22
unless a test says otherwise.
"""

from __future__ import annotations

import pytest

from contacts.core.pressure import (
    Rules,
)


def test_rejects_negative_rules() -> None:
    # when / then
    with pytest.raises(ValueError, match="min_days_between_calls"):
        Rules(min_days_between_calls=-1)
    with pytest.raises(ValueError, match="working_weekdays"):
        Rules(working_weekdays=frozenset({7}))
