"""How long a vehicle's plan stays the same: the first day on which ``plan_vehicle`` could plan differently
from the same facts (pure, stdlib only; ``today`` is the facts').

The plan depends on ``today`` only through: the facts dated after it (a future sale, visit, reached
call; a booking still ahead), the conditional anchors (``missed_maintenance``, ``lapsed``,
``keep_alive``: a threshold reached, or dated today while it is passed), the calls that keep a
keep-alive back while they are ahead, and the after-cycle horizon (``today`` + 12 months) reaching the
next after-cycle touchpoint. ``plan_valid_until`` returns the earliest of those days (exclusive: the plan
computed on ``today`` is the plan of every day before it). The nightly sweep re-plans a vehicle whose
facts are unchanged only from that day on; tests/contacts/test_plan_validity.py proves, day by day,
that this gives the same touchpoints as re-planning every vehicle every night.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

from contacts.core.plan_engine.dates import _months_between
from contacts.core.plan_engine.plan import plan_vehicle
from contacts.core.plan_engine.planner import _Planner, cycle_sale
from contacts.core.plan_engine.rules import _compile, _Rule
from contacts.core.plan_engine.types import (
    AFTER_CYCLE_HORIZON_MONTHS,
    CONDITIONAL_ANCHORS,
    KEEP_ALIVE_BLOCKING_ANCHORS,
    PlannedTouchpoint,
    TemplateSpec,
    VehicleFacts,
)
from customers.core.calendar import add_months, first_day_when_months_reach

__all__ = ["plan_valid_until"]

_ONE_DAY = timedelta(days=1)



def plan_valid_until(
    templates: Sequence[TemplateSpec],
    facts: VehicleFacts,
    planned: Sequence[PlannedTouchpoint],
) -> date:
    """The first day after ``facts.today`` on which the plan of these facts may differ from ``planned``
    (what ``plan_vehicle(templates, facts)`` returned). A vehicle past its cycle is planned once more,
    12 months further ahead, to find the next after-cycle touchpoint the horizon will reach."""
    today = facts.today
    far = date.max
    candidates: list[date] = []

    def ahead(day: date | None) -> None:
        if day is not None and day > today:
            candidates.append(day)

    for sold in facts.sales:
        ahead(sold.sold_on)
    for visit in facts.maintenance_visits:
        ahead(visit)
    ahead(facts.last_visit_on)
    ahead(facts.last_reached_contact_on)
    if facts.maintenance_booked_on is not None and facts.maintenance_booked_on >= today:
        candidates.append(facts.maintenance_booked_on + _ONE_DAY)  # "a booking still ahead" ends
    sale = cycle_sale(facts)
    if sale is None:
        return min(candidates, default=far)
    planner = _Planner(facts, sale, None)
    ahead(planner.start)
    ahead(planner.cycle_end)
    rules = [r for r in _compile(templates) if r.is_active]
    conditional = [r for r in rules if r.anchor in CONDITIONAL_ANCHORS]
    if conditional:
        _conditional_days(planner, conditional, planned, ahead, candidates)
    traded = facts.traded_in_on
    if (traded is None or traded < planner.start):
        after_end = add_months(today, AFTER_CYCLE_HORIZON_MONTHS)
        if after_end <= planner.cycle_end:
            candidates.append(first_day_when_months_reach(planner.cycle_end + _ONE_DAY, AFTER_CYCLE_HORIZON_MONTHS, after=today))
        else:
            further = plan_vehicle(templates, facts, horizon_end=add_months(today, 2 * AFTER_CYCLE_HORIZON_MONTHS))
            next_due = min((tp.due_on for tp in further if tp.due_on >= after_end), default=None)
            if next_due is None:
                candidates.append(add_months(today, AFTER_CYCLE_HORIZON_MONTHS))
            else:
                candidates.append(first_day_when_months_reach(next_due + _ONE_DAY, AFTER_CYCLE_HORIZON_MONTHS, after=today))
    return min(candidates, default=far)


def _conditional_days(
    planner: _Planner,
    rules: Sequence[_Rule],
    planned: Sequence[PlannedTouchpoint],
    ahead: Callable[[date | None], None],
    candidates: list[date],
) -> None:
    """The days a conditional anchor's touchpoint may appear, go, or move."""
    today = planner.today
    tomorrow = today + _ONE_DAY
    pinned_codes: set[str] = set()
    age_limited_pinned = False
    last, _source = planner.last_contact()
    for rule in rules:
        shift = rule.shift
        if rule.anchor == "missed_maintenance":
            thresholds = [shift(due) for _number, due, _driver in planner.dues()]
            for threshold in thresholds:
                ahead(threshold)
            pinned = any(t <= today for t in thresholds)
        else:
            threshold = shift(last)
            ahead(threshold)
            pinned = threshold <= today
            if rule.anchor == "keep_alive" and rule.code not in {tp.code for tp in planned}:
                # the calls planned between today and the keep-alive's day keep it back until the last is
                # past; a missed-maintenance or reactivation call until its window ends
                _keep_alive_blocked_until(max(threshold, today), planned, rules, today, candidates)
        if pinned:
            pinned_codes.add(rule.code)
            age_limited_pinned = age_limited_pinned or rule.age_limited
    if pinned_codes:
        # dated today the first time it is found: tomorrow it keeps that day once stored (a fact the
        # fingerprint sees), else it moves to tomorrow
        if any(
            tp.code in pinned_codes and tp.due_on <= today and planner.stored_day(tp.code, tp.occurrence) != tp.due_on
            for tp in planned
        ):
            candidates.append(tomorrow)
        if age_limited_pinned:
            # the vehicle's age on today changes once a month
            registered = planner.registered_on()
            months = _months_between(registered, today)
            candidates.append(add_months(registered, months + 1))


def _keep_alive_blocked_until(
    day: date, planned: Sequence[PlannedTouchpoint], rules: Sequence[_Rule], today: date, candidates: list[date]
) -> None:
    """The day the calls keeping a keep-alive (dated ``day``) back are past: a call dated between today
    and ``day`` the day after its date, a conditional one dated before today the day after its window."""
    conditional = {r.code for r in rules if r.anchor in KEEP_ALIVE_BLOCKING_ANCHORS}
    ends = [
        (tp.window_end if tp.code in conditional else tp.due_on) + _ONE_DAY
        for tp in planned
        if tp.channel == "call"
        and (today <= tp.due_on <= day or (tp.code in conditional and tp.due_on < today <= tp.window_end))
    ]
    if ends:
        candidates.append(max(ends))
