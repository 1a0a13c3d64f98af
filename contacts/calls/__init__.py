"""Working the queue: claim the next call, record its outcome, release and reassign calls, hand-offs.

| module | what it owns |
|---|---|
| ``schedule`` | the dealership's clock: call hours, local days, working days for retries |
| ``claims`` | the queue in order, claiming the next call, stale claims, release, reassign, capacity |
| ``outcomes`` | one outcome per call: validated first, then written by one small function per outcome |
| ``handoffs`` | accepting and closing a department's hand-off |
| ``undo`` | undoing the agent's last outcome for a few minutes after a mis-key |
| ``errors`` | ``OutcomeError``, the plain-words error every workflow here raises |

Callers import from ``contacts.calls``; only what they use is re-exported here.
"""

from __future__ import annotations

from contacts.calls.claims import (
    ClaimState,
    call_hours_message,
    callbacks_of,
    claim_next_call,
    claim_started_at,
    claim_token,
    keep_claim,
    queue_for,
    queue_in_order,
    reassign_call,
    release_call,
    release_stale_claims,
    set_agents_on_shift,
    take_inbound_call,
)
from contacts.calls.errors import OutcomeError
from contacts.calls.handoffs import accept_handoff, close_handoff
from contacts.calls.outcomes.recording import record_outcome
from contacts.calls.outcomes.validate import CHURN_REASONS, MAX_ODOMETER_KM, validate_reading
from contacts.calls.outcomes.writers import set_do_not_contact
from contacts.calls.schedule import (
    first_working_day_from,
    is_within_call_hours,
    is_working_day,
    local_day_bounds,
    local_now,
    next_working_day,
)
from contacts.calls.undo import UNDO_WINDOW, can_undo, undo_outcome

__all__ = [
    "CHURN_REASONS",
    "UNDO_WINDOW",
    "ClaimState",
    "MAX_ODOMETER_KM",
    "OutcomeError",
    "accept_handoff",
    "call_hours_message",
    "can_undo",
    "callbacks_of",
    "claim_next_call",
    "claim_started_at",
    "claim_token",
    "close_handoff",
    "is_within_call_hours",
    "keep_claim",
    "local_day_bounds",
    "local_now",
    "next_working_day",
    "queue_for",
    "queue_in_order",
    "reassign_call",
    "record_outcome",
    "release_call",
    "release_stale_claims",
    "set_agents_on_shift",
    "set_do_not_contact",
    "validate_reading",
    "first_working_day_from",
    "is_working_day",
    "take_inbound_call",
    "undo_outcome",
]
