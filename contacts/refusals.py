"""What a refusal stops, whichever path recorded it (customers.refusals announces it; contacts.apps
registers this hook): open calls and pending messages of the refused purposes on the refused channels
are cancelled at once, and their touchpoints, with the planned ones, are suppressed with the reason
``do_not_contact:<channel>`` (every purpose) or ``do_not_contact:<channel>:<purpose>`` (said in words
by contacts.wording). An open call that also carries a topic the customer still allows is withdrawn,
and that topic goes back to the plan, to be placed again without the refused ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import QuerySet

from contacts.core.purposes import purpose_of
from contacts.models import CallTask, CallTaskItem, OutboxMessage, Touchpoint
from customers.core.consent import PURPOSES
from customers.models import Channel

ALL_PURPOSES = frozenset(PURPOSES)


def refusal_resolution(channel: str, purpose: str | None = None) -> str:
    """The touchpoint resolution of a refusal: of the whole channel, or of one purpose on it."""
    return f"do_not_contact:{channel}" if purpose is None else f"do_not_contact:{channel}:{purpose}"


def _purpose_ids(touchpoints: Iterable[tuple[int, str, str]]) -> dict[int, str]:
    return {tp_id: purpose_of(code=code, department=department) for tp_id, code, department in touchpoints}


def _touchpoint_purposes(queryset: QuerySet[Touchpoint]) -> dict[int, str]:
    return _purpose_ids(queryset.values_list("id", "template__code", "template__department__code"))


def stop_contact_on_refusal(
    *, customer_id: int, channels: frozenset[str], now: dt.datetime, purposes: frozenset[str] = ALL_PURPOSES
) -> None:
    """Runs inside the refusal's transaction, with the customer row locked."""
    whole = frozenset(purposes) >= ALL_PURPOSES
    for channel in sorted(channels):
        if whole:
            _stop_channel(customer_id=customer_id, channel=channel)
        else:
            _stop_purposes(customer_id=customer_id, channel=channel, purposes=frozenset(purposes))


def _stop_channel(*, customer_id: int, channel: str) -> None:
    resolution = refusal_resolution(channel)
    if channel == Channel.CALL:
        open_tasks = CallTask.objects.filter(
            customer_id=customer_id, status__in=[CallTask.Status.OPEN, CallTask.Status.CLAIMED]
        )
        Touchpoint.objects.filter(call_item__call_task__in=open_tasks, status=Touchpoint.Status.ISSUED).update(
            status=Touchpoint.Status.SUPPRESSED, resolution=resolution
        )
        open_tasks.update(status=CallTask.Status.CANCELLED, outcome="do_not_call")
    else:
        pending = OutboxMessage.objects.filter(
            customer_id=customer_id, channel=channel, status=OutboxMessage.Status.PENDING
        )
        Touchpoint.objects.filter(message__in=pending).update(status=Touchpoint.Status.SUPPRESSED, resolution=resolution)
        pending.update(status=OutboxMessage.Status.CANCELLED)
    Touchpoint.objects.filter(
        customer_id=customer_id, status=Touchpoint.Status.PLANNED, template__channel=channel
    ).update(status=Touchpoint.Status.SUPPRESSED, resolution=resolution)


def _suppress(ids_by_purpose: dict[int, str], channel: str) -> None:
    by_purpose: dict[str, list[int]] = {}
    for tp_id, purpose in ids_by_purpose.items():
        by_purpose.setdefault(purpose, []).append(tp_id)
    for purpose, ids in by_purpose.items():
        Touchpoint.objects.filter(id__in=ids).update(
            status=Touchpoint.Status.SUPPRESSED, resolution=refusal_resolution(channel, purpose)
        )


def _stop_purposes(*, customer_id: int, channel: str, purposes: frozenset[str]) -> None:
    if channel == Channel.CALL:
        open_tasks = list(CallTask.objects.filter(
            customer_id=customer_id, status__in=[CallTask.Status.OPEN, CallTask.Status.CLAIMED]
        ).values_list("id", flat=True))
        on_calls = _touchpoint_purposes(
            Touchpoint.objects.filter(call_item__call_task_id__in=open_tasks, status=Touchpoint.Status.ISSUED)
        )
        refused = {tp_id: p for tp_id, p in on_calls.items() if p in purposes}
        if refused:
            touched = set(CallTaskItem.objects.filter(touchpoint_id__in=refused).values_list("call_task_id", flat=True))
            kept = list(CallTaskItem.objects.filter(call_task_id__in=touched).exclude(
                touchpoint_id__in=refused).values_list("touchpoint_id", flat=True))
            CallTask.objects.filter(id__in=touched, status__in=[CallTask.Status.OPEN, CallTask.Status.CLAIMED]).update(
                status=CallTask.Status.CANCELLED, outcome="do_not_call"
            )
            _suppress(refused, channel)
            # The topics the customer still allows leave the withdrawn call, back to the plan.
            CallTaskItem.objects.filter(touchpoint_id__in=kept).delete()
            Touchpoint.objects.filter(id__in=kept, status=Touchpoint.Status.ISSUED).update(
                status=Touchpoint.Status.PLANNED, resolution="reopened:call_withdrawn"
            )
    else:
        pending = OutboxMessage.objects.filter(
            customer_id=customer_id, channel=channel, status=OutboxMessage.Status.PENDING
        )
        in_messages = _touchpoint_purposes(Touchpoint.objects.filter(message__in=pending))
        refused = {tp_id: p for tp_id, p in in_messages.items() if p in purposes}
        if refused:
            pending.filter(touchpoint_id__in=refused).update(status=OutboxMessage.Status.CANCELLED)
            _suppress(refused, channel)
    planned = _touchpoint_purposes(
        Touchpoint.objects.filter(customer_id=customer_id, status=Touchpoint.Status.PLANNED, template__channel=channel)
    )
    _suppress({tp_id: p for tp_id, p in planned.items() if p in purposes}, channel)
