"""What a merge of two customers does on the contact side (customers.duplicates announces it through
customers.hooks; contacts.apps registers ``merge_contacts``).

Merged customers share one contact budget from the moment of the merge:

- no merge while an agent is on a call with either customer (a claimed call): it is refused with a
  message, to be done after the call;
- of the open calls of both, at most one stays: a call the customer asked for (a callback) first, then
  the survivor's, then the earliest. It stays only if it keeps the call gap against the other customer's
  calls (their history is now the survivor's); the others are cancelled (``customers_merged``) and their
  touchpoints go back to the plan, so the next build places them within the survivor's one budget;
- the merged customer's pending messages go back to the plan the same way (one greeting, not two);
- everything else (done and cancelled calls, attempts, hand-offs, messages, touchpoints, problems)
  moves to the survivor as history. A moved call whose gap range overlaps one of the survivor's is given
  an empty range (``blocks_until = scheduled_on``): both calls happened, to what were two customers; the
  range only guards new calls, so the PostgreSQL exclusion constraint ``call_task_customer_gap`` holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import F, Max
from django.utils.translation import gettext as _

from contacts.models import CallAttempt, CallTask, CallTaskItem, Handoff, OutboxMessage, Problem, Touchpoint
from customers.duplicates import MergeRefused

REOPENED = "reopened:customers_merged"


def merge_contacts(*, survivor_id: int, merged_id: int, now: dt.datetime) -> None:
    """Runs inside the merge's transaction with both customer rows locked."""
    both = [survivor_id, merged_id]
    if CallTask.objects.filter(customer_id__in=both, status=CallTask.Status.CLAIMED).exists():
        raise MergeRefused(_(
            "An agent is on a call with one of these customers now. Merge them after the call is recorded."
        ))
    _keep_one_open_call(survivor_id=survivor_id, merged_id=merged_id)
    pending = OutboxMessage.objects.filter(customer_id=merged_id, status=OutboxMessage.Status.PENDING)
    reopened = list(pending.values_list("touchpoint_id", flat=True))
    pending.delete()
    Touchpoint.objects.filter(id__in=reopened, status=Touchpoint.Status.ISSUED).update(
        status=Touchpoint.Status.PLANNED, resolution=REOPENED
    )
    _empty_overlapping_ranges(survivor_id=survivor_id, merged_id=merged_id)
    for model in (CallTask, CallAttempt, Handoff, OutboxMessage, Touchpoint, Problem):
        model._default_manager.filter(customer_id=merged_id).update(customer_id=survivor_id)


def _overlaps(a: tuple[dt.date, dt.date], b: tuple[dt.date, dt.date]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _budgeted(customer_id: int, exclude: set[int]) -> list[tuple[int, dt.date, dt.date]]:
    """The customer's calls that count against the gap (the exclusion constraint's rows)."""
    return list(
        CallTask.objects.filter(customer_id=customer_id, is_requested=False)
        .exclude(status=CallTask.Status.CANCELLED).exclude(id__in=exclude)
        .values_list("id", "scheduled_on", "blocks_until")
    )


def _keep_one_open_call(*, survivor_id: int, merged_id: int) -> None:
    open_calls = list(CallTask.objects.filter(customer_id__in=[survivor_id, merged_id], status=CallTask.Status.OPEN))
    if not open_calls:
        return
    keep = min(open_calls, key=lambda t: (not t.is_requested, t.customer_id != survivor_id, t.scheduled_on, t.id))
    withdrawn = {t.id for t in open_calls if t.id != keep.id}
    if not keep.is_requested:
        other = merged_id if keep.customer_id == survivor_id else survivor_id
        span = (keep.scheduled_on, keep.blocks_until)
        if any(_overlaps(span, (start, end)) for _id, start, end in _budgeted(other, withdrawn)):
            withdrawn.add(keep.id)
    if withdrawn:
        _withdraw(withdrawn)


def _withdraw(task_ids: set[int]) -> None:
    """Cancel these open calls; their touchpoints go back to the plan, off the call (its agenda keeps the
    record), as contacts.planning.writing does for a withdrawn call."""
    CallTask.objects.filter(id__in=task_ids, status=CallTask.Status.OPEN).update(
        status=CallTask.Status.CANCELLED, outcome="customers_merged"
    )
    issued = list(
        Touchpoint.objects.filter(call_item__call_task_id__in=task_ids, status=Touchpoint.Status.ISSUED).values_list(
            "id", flat=True
        )
    )
    CallTaskItem.objects.filter(touchpoint_id__in=issued).delete()
    Touchpoint.objects.filter(id__in=issued).update(status=Touchpoint.Status.PLANNED, resolution=REOPENED)


def _empty_overlapping_ranges(*, survivor_id: int, merged_id: int) -> None:
    mine = _budgeted(survivor_id, set())
    emptied = [
        task_id for task_id, start, end in _budgeted(merged_id, set())
        if start < end and any(_overlaps((start, end), (s, e)) for _i, s, e in mine)
    ]
    CallTask.objects.filter(id__in=emptied).update(blocks_until=F("scheduled_on"))


def last_contacts(customer_ids: Iterable[int]) -> dict[int, dt.datetime]:
    """Customer id → when their last call attempt ended (customers.hooks.last_contacts)."""
    return dict(
        CallAttempt.objects.filter(customer_id__in=list(customer_ids)).order_by().values("customer_id")
        .annotate(last=Max("ended_at")).values_list("customer_id", "last")
    )
