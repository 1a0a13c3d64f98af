"""Templates compiled for planning (contacts/core/plan_engine/rules.py). No database, no Django."""

from __future__ import annotations

import pytest

from contacts.core.plan_engine import (
    plan_vehicle,
)
from tests.contacts.core.plan_engine.helpers import _facts, _tpl


def test_duplicate_template_codes_are_rejected() -> None:
    # given
    templates = [_tpl(), _tpl(offset_days=3)]
    # when / then
    with pytest.raises(ValueError, match="duplicate template code"):
        plan_vehicle(templates, _facts())
