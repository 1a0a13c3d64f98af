"""The one error of contacts.calls: bad input or a call no longer the agent's, in plain words."""

from __future__ import annotations


class OutcomeError(ValueError):
    """Bad input for an outcome (or a call that is no longer the agent's), in plain words."""
