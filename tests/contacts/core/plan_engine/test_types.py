"""The plan engine's inputs checked (contacts/core/plan_engine/types.py). No database, no Django."""

from __future__ import annotations

import pytest

from tests.contacts.core.plan_engine.helpers import _tpl


def test_template_rejects_a_recurrence_its_anchor_does_not_allow() -> None:
    # given / when / then
    with pytest.raises(ValueError, match="allows recurrence"):
        _tpl(anchor="birthday", recurrence="once")


def test_template_rejects_a_window_that_does_not_contain_its_date() -> None:
    # given / when / then
    with pytest.raises(ValueError, match="window"):
        _tpl(window_start_days=1)
