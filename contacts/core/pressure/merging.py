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
# touchpoint id is unique, so the item itself is never compared. They stay plain tuples, read through
# the position names below: as a NamedTuple the resolver measured 4-9 % slower on bench_pressure (its
# constructor is a Python-level __new__, and list.sort compares a tuple subclass without the fast path
# it takes for exact tuples), over the ~5 % the change was allowed.
_Entry = tuple[int, int, int, int, int, Item]
_WISH: Final = 0
_RANK: Final = 1
_END: Final = 2
_TOUCHPOINT_ID: Final = 3
_START: Final = 4
_ITEM: Final = 5
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
    """Place the call touchpoints of one kind (requested, essential, other) in processing order: each
    joins a placed call of its customer, or leads a new call with the followers that fit."""
    entries.sort()
    count = len(entries)
    is_done = [False] * count
    for index in range(count):
        if is_done[index]:
            continue
        is_done[index] = True
        lead = entries[index]
        customer_id = lead[_ITEM].customer_id
        customer_drafts = drafts_by_customer.get(customer_id)
        if customer_drafts is None:
            customer_drafts = drafts_by_customer[customer_id] = []
        if _join_placed_call(customer_drafts, lead, merge_window_days):
            continue
        draft = _new_call(entries, index, is_done, household, is_counted, merge_window_days)
        if draft is None:
            decisions.append(_window_closed(lead[_ITEM], household.tally(lead[_START], lead[_END], True, is_counted)))
            continue
        customer_drafts.append(draft)
        drafts.append(draft)


def _join_placed_call(customer_drafts: list[_CallDraft], lead: _Entry, merge_window_days: int) -> bool:
    """Join the earliest call of this customer already placed inside the window and within the merge
    window of the wish day: it costs no extra call. False when there is none."""
    wish, _rank, end, touchpoint_id, start, _item = lead
    joined: _CallDraft | None = None
    for draft in customer_drafts:
        day = draft.day
        if (
            start <= day <= end
            and -merge_window_days <= day - wish <= merge_window_days
            and (joined is None or day < joined.day)
        ):
            joined = draft
    if joined is None:
        return False
    joined.entries.append(lead)
    if touchpoint_id < joined.key_id:
        joined.key_id = touchpoint_id
        joined.key_delay_code = _FREE if joined.day > wish else _NOT_LATE
    return True


def _new_call(
    entries: list[_Entry],
    index: int,
    is_done: list[bool],
    household: _Household,
    is_counted: bool,
    merge_window_days: int,
) -> _CallDraft | None:
    """A new call led by ``entries[index]``, at the earliest allowed day of its window, with the
    followers that fit, added to the household; None when its window holds no allowed day."""
    lead = entries[index]
    day = household.first_call_day(lead[_START], lead[_END], is_counted)
    if day < 0:
        return None
    day, members = _take_followers(entries, index, is_done, household, is_counted, merge_window_days, day)
    key_member = min(members, key=_touchpoint_id_of) if len(members) > 1 else lead
    key_delay_code = _NOT_LATE
    if day > key_member[_WISH]:
        key_delay_code = household.delay_code(key_member[_WISH], day - 1, True, is_counted)
    household.add_call(day, is_counted)
    return _CallDraft(lead[_ITEM].customer_id, day, members, key_member[_TOUCHPOINT_ID], key_delay_code)


def _take_followers(
    entries: list[_Entry],
    index: int,
    is_done: list[bool],
    household: _Household,
    is_counted: bool,
    merge_window_days: int,
    day: int,
) -> tuple[int, list[_Entry]]:
    """The call's day and members: the lead, then each following unplaced touchpoint of the same
    customer whose wish day is within the merge window of the lead's, taken (and marked done) only if
    the intersection of the windows taken so far and its own still holds an allowed day."""
    lead = entries[index]
    wish, _rank, high, _touchpoint_id, low, item = lead
    customer_id = item.customer_id
    members = [lead]
    wish_limit = wish + merge_window_days
    for follower_index in range(index + 1, len(entries)):
        follower = entries[follower_index]
        if follower[_WISH] > wish_limit:
            break
        if is_done[follower_index] or follower[_ITEM].customer_id != customer_id:
            continue
        new_low = low if low > follower[_START] else follower[_START]
        new_high = high if high < follower[_END] else follower[_END]
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
    return day, members


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
        decisions.append(_key_decision(key_id, code, key, day, scheduled_on, wish))
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
        [(entry[_RANK], entry[_ITEM].priority, entry[_END], entry[_TOUCHPOINT_ID], entry[_WISH], entry[_ITEM]) for entry in entries]
    )
    agenda = tuple([row[-1] for row in ordered])  # the item closes each agenda row
    merged_reason = f"merged_into:{key}"
    merged_detail = f"on call {key} with {len(entries) - 1} other(s)"
    window_start = agenda[0].window_start
    window_end = agenda[0].window_end
    is_requested = False
    for _rank, _priority, _end, touchpoint_id, wish, _item in ordered:
        if touchpoint_id != key_id:
            decisions.append(_decision(touchpoint_id, "merged", merged_reason, scheduled_on, merged_detail))
            continue
        decisions.append(_key_decision(touchpoint_id, code, key, day, scheduled_on, wish))
    for item in agenda:
        if item.window_start > window_start:
            window_start = item.window_start
        if item.window_end < window_end:
            window_end = item.window_end
        is_requested = is_requested or item.is_requested
    plan = _call(key, draft.customer_id, scheduled_on, window_start, window_end, agenda, is_requested)
    return day, key_id, plan


def _key_decision(
    touchpoint_id: int, code: int, key: str, day: int, scheduled_on: date, wish: int
) -> Decision:
    """The decision of a call's key touchpoint: placed, or deferred by the rule ``code`` that kept the
    call off its wish day."""
    if code == _NOT_LATE:
        return _decision(touchpoint_id, "placed", "placed", scheduled_on, f"call {key}")
    reason = _DEFERRED_REASONS[code]
    return _decision(touchpoint_id, "deferred", reason, scheduled_on, f"call {key}, {_late(day, wish)}")


_touchpoint_id_of: Final = itemgetter(_TOUCHPOINT_ID)
