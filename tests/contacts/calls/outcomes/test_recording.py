"""Recording an outcome: once, and dispatched to one writer (contacts.calls.outcomes.recording)."""

from __future__ import annotations

import pytest

from contacts import calls
from contacts.models import CallAttempt
from tests.contacts.calls.helpers import claimed, record

pytestmark = pytest.mark.django_db


def test_an_outcome_is_recorded_once(moscow, agent):
    task = claimed(moscow, agent)
    record(task, agent, "reached")
    with pytest.raises(calls.OutcomeError, match="already closed"):
        record(task, agent, "reached")
    assert CallAttempt.objects.count() == 1


def test_every_outcome_has_one_writer_and_only_detailed_outcomes_have_checks():
    from contacts.calls.outcomes import validate, writers

    assert set(writers.WRITERS) == set(CallAttempt.Outcome.values)
    assert set(validate.CHECKS) < set(CallAttempt.Outcome.values)
