"""The contact auditor over stored data: every call task and message, checked by the pure auditor.

Calls outside the dealership's working days and holidays, closer than the gap, over the caps, outside
an agenda item's window, or on a refused channel are counted by rule. The product's own output must
audit to zero (tests/contacts/test_queues.py).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from contacts.core import pressure_audit
from contacts.models import CallTask, CallTaskItem, ContactRules, OutboxMessage
from contacts.queues import resolver_rules
from customers.models import Consent, Customer, Dealership


def audit_stored_contacts() -> dict[str, Any]:
    violations: dict[str, int] = {rule: 0 for rule in pressure_audit.AUDIT_RULES}
    checked = 0
    for dealership in Dealership.objects.all():
        rules = ContactRules.for_dealership(dealership)
        tasks = list(
            CallTask.objects.filter(dealership=dealership)
            .exclude(status=CallTask.Status.CANCELLED)
            .values_list("id", "customer_id", "scheduled_on", "is_requested", "kind", "attempts")
        )
        if not tasks:
            continue
        days = [row[2] for row in tasks]
        resolver = resolver_rules(rules=rules, dealership=dealership, first=min(days), last=max(days))
        phones = dict(Customer.objects.filter(dealership=dealership).values_list("id", "phone"))
        windows: dict[int, list[tuple[Any, Any]]] = defaultdict(list)
        for task_id, start, end in CallTaskItem.objects.filter(call_task__dealership=dealership).values_list(
            "call_task_id", "touchpoint__window_start", "touchpoint__window_end"
        ):
            windows[task_id].append((start, end))
        blocked: dict[int, frozenset[str]] = defaultdict(frozenset)
        refused_on: dict[tuple[int, str], Any] = {}
        for customer_id, channel, changed_at in Consent.objects.filter(
            customer__dealership=dealership, is_allowed=False
        ).values_list("customer_id", "channel", "changed_at"):
            blocked[customer_id] = blocked[customer_id] | {channel}
            refused_on[(customer_id, channel)] = dealership.local_date(changed_at)
        calls = [
            pressure_audit.AuditCall(
                household_key=phones.get(customer_id) or f"c{customer_id}",
                customer_id=customer_id,
                on=day,
                is_requested=is_requested,
                item_windows=tuple(windows.get(task_id, ())),
                # a retry after no answer, or a call back the customer asked for
                is_continuation=kind != CallTask.Kind.PLANNED or attempts > 0,
            )
            for task_id, customer_id, day, is_requested, kind, attempts in tasks
        ]
        messages = [
            pressure_audit.AuditMessage(
                household_key=phones.get(customer_id) or f"c{customer_id}",
                customer_id=customer_id,
                channel=channel,
                on=send_on,
                window=(start, end),
                may_go_on_days_off=may_go_on_days_off,
            )
            for customer_id, channel, send_on, start, end, may_go_on_days_off in OutboxMessage.objects.filter(dealership=dealership)
            .exclude(status=OutboxMessage.Status.CANCELLED)
            .values_list("customer_id", "channel", "send_on", "touchpoint__window_start", "touchpoint__window_end",
                         "touchpoint__template__may_go_on_days_off")
        ]
        checked += len(calls) + len(messages)
        for rule, count in pressure_audit.audit(
            calls, messages, rules=resolver, blocked_channels_by_customer=dict(blocked), refused_on=refused_on
        ).items():
            violations[rule] = violations.get(rule, 0) + count
    return {"checked": checked, "violations": violations}
