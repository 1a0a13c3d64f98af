"""The dealership's clock and working-day calendar, as the call screen and the retries read them.

Calls are made inside each dealership's call hours, on its working days (its weekdays minus the
public holidays of its country and region); a retry "the next working day" or "in three days" lands
on such a day.
"""

from __future__ import annotations

import datetime as dt

from contacts.models import ContactRules
from contacts.queues import holiday_dates
from customers.models import Dealership


def local_now(dealership: Dealership, now: dt.datetime) -> dt.datetime:
    return now.astimezone(dealership.zone)


def is_within_call_hours(dealership: Dealership, now: dt.datetime) -> bool:
    local = local_now(dealership, now).time()
    return dealership.call_hours_start <= local < dealership.call_hours_end


def local_day_bounds(dealership: Dealership, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a local calendar day as aware datetimes (DST-safe: each end is its own midnight)."""
    zone = dealership.zone
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


def is_working_day(day: dt.date, *, dealership: Dealership, rules: ContactRules) -> bool:
    working = {int(c) - 1 for c in rules.working_weekdays if c.isdigit()} or {0, 1, 2, 3, 4}
    return day.weekday() in working and day not in holiday_dates(dealership.country, dealership.region, day.year)


def first_working_day_from(day: dt.date, *, dealership: Dealership, rules: ContactRules) -> dt.date:
    for offset in range(31):
        candidate = day + dt.timedelta(days=offset)
        if is_working_day(candidate, dealership=dealership, rules=rules):
            return candidate
    return day


def next_working_day(day: dt.date, *, dealership: Dealership, rules: ContactRules) -> dt.date:
    return first_working_day_from(day + dt.timedelta(days=1), dealership=dealership, rules=rules)

