"""Call touchpoints grouped into calls: a touchpoint joins a call of its customer already placed in its
window, or leads a new call that takes the following touchpoints whose windows still share an allowed
day (step 3 of the package docstring); then each call's agenda, window and decisions."""

from __future__ import annotations

from datetime import date
from operator import itemgetter
from typing import Final

from contacts.core.pressure.builders import _call, _decision, _late, _window_closed
from contacts.core.pressure.household import _Household
from contacts.core.pressure.rules import _DEFERRED_REASONS, _FREE
from contacts.core.pressure.types import CallPlan, Decision, Item

# A touchpoint still to place, in ordinals: (wish, department rank, window end, touchpoint id,
# open window start, item). Plain tuples sort in the processing order without a key function, and the
# touchpoint id is unique, so the item itself is never compared.
_Entry = tuple[int, int, int, int, int, Item]
# _CallDraft.key_delay_code of a key touchpoint placed on or before its wish day.
_NOT_LATE: Final = -1


class _CallDraft:
    __slots__ = ("customer_id", "day", "entries", "key_id", "key_delay_code")

    def __init__(
        self, customer_id: int, day: int, entries: list[_Entry], key_id: int, key_delay_code: int
    ) -> None:
        self.customer_id = customer_id
        self.day = day
        self.entries = entries
        # The call's key touchpoint (the lowest id) and the code of the rule that placed it after its
        # wish day (_NOT_LATE when it is not late). Only the key reports why it is late; the others
        # are merged into it.
        self.key_id = key_id
        self.key_delay_code = key_delay_code


def _place_calls(
    entries: list[_Entry],
    household: _Household,
    *,
    is_counted: bool,
    merge_window_days: int,
    drafts_by_customer: dict[int, list[_CallDraft]],
    drafts: list[_CallDraft],
    decisions: list[Decision],
) -> None:
    entries.sort()
    count = len(entries)
    is_done = [False] * count
    for index in range(count):
        if is_done[index]:
            continue
        is_done[index] = True
        lead = entries[index]
        wish, _rank, end, touchpoint_id, start, item = lead
        customer_id = item.customer_id
        customer_drafts = drafts_by_customer.get(customer_id)
        if customer_drafts is None:
            customer_drafts = drafts_by_customer[customer_id] = []

        # Join a call of this customer already placed inside the window: it costs no extra call.
        joined: _CallDraft | None = None
        for draft in customer_drafts:
            day = draft.day
            if (
                start <= day <= end
                and -merge_window_days <= day - wish <= merge_window_days
                and (joined is None or day < joined.day)
            ):
                joined = draft
        if joined is not None:
            joined.entries.append(lead)
            if touchpoint_id < joined.key_id:
                joined.key_id = touchpoint_id
                joined.key_delay_code = _FREE if joined.day > wish else _NOT_LATE
            continue

        low, high = start, end
        day = household.first_call_day(low, high, is_counted)
        if day < 0:
            decisions.append(_window_closed(item, household.tally(low, high, True, is_counted)))
            continue

        members = [lead]
        wish_limit = wish + merge_window_days
        for follower_index in range(index + 1, count):
            follower = entries[follower_index]
            if follower[0] > wish_limit:
                break
            if is_done[follower_index] or follower[5].customer_id != customer_id:
                continue
            new_low = low if low > follower[4] else follower[4]
            new_high = high if high < follower[2] else follower[2]
            # [low, day - 1] holds no allowed day, so a window ending before ``day`` cannot fit.
            if new_low > new_high or day > new_high:
                continue
            if day < new_low:
                new_day = household.first_call_day(new_low, new_high, is_counted)
                if new_day < 0:
                    continue
                day = new_day
            low, high = new_low, new_high
            is_done[follower_index] = True
            members.append(follower)

        key_member = min(members, key=_touchpoint_id_of) if len(members) > 1 else lead
        key_delay_code = _NOT_LATE
        if day > key_member[0]:
            key_delay_code = household.delay_code(key_member[0], day - 1, True, is_counted)
        household.add_call(day, is_counted)
        draft = _CallDraft(customer_id, day, members, key_member[3], key_delay_code)
        customer_drafts.append(draft)
        drafts.append(draft)


def _call_plan(draft: _CallDraft, decisions: list[Decision]) -> tuple[int, int, CallPlan]:
    """The plan of one call, its decisions appended, and its sort key (day, key id) in front."""
    day = draft.day
    scheduled_on = date.fromordinal(day)
    code = draft.key_delay_code
    key_id = draft.key_id
    key = f"c:{key_id}"
    entries = draft.entries
    if len(entries) == 1:
        wish, _rank, _end, _touchpoint_id, _start, item = entries[0]
        if code == _NOT_LATE:
            decisions.append(_decision(key_id, "placed", "placed", scheduled_on, f"call {key}"))
        else:
            reason = _DEFERRED_REASONS[code]
            decisions.append(
                _decision(key_id, "deferred", reason, scheduled_on, f"call {key}, {_late(day, wish)}")
            )
        plan = _call(
            key,
            draft.customer_id,
            scheduled_on,
            item.window_start,
            item.window_end,
            (item,),
            item.is_requested,
        )
        return day, key_id, plan

    # Agenda order: department priority, priority, window end, touchpoint id (unique, so the item
    # itself is never compared).
    ordered = sorted(
        [(entry[1], entry[5].priority, entry[2], entry[3], entry[0], entry[5]) for entry in entries]
    )
    agenda = tuple([row[5] for row in ordered])
    merged_reason = f"merged_into:{key}"
    merged_detail = f"on call {key} with {len(entries) - 1} other(s)"
    window_start = agenda[0].window_start
    window_end = agenda[0].window_end
    is_requested = False
    for _rank, _priority, _end, touchpoint_id, wish, _item in ordered:
        if touchpoint_id != key_id:
            decisions.append(_decision(touchpoint_id, "merged", merged_reason, scheduled_on, merged_detail))
            continue
        if code == _NOT_LATE:
            decisions.append(_decision(touchpoint_id, "placed", "placed", scheduled_on, f"call {key}"))
        else:
            reason = _DEFERRED_REASONS[code]
            decisions.append(
                _decision(touchpoint_id, "deferred", reason, scheduled_on, f"call {key}, {_late(day, wish)}")
            )
    for item in agenda:
        if item.window_start > window_start:
            window_start = item.window_start
        if item.window_end < window_end:
            window_end = item.window_end
        is_requested = is_requested or item.is_requested
    plan = _call(key, draft.customer_id, scheduled_on, window_start, window_end, agenda, is_requested)
    return day, key_id, plan


_touchpoint_id_of: Final = itemgetter(3)
