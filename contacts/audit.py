"""The contact auditor over stored data: every call task and message, checked by the pure auditor.

Calls outside the dealership's working days and holidays, closer than the gap, over the caps, outside
an agenda item's window, or on a refused channel are counted by rule. The product's own output must
audit to zero (tests/contacts/queues/test_build.py).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from contacts.core import pressure_audit
from contacts.core.purposes import purpose_of
from contacts.models import CallTask, CallTaskItem, ContactRules, OutboxMessage
from contacts.queues import resolver_rules
from customers.core import consent as consent_rules
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
        blocked, refused_on, refused_purposes = _refusals(dealership)
        calls = _stored_calls(dealership, tasks, phones)
        messages = _stored_messages(dealership, phones)
        checked += len(calls) + len(messages)
        for rule, count in pressure_audit.audit(
            calls, messages, rules=resolver, blocked_channels_by_customer=blocked, refused_on=refused_on,
            refused_purposes=refused_purposes,
        ).items():
            violations[rule] = violations.get(rule, 0) + count
    return {"checked": checked, "violations": violations}


def _stored_calls(dealership: Dealership, tasks: list[tuple[Any, ...]], phones: dict[int, str]) -> list[pressure_audit.AuditCall]:
    """The dealership's calls (``tasks``: its stored call tasks' rows), with their agenda's windows and purposes."""
    windows: dict[int, list[tuple[Any, Any]]] = defaultdict(list)
    purposes: dict[int, set[str]] = defaultdict(set)
    for task_id, start, end, code, department in CallTaskItem.objects.filter(
        call_task__dealership=dealership
    ).values_list(
        "call_task_id", "touchpoint__window_start", "touchpoint__window_end", "touchpoint__template__code",
        "touchpoint__template__department__code",
    ):
        windows[task_id].append((start, end))
        purposes[task_id].add(purpose_of(code=code, department=department))
    return [
        pressure_audit.AuditCall(
            household_key=phones.get(customer_id) or f"c{customer_id}",
            customer_id=customer_id,
            on=day,
            is_requested=is_requested,
            item_windows=tuple(windows.get(task_id, ())),
            # a retry after no answer, or a call back the customer asked for
            is_continuation=kind != CallTask.Kind.PLANNED or attempts > 0,
            purposes=tuple(sorted(purposes.get(task_id, ()))),
        )
        for task_id, customer_id, day, is_requested, kind, attempts in tasks
    ]


def _stored_messages(dealership: Dealership, phones: dict[int, str]) -> list[pressure_audit.AuditMessage]:
    """The dealership's messages not cancelled, with their touchpoint's window and purpose."""
    return [
        pressure_audit.AuditMessage(
            household_key=phones.get(customer_id) or f"c{customer_id}",
            customer_id=customer_id,
            channel=channel,
            on=send_on,
            window=(start, end),
            may_go_on_days_off=may_go_on_days_off,
            purpose=purpose_of(code=code, department=department),
        )
        for customer_id, channel, send_on, start, end, may_go_on_days_off, code, department in OutboxMessage.objects.filter(
            dealership=dealership
        )
        .exclude(status=OutboxMessage.Status.CANCELLED)
        .values_list("customer_id", "channel", "send_on", "touchpoint__window_start", "touchpoint__window_end",
                     "touchpoint__template__may_go_on_days_off", "touchpoint__template__code",
                     "touchpoint__template__department__code")
    ]


def _refusals(
    dealership: Dealership,
) -> tuple[dict[int, frozenset[str]], dict[tuple[int, str], dt.date], dict[tuple[int, str, str], dt.date]]:
    """The customers' refusals as the auditor reads them: the channels refused for every purpose with
    the local day of that refusal, and every refused (customer, channel, purpose) with the local day of
    the row that decides it (the purpose's own row, else the channel's ALL row)."""
    rows: dict[int, list[tuple[str, str, bool, dt.datetime]]] = defaultdict(list)
    for customer_id, channel, purpose, is_allowed, changed_at in Consent.objects.filter(
        customer__dealership=dealership
    ).values_list("customer_id", "channel", "purpose", "is_allowed", "changed_at"):
        rows[customer_id].append((channel, purpose, is_allowed, changed_at))
    blocked: dict[int, frozenset[str]] = {}
    refused_on: dict[tuple[int, str], dt.date] = {}
    refused_purposes: dict[tuple[int, str, str], dt.date] = {}
    for customer_id, consent_rows in rows.items():
        changed = {(channel, purpose): changed_at for channel, purpose, _allowed, changed_at in consent_rows}
        pairs = consent_rules.refused_pairs((channel, purpose, allowed) for channel, purpose, allowed, _at in consent_rows)
        for channel, purpose in pairs:
            at = changed.get((channel, purpose)) or changed[(channel, consent_rules.ALL)]
            refused_purposes[(customer_id, channel, purpose)] = dealership.local_date(at)
        blocked[customer_id] = consent_rules.blocked_channels(pairs)
        for channel in blocked[customer_id]:
            refused_on[(customer_id, channel)] = max(
                refused_purposes[(customer_id, channel, purpose)] for purpose in consent_rules.PURPOSES
            )
    return blocked, refused_on, refused_purposes
