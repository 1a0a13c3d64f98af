"""The pure core spells the models' choices as plain literals (it imports no Django); these tests keep
the two in step, so that a new choice on one side cannot be silently unknown to the other."""

from __future__ import annotations

from contacts.core import plan_engine, pressure
from contacts.core.departments import DEPARTMENT_PRIORITY, DEPARTMENTS
from contacts.models import Anchor, Phase, Recurrence
from customers.models import Channel, Sale


def test_the_plan_engine_knows_every_anchor_recurrence_phase_and_channel_of_the_models():
    assert set(plan_engine.ANCHORS) == set(Anchor.values)
    assert set(plan_engine.RECURRENCES) == set(Recurrence.values)
    assert set(plan_engine.PHASES) == set(Phase.values)
    assert set(plan_engine.CHANNELS) == set(Channel.values)
    assert set(plan_engine.ANCHOR_RECURRENCES) == set(Anchor.values)


def test_the_resolver_knows_every_channel_of_the_models():
    assert pressure.CHANNELS == set(Channel.values)
    assert {pressure.CALL, pressure.SMS, pressure.EMAIL} == {Channel.CALL, Channel.SMS, Channel.EMAIL}


def test_the_plan_engine_knows_every_kind_of_sale():
    from typing import get_args

    assert set(get_args(plan_engine.SaleKind)) == set(Sale.Kind.values)


def test_every_department_has_a_priority():
    assert set(DEPARTMENTS) == set(DEPARTMENT_PRIORITY)
