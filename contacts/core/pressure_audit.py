"""The contact auditor: stored (or resolved) calls and messages checked against the contact-pressure
rules of ``pressure.Rules``, counting violations by rule (``AUDIT_RULES``). Pure core, like the resolver
it checks: the product's own output must audit to zero (``manage.py audit_contacts``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from contacts.core.pressure import CALL, SMS, History, Resolution, Rules
from contacts.core.pressure.rules import _SPAN_30, _SPAN_365, _calendar

# The auditor's counters, one per rule.
AUDIT_RULES: tuple[str, ...] = (
    "min_gap",
    "cap_30",
    "cap_365",
    "outside_window",
    "do_not_contact",
    "weekend",
    "holiday",
    "message_gap",
    "message_same_day_as_call",
)

__all__ = ["AUDIT_RULES", "AuditCall", "AuditMessage", "audit", "audit_resolution", "History"]


@dataclass(frozen=True, slots=True)
class AuditCall:
    """A call to audit. ``is_planned=False`` marks history: it counts for the gap, caps and the
    same-day rule, but a violation is only counted when at least one planned contact takes part."""

    household_key: str
    customer_id: int | None
    on: date
    is_requested: bool = False
    # The window of every touchpoint on the agenda; the call must lie inside each.
    item_windows: tuple[tuple[date, date], ...] = ()
    is_planned: bool = True
    # A call carried on after its placed day: a retry after no answer, or a call back the customer asked
    # for. The windows and the no-message-on-a-call-day rule judged its placement; they do not judge
    # the carrying on (the gap and the caps still count it).
    is_continuation: bool = False
    # The purpose of every touchpoint on the agenda (contacts.core.purposes).
    purposes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AuditMessage:
    household_key: str
    customer_id: int | None
    channel: str
    on: date
    is_requested: bool = False
    window: tuple[date, date] | None = None
    is_planned: bool = True
    # The template's setting: it may go on a weekend or a holiday (docs/program.md version 2).
    may_go_on_days_off: bool = False
    purpose: str = ""


def audit(
    calls: Sequence[AuditCall],
    messages: Sequence[AuditMessage],
    *,
    rules: Rules,
    blocked_channels_by_customer: Mapping[int, frozenset[str]],
    refused_on: Mapping[tuple[int, str], date] | None = None,
    refused_purposes: Mapping[tuple[int, str, str], date] | None = None,
) -> dict[str, int]:
    """Count rule violations of a contact schedule, by rule (every key of AUDIT_RULES is present).

    Counted per household, planned contacts only (history takes part but is never blamed alone):
    min_gap / message_gap: pairs of non-requested calls / messages closer than the gap;
    cap_30 / cap_365: planned non-requested calls that lie in some rolling 30 / 365-day window holding
    more calls than the cap; message_same_day_as_call: (message, call) pairs on one day;
    outside_window: agenda windows (calls) and windows (messages) that miss the day;
    do_not_contact, weekend, holiday: planned contacts on a blocked channel, or for a purpose the
    customer refused on that channel (``refused_purposes``: (customer, channel, purpose) → the day of
    the refusal), a non-working weekday, a holiday.
    """
    counts = dict.fromkeys(AUDIT_RULES, 0)
    check_contact = _contact_checker(counts, rules=rules, blocked_channels_by_customer=blocked_channels_by_customer,
                                     refused_on=refused_on, refused_purposes=refused_purposes)
    calls_by_household, placed_by_household = _place_calls(calls, counts, check_contact)
    messages_by_household = _place_messages(messages, counts, check_contact)
    _count_call_spacing(calls_by_household, counts, rules)
    _count_message_spacing(messages_by_household, placed_by_household, counts, rules)
    return counts


# A household's contacts as (day ordinal, is_planned, is_requested); its placed calls as (day, is_planned).
_Contacts = dict[str, list[tuple[int, bool, bool]]]
_Placed = dict[str, list[tuple[int, bool]]]
_CheckContact = Callable[..., None]


def _contact_checker(
    counts: dict[str, int], *, rules: Rules, blocked_channels_by_customer: Mapping[int, frozenset[str]],
    refused_on: Mapping[tuple[int, str], date] | None, refused_purposes: Mapping[tuple[int, str, str], date] | None,
) -> _CheckContact:
    """The check of one planned contact's day and channel (do_not_contact, weekend, holiday)."""
    holidays, is_working = _calendar(rules.working_weekdays, rules.holidays)

    refused_days = {key: day.toordinal() for key, day in (refused_on or {}).items()}

    purpose_days = {key: day.toordinal() for key, day in (refused_purposes or {}).items()}

    def check_contact(
        customer_id: int | None, channel: str, day: int, any_day: bool = False, purposes: Sequence[str] = ()
    ) -> None:
        # A contact on a refused channel: with ``refused_on``, only one after the day of the refusal
        # (the call in which the customer refused, and the contacts before it, kept the rule). The same
        # for a contact about a refused purpose; a contact is counted once.
        if customer_id is not None and channel in blocked_channels_by_customer.get(customer_id, frozenset()) and (
            day > refused_days.get((customer_id, channel), -1)
        ):
            counts["do_not_contact"] += 1
        elif customer_id is not None and any(
            day > purpose_days.get((customer_id, channel, purpose), day) for purpose in purposes
        ):
            counts["do_not_contact"] += 1
        if any_day:
            return
        if not is_working[day % 7]:
            counts["weekend"] += 1
        if day in holidays:
            counts["holiday"] += 1

    return check_contact


def _place_calls(calls: Sequence[AuditCall], counts: dict[str, int], check_contact: _CheckContact) -> tuple[_Contacts, _Placed]:
    """The calls by household; each planned one checked, and its placement against its agenda's windows."""
    calls_by_household: _Contacts = {}
    placed_by_household: _Placed = {}
    for call in calls:
        day = call.on.toordinal()
        calls_by_household.setdefault(call.household_key, []).append(
            (day, call.is_planned, call.is_requested)
        )
        if not call.is_continuation:
            placed_by_household.setdefault(call.household_key, []).append((day, call.is_planned))
        if call.is_planned:
            check_contact(call.customer_id, CALL, day, purposes=call.purposes)
            if not call.is_continuation:
                counts["outside_window"] += sum(
                    1 for start, end in call.item_windows if not start <= call.on <= end
                )
    return calls_by_household, placed_by_household


def _place_messages(messages: Sequence[AuditMessage], counts: dict[str, int], check_contact: _CheckContact) -> _Contacts:
    """The messages by household; each planned one checked, and against its window."""
    messages_by_household: _Contacts = {}
    for message in messages:
        day = message.on.toordinal()
        messages_by_household.setdefault(message.household_key, []).append(
            (day, message.is_planned, message.is_requested)
        )
        if message.is_planned:
            check_contact(message.customer_id, message.channel, day, message.may_go_on_days_off,
                          purposes=(message.purpose,) if message.purpose else ())
            if message.window is not None and not message.window[0] <= message.on <= message.window[1]:
                counts["outside_window"] += 1
    return messages_by_household


def _count_call_spacing(calls_by_household: _Contacts, counts: dict[str, int], rules: Rules) -> None:
    """min_gap, cap_30, cap_365 over each household's non-requested calls."""
    for household_calls in calls_by_household.values():
        counted = sorted(
            (day, is_planned) for day, is_planned, is_requested in household_calls if not is_requested
        )
        counts["min_gap"] += _count_close_pairs(counted, rules.min_days_between_calls)
        counts["cap_30"] += _count_over_cap(counted, rules.max_calls_per_30_days, _SPAN_30)
        counts["cap_365"] += _count_over_cap(counted, rules.max_calls_per_365_days, _SPAN_365)


def _count_message_spacing(messages_by_household: _Contacts, placed_by_household: _Placed, counts: dict[str, int],
                           rules: Rules) -> None:
    """message_gap over each household's non-requested messages, and message_same_day_as_call."""
    for household_key, household_messages in messages_by_household.items():
        counted = sorted(
            (day, is_planned) for day, is_planned, is_requested in household_messages if not is_requested
        )
        counts["message_gap"] += _count_close_pairs(counted, rules.min_days_between_messages)
        if rules.no_message_on_call_day:
            planned_by_call_day: dict[int, list[bool]] = {}
            for day, is_planned in placed_by_household.get(household_key, ()):
                planned_by_call_day.setdefault(day, []).append(is_planned)
            for day, is_planned, _is_requested in household_messages:
                for is_call_planned in planned_by_call_day.get(day, ()):
                    if is_planned or is_call_planned:
                        counts["message_same_day_as_call"] += 1


def _count_close_pairs(contacts: list[tuple[int, bool]], gap: int) -> int:
    """Pairs closer than ``gap`` days with at least one planned contact; ``contacts`` sorted by day."""
    violations = 0
    for first_index, (first_day, is_first_planned) in enumerate(contacts):
        for second_day, is_second_planned in contacts[first_index + 1 :]:
            if second_day - first_day >= gap:
                break
            if is_first_planned or is_second_planned:
                violations += 1
    return violations


def _count_over_cap(contacts: list[tuple[int, bool]], cap: int, span: int) -> int:
    """Planned contacts inside some window of ``span + 1`` days holding more than ``cap`` contacts."""
    days = [day for day, _is_planned in contacts]
    is_over = [False] * len(days)
    for first_index, first_day in enumerate(days):
        # Every crowded window can be slid to start on a contact, so these windows are enough.
        end_index = bisect_right(days, first_day + span, first_index)
        if end_index - first_index > cap:
            for index in range(first_index, end_index):
                is_over[index] = True
    return sum(1 for index, (_day, is_planned) in enumerate(contacts) if is_planned and is_over[index])


def audit_resolution(
    resolution: Resolution,
    *,
    history: History,
    rules: Rules,
    blocked_channels: frozenset[str],
    blocked_channels_by_customer: Mapping[int, frozenset[str]] | None = None,
    household_key: str = "household",
) -> dict[str, int]:
    """Audit one household's resolution together with its history (see ``audit``)."""
    extra_blocks = blocked_channels_by_customer or {}
    customer_ids = {plan.customer_id for plan in resolution.calls} | {
        plan.customer_id for plan in resolution.messages
    }
    blocked_by_customer = {
        customer_id: blocked_channels | extra_blocks.get(customer_id, frozenset())
        for customer_id in customer_ids
    }
    calls = [
        AuditCall(household_key, None, past.on, is_requested=past.is_requested, is_planned=False)
        for past in history.calls
    ]
    calls.extend(
        AuditCall(
            household_key,
            plan.customer_id,
            plan.scheduled_on,
            is_requested=plan.is_requested,
            item_windows=tuple((item.window_start, item.window_end) for item in plan.agenda),
        )
        for plan in resolution.calls
    )
    messages = [
        AuditMessage(household_key, None, SMS, day, is_planned=False) for day in history.message_dates
    ]
    messages.extend(
        AuditMessage(
            household_key,
            plan.customer_id,
            plan.channel,
            plan.send_on,
            is_requested=plan.is_requested,
            window=(plan.window_start, plan.window_end),
        )
        for plan in resolution.messages
    )
    return audit(calls, messages, rules=rules, blocked_channels_by_customer=blocked_by_customer)
