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


def test_the_forecast_knows_every_due_driver_of_the_model_and_its_sources_fit_the_column():
    from typing import get_args

    from customers.core import due_dates, mileage
    from customers.models import VehicleForecast

    assert set(get_args(due_dates.Driver)) == set(VehicleForecast.Driver.values)
    source_length = VehicleForecast._meta.get_field("source").max_length
    assert all(len(source) <= source_length for source in get_args(mileage.Source))


def test_the_default_program_uses_only_the_models_choices():
    from contacts.core.program import DEFAULT_PROGRAM
    from contacts.models import Department, TouchpointTemplate

    code_length = TouchpointTemplate._meta.get_field("code").max_length
    for spec in DEFAULT_PROGRAM:
        assert spec.anchor in Anchor.values, spec.code
        assert spec.recurrence in Recurrence.values, spec.code
        assert spec.phase in Phase.values, spec.code
        assert spec.channel in Channel.values, spec.code
        assert set(spec.sale_kinds) <= set(Sale.Kind.values), spec.code
        assert spec.department in DEPARTMENTS, spec.code
        assert len(spec.code) <= code_length, spec.code
    department_length = Department._meta.get_field("code").max_length
    assert all(len(code) <= department_length for code in DEPARTMENTS)


def test_the_reached_outcomes_are_call_outcomes():
    from contacts.models import REACHED_OUTCOMES, CallAttempt

    assert REACHED_OUTCOMES <= set(CallAttempt.Outcome.values)
    assert CallAttempt.Outcome.NO_ANSWER not in REACHED_OUTCOMES
    assert CallAttempt.Outcome.WRONG_NUMBER not in REACHED_OUTCOMES


def _in_lookups(condition):
    """The ``field__in=[...]`` terms of a constraint's condition, at any depth."""
    for child in condition.children:
        if isinstance(child, tuple):
            lookup, value = child
            if lookup.endswith("__in"):
                yield lookup.removesuffix("__in"), value
        else:
            yield from _in_lookups(child)


def test_every_check_constraint_on_a_choice_field_admits_exactly_its_choices():
    from django.apps import apps
    from django.db.models import CheckConstraint

    checked = []
    for label in ("customers", "contacts"):
        for model in apps.get_app_config(label).get_models():
            for constraint in model._meta.constraints:
                if not isinstance(constraint, CheckConstraint):
                    continue
                for name, values in _in_lookups(constraint.condition):
                    field = model._meta.get_field(name)
                    if field.choices:
                        assert set(values) == {value for value, _label in field.choices}, constraint.name
                        checked.append(constraint.name)
    # The status, kind, channel and source checks of both apps (a new one is picked up by itself).
    assert len(checked) >= 12


def test_the_consent_rules_know_every_purpose_of_the_model_and_every_department_has_a_purpose():
    from contacts.core.purposes import PURPOSE_BY_DEPARTMENT
    from customers.core.consent import ALL, PURPOSES
    from customers.models import Purpose

    assert {*PURPOSES, ALL} == set(Purpose.values)
    assert set(PURPOSE_BY_DEPARTMENT) == set(DEPARTMENTS)
