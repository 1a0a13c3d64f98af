"""The planner's output (contacts/core/plan_engine/planner.py): ordinary frozen ``PlannedTouchpoint``s. No database, no Django."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from contacts.core.plan_engine import (
    PlannedTouchpoint,
    plan_vehicle,
    reference_vehicle_facts,
)
from contacts.core.program import (
    DEFAULT_PROGRAM,
)
from tests.contacts.core.plan_engine.helpers import D


def test_planned_touchpoints_are_ordinary_frozen_dataclass_instances() -> None:
    # given
    tp = plan_vehicle(DEFAULT_PROGRAM, reference_vehicle_facts())[0]
    # when
    rebuilt = PlannedTouchpoint(
        **{f.name: getattr(tp, f.name) for f in dataclasses.fields(PlannedTouchpoint)}
    )
    # then
    assert type(tp) is PlannedTouchpoint
    assert tp == rebuilt
    assert hash(tp) == hash(rebuilt)
    assert pickle.loads(pickle.dumps(tp)) == tp
    assert dataclasses.replace(tp, occurrence=2).occurrence == 2
    assert tp.key == (1, "thank_you", D(2025, 1, 15), 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        tp.code = "other"  # type: ignore[misc]
