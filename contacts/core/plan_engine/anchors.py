"""One planner per anchor: the dated touchpoints of one template for one vehicle, emitted into the
``_Planner``. Occurrence numbers as in the package docstring."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Final

from contacts.core.plan_engine.dates import _months_between, _on_month_day
from contacts.core.plan_engine.planner import _BOOKING_MATCH, _VISIT_MATCH, _Planner, warranty_end
from contacts.core.plan_engine.rules import _Rule
from contacts.core.plan_engine.types import KEEP_ALIVE_BLOCKING_ANCHORS
from customers.core.calendar import add_months

_SMALL_INTS: Final = tuple(str(n) for n in range(367))  # season indexes (at most 366 month-days)


def plan_sale(planner: _Planner, rule: _Rule) -> None:
    lower, upper = planner.bounds[rule.phase]
    start = planner.start
    kind = planner.sale.kind
    if rule.recurrence == "once":
        day = rule.shift(start)
        if lower <= day < upper:
            planner.emit(
                rule, 1, day, "sale:" + planner.start_iso, {"sold_on": planner.start_iso, "sale_kind": kind}
            )
        return
    k = 1
    while True:
        anniversary = add_months(start, 12 * k)
        day = rule.shift(anniversary)
        if day >= upper:
            return
        if day >= lower:
            detail = {
                "sold_on": planner.start_iso,
                "sale_kind": kind,
                "anniversary_on": anniversary.isoformat(),
            }
            planner.emit(rule, k, day, f"sale:{planner.start_iso}:{k}", detail)
        k += 1


def plan_maintenance_due(planner: _Planner, rule: _Rule) -> None:
    lower, upper = planner.bounds[rule.phase]
    skip = rule.skip_when_booked_or_done
    for number, due, driver in planner.dues():
        day = rule.shift(due)
        if not lower <= day < upper:
            continue
        if skip and _booked_or_done(planner, due, day):
            continue
        due_iso = due.isoformat()
        reason = f"maintenance_due:{due_iso}:TO-{number}"
        planner.emit(rule, number, day, reason, planner.due_detail(number, due_iso, driver))


def _booked_or_done(planner: _Planner, due: date, day: date) -> bool:
    """A booking for this maintenance, or a maintenance visit for it before the touchpoint date."""
    since = due - _VISIT_MATCH
    booked = planner.facts.maintenance_booked_on
    if booked is not None and since <= booked <= due + _BOOKING_MATCH:
        return True
    for visit in planner.visits():
        if since <= visit < day:
            return True
    return False


def plan_maintenance_visit(planner: _Planner, rule: _Rule) -> None:
    lower, upper = planner.bounds[rule.phase]
    for index, visit in enumerate(planner.visits(), start=1):
        day = rule.shift(visit)
        if day >= upper:
            return
        if day >= lower:
            visit_iso = visit.isoformat()
            detail = {"visited_on": visit_iso, "visit_number": str(index)}
            planner.emit(rule, index, day, f"maintenance_visit:{visit_iso}:{index}", detail)


def plan_warranty_end(planner: _Planner, rule: _Rule) -> None:
    end = warranty_end(planner.facts, planner.sale)
    if end is None:
        return
    end_on, driver = end
    lower, upper = planner.bounds[rule.phase]
    day = rule.shift(end_on)
    if lower <= day < upper:
        end_iso = end_on.isoformat()
        detail = {"warranty_end_on": end_iso, "driver": driver}
        if planner.facts.warranty_months:
            detail["warranty_months"] = str(planner.facts.warranty_months)
        if planner.facts.warranty_km:
            detail["warranty_km"] = str(planner.facts.warranty_km)
        if planner._kpm:
            detail["km_per_month"] = planner._kpm
        planner.emit(rule, 1, day, f"warranty_end:{end_iso}:{driver}", detail)


def plan_insurance_renewal(planner: _Planner, rule: _Rule) -> None:
    lower, upper = planner.bounds[rule.phase]
    source_day = planner.facts.insurance_renews_on
    source = "sale_anniversary" if source_day is None else "policy"
    month, dom = (source_day or planner.start).month, (source_day or planner.start).day
    start = planner.start
    year = start.year
    number = 0
    while True:
        renewal = _on_month_day(year, month, dom)
        year += 1
        if renewal <= start:
            continue
        number += 1
        day = rule.shift(renewal)
        if day >= upper:
            return
        if day >= lower:
            renewal_iso = renewal.isoformat()
            detail = {"renewal_on": renewal_iso, "renewal_number": str(number), "source": source}
            planner.emit(rule, number, day, "insurance_renewal:" + renewal_iso, detail)


def plan_birthday(planner: _Planner, rule: _Rule) -> None:
    birthday = planner.facts.birthday
    if birthday is None:
        return
    lower, upper = planner.bounds[rule.phase]
    first_year = planner.start.year
    year = first_year
    while True:
        anniversary = _on_month_day(year, birthday.month, birthday.day)
        day = rule.shift(anniversary)
        if day >= upper:
            return
        if day >= lower and anniversary > birthday:
            anniversary_iso = anniversary.isoformat()
            detail = {"birthday_on": anniversary_iso, "age": str(year - birthday.year)}
            planner.emit(rule, year - first_year + 1, day, "birthday:" + anniversary_iso, detail)
        year += 1


def plan_season(planner: _Planner, rule: _Rule) -> None:
    seasons = planner.facts.season_dates or rule.seasons
    per_year = len(seasons)
    offset, offset_months = rule.offset, rule.offset_months
    lower, upper = planner.bounds[rule.phase]
    first_year = planner.start.year
    year = first_year
    while True:
        for index, (month, dom) in enumerate(seasons):
            season_on = date(year, month, dom) if dom <= 28 else _on_month_day(year, month, dom)
            day = season_on + offset if not offset_months else rule.shift(season_on)
            if day >= upper:
                return
            if day >= lower:
                occurrence = (year - first_year) * per_year + index + 1
                season_iso = season_on.isoformat()
                index_str = _SMALL_INTS[index + 1]
                detail = {"season_on": season_iso, "season_index": index_str}
                planner.emit(rule, occurrence, day, "season:" + season_iso + ":" + index_str, detail)
        year += 1


def plan_missed_maintenance(planner: _Planner, rule: _Rule) -> None:
    """An unfulfilled due date: threshold (due + offset) <= today, no maintenance visit since
    due - 60 days, no booking still ahead. Dated at the threshold, not earlier than the day it was
    first planned for (``_Planner.conditional_day``).

    Once per car (docs/program.md version 2): a car that missed several maintenances gets one touchpoint,
    for the latest miss, whose detail names them all ("TO-4 and TO-5, due since ...")."""
    today = planner.today
    lower, upper = planner.bounds[rule.phase]
    booked = planner.facts.maintenance_booked_on
    missed: list[tuple[int, str, str, date]] = []
    for number, due, driver in planner.dues():
        threshold = rule.shift(due)
        if threshold > today:
            continue
        since = due - _VISIT_MATCH
        if any(since <= v <= today for v in planner.visits()):
            continue
        if booked is not None and booked >= since and booked >= today:
            continue
        if lower <= max(threshold, today) < upper:
            missed.append((number, due.isoformat(), driver, threshold))
    if missed:
        number, due_iso, driver, _threshold = missed[-1]
        # One touchpoint per car for its misses: when one is stored already for a maintenance still
        # missed, it stays that touchpoint (a new reading that renumbers the latest miss must not
        # make a second call about the same thing); else it is the latest miss's.
        thresholds = {n: threshold for n, _due, _driver, threshold in missed}
        kept = [n for n in planner.stored_occurrences(rule.code) if n in thresholds]
        occurrence = max(kept) if kept else number
        day = planner.conditional_day(rule, occurrence, thresholds[occurrence])
        if not lower <= day < upper:
            return
        detail = planner.due_detail(number, due_iso, driver)
        if len(missed) > 1:
            detail["missed_numbers"] = ",".join(str(n) for n, _due, _driver, _day in missed)
            detail["missed_since"] = missed[0][1]
        planner.emit(rule, occurrence, day, f"missed_maintenance:{due_iso}:TO-{number}", detail)


def plan_lapsed(planner: _Planner, rule: _Rule) -> None:
    """No visit and no reached contact for longer than the threshold (12 months + 1 day): dated the day
    it was first planned for (today, the first time)."""
    last, source = planner.last_contact()
    threshold = rule.shift(last)
    if threshold > planner.today:
        return
    lower, upper = planner.bounds[rule.phase]
    occurrence = _months_between(planner.start, last) + 1
    day = planner.conditional_day(rule, occurrence, threshold)
    if lower <= day < upper:
        last_iso = last.isoformat()
        detail = {"last_contact_on": last_iso, "last_contact": source}
        planner.emit(rule, occurrence, day, "lapsed:" + last_iso, detail)


def plan_keep_alive(planner: _Planner, rule: _Rule, lapsed_planned: bool) -> None:
    """No reached contact for the threshold (11 months): last contact + threshold, not earlier than the
    day it was first planned for; not when the customer has lapsed (the reactivation call covers it) or
    another call is planned between today and that date."""
    if lapsed_planned:
        return
    last, source = planner.last_contact()
    today = planner.today
    occurrence = _months_between(planner.start, last) + 1
    day = planner.conditional_day(rule, occurrence, rule.shift(last))
    lower, upper = planner.bounds[rule.phase]
    if not lower <= day < upper:
        return
    for due_on, _, _, _, other, _, _ in planner.out:
        if other.channel == "call" and (today <= due_on <= day or _still_open_conditional(other, due_on, today)):
            return
    last_iso = last.isoformat()
    detail = {"last_contact_on": last_iso, "last_contact": source}
    planner.emit(rule, occurrence, day, "keep_alive:" + last_iso, detail)


def _still_open_conditional(rule: _Rule, due_on: date, today: date) -> bool:
    """A missed-maintenance or reactivation call dated before today whose window is still open: it
    keeps its day (``_Planner.conditional_day``) and is still to come, as a call dated ahead is."""
    return rule.anchor in KEEP_ALIVE_BLOCKING_ANCHORS and due_on < today <= due_on + rule.window_end


_PLANNERS: Final[dict[str, Callable[[_Planner, _Rule], None]]] = {
    "sale": plan_sale,
    "maintenance_due": plan_maintenance_due,
    "maintenance_visit": plan_maintenance_visit,
    "warranty_end": plan_warranty_end,
    "insurance_renewal": plan_insurance_renewal,
    "birthday": plan_birthday,
    "season": plan_season,
    "missed_maintenance": plan_missed_maintenance,
    "lapsed": plan_lapsed,
}
