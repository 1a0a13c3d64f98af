"""The contacts app's models, one module per topic; every model and public name is importable from
``contacts.models``.

- ``program``: departments, touchpoint templates and their versions (and the choices they use);
- ``touchpoints``: the planned touchpoints and each vehicle's plan fingerprint;
- ``rules``: the contact rules of a dealership, their changes, the agents on shift by day;
- ``calls``: call tasks, the touchpoints on them, call attempts, hand-offs;
- ``messages``: the SMS and e-mail outbox;
- ``operations``: queue builds, sweep chunks, processing problems, the beat's tick, metric snapshots.
"""

from contacts.models.calls import (
    CALLBACK_GRACE,
    REACHED_OUTCOMES,
    AgendaItem,
    AgentPresence,
    CallAttempt,
    CallTask,
    CallTaskItem,
    CallTaskQuerySet,
    Explanation,
    ExplanationItem,
    Handoff,
    HandoffEvent,
)
from contacts.models.messages import OutboxMessage
from contacts.models.operations import (
    BeatTick,
    MetricSnapshot,
    Problem,
    QueueBuild,
    SweepChunk,
)
from contacts.models.program import (
    ANCHOR_OFFSET_LIMITS,
    CYCLE_DAYS,
    DAYS_PER_MONTH,
    MAX_OFFSET_DAYS,
    MAX_OFFSET_MONTHS,
    MAX_WINDOW_DAYS,
    WINDOW_ORDER_MESSAGE,
    YEARLY_SALE_OFFSET_LIMIT,
    Anchor,
    Department,
    Phase,
    Recurrence,
    TemplateVersion,
    TouchpointTemplate,
    offset_in_days,
    template_errors,
)
from contacts.models.rules import (
    HOLDOUT_SHARE_DEFAULT,
    ConfigurationChange,
    ContactRules,
    DailyCapacity,
)
from contacts.models.touchpoints import (
    PlanFingerprint,
    Touchpoint,
    TouchpointQuerySet,
)

__all__ = [
    "AgentPresence",
    "Department",
    "Anchor",
    "Recurrence",
    "Phase",
    "CYCLE_DAYS",
    "ANCHOR_OFFSET_LIMITS",
    "YEARLY_SALE_OFFSET_LIMIT",
    "MAX_OFFSET_MONTHS",
    "MAX_OFFSET_DAYS",
    "MAX_WINDOW_DAYS",
    "DAYS_PER_MONTH",
    "WINDOW_ORDER_MESSAGE",
    "offset_in_days",
    "template_errors",
    "TouchpointTemplate",
    "TemplateVersion",
    "TouchpointQuerySet",
    "Touchpoint",
    "PlanFingerprint",
    "HOLDOUT_SHARE_DEFAULT",
    "ContactRules",
    "ConfigurationChange",
    "DailyCapacity",
    "AgendaItem",
    "ExplanationItem",
    "Explanation",
    "CALLBACK_GRACE",
    "CallTaskQuerySet",
    "CallTask",
    "CallTaskItem",
    "CallAttempt",
    "REACHED_OUTCOMES",
    "Handoff",
    "HandoffEvent",
    "OutboxMessage",
    "QueueBuild",
    "SweepChunk",
    "Problem",
    "BeatTick",
    "MetricSnapshot",
]
