"""Machine codes in words, at display time, in the reader's language (issue 15: "everything said in words").

The plan engine, the resolver and the outcomes store codes (``maintenance_due:2026-12-10:TO-1``,
``window_closed:min_gap``, ``call:booked``); the call screen, the customer card and the plan timeline
show them through these functions, so the words follow the UI's language and the locale's date and
number formats, whatever language the queue build ran in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from django.utils import formats
from django.utils.translation import gettext as _

from contacts.models import CallAttempt
from customers.models import Channel, Purpose


def say_date(value: str | dt.date | None) -> str:
    """A day as the locale writes it (10 December 2026 / 10 декабря 2026 г.); ISO text is read first."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            return formats.date_format(dt.date.fromisoformat(value), "DATE_FORMAT")
        except ValueError:
            return value
    return formats.date_format(value, "DATE_FORMAT")


def say_number(value: float | int | str) -> str:
    """A whole number grouped as the locale groups it (1,484 / 1 484)."""
    try:
        number = round(float(value))
    except (TypeError, ValueError):
        return str(value)
    return formats.number_format(number, decimal_pos=0, use_l10n=True, force_grouping=True)


def maintenance_words(part: str) -> str:
    """``TO-4`` (the plan engine's code for the 4th scheduled maintenance) in words."""
    number = part.removeprefix("TO-")
    return _("maintenance %(n)s") % {"n": number} if number.isdigit() else part


def _due(parts: list[str], detail: Mapping[str, str]) -> str:
    day, number = say_date(parts[1] if len(parts) > 1 else detail.get("due_on")), parts[2] if len(parts) > 2 else ""
    if "km_per_month" in detail:
        return _("%(maintenance)s due on %(day)s, predicted from %(km)s km a month") % {
            "maintenance": maintenance_words(number), "day": day, "km": say_number(detail["km_per_month"])}
    return _("%(maintenance)s due on %(day)s") % {"maintenance": maintenance_words(number), "day": day}


def _missed(parts: list[str], detail: Mapping[str, str]) -> str:
    day, number = say_date(parts[1] if len(parts) > 1 else detail.get("due_on")), parts[2] if len(parts) > 2 else ""
    if detail.get("missed_numbers"):  # one topic per car naming every miss (contacts.core.plan_engine)
        numbers = ", ".join(maintenance_words(f"TO-{n}") for n in detail["missed_numbers"].split(","))
        return _("%(maintenances)s missed, due since %(day)s") % {
            "maintenances": numbers, "day": say_date(detail.get("missed_since"))}
    return _("%(maintenance)s was due on %(day)s and no visit followed") % {"maintenance": maintenance_words(number), "day": day}


def _warranty(parts: list[str], detail: Mapping[str, str]) -> str:
    day = say_date(parts[1] if len(parts) > 1 else detail.get("warranty_end_on"))
    if len(parts) > 2 and parts[2] == "km":
        return _("the warranty ends about %(day)s, by mileage") % {"day": day}
    return _("the warranty ends on %(day)s") % {"day": day}


# The plan engine's reason kinds (contacts.core.plan_engine: the emit() calls), each in words.
REASON_WORDS: dict[str, Callable[[list[str], Mapping[str, str]], str]] = {
    "sale": lambda parts, detail: _("bought on %(day)s") % {"day": say_date(parts[1] if len(parts) > 1 else "")}
    if len(parts) < 3 else _("%(years)s years since the purchase on %(day)s") % {"years": parts[2], "day": say_date(parts[1])},
    "maintenance_due": _due,
    "missed_maintenance": _missed,
    "maintenance_visit": lambda parts, detail: _("after the service visit of %(day)s") % {"day": say_date(parts[1])},
    "warranty_end": _warranty,
    "insurance_renewal": lambda parts, detail: _("the insurance renews on %(day)s") % {"day": say_date(parts[1])},
    "birthday": lambda parts, detail: _("birthday on %(day)s") % {"day": say_date(parts[1])},
    "season": lambda parts, detail: _("the tyre season starts about %(day)s") % {"day": say_date(parts[1])},
    "lapsed": lambda parts, detail: _("no visit or purchase since %(day)s") % {"day": say_date(parts[1])},
    "keep_alive": lambda parts, detail: _("no contact since %(day)s") % {"day": say_date(parts[1])},
}


def reason_text(reason: str, detail: Mapping[str, str] | None = None) -> str:
    """Why a touchpoint exists, in words: ``maintenance_due:2026-12-10:TO-1`` → "maintenance 1 due on …"."""
    parts = (reason or "").split(":")
    words = REASON_WORDS.get(parts[0])
    if words is None or (len(parts) < 2 and parts[0] != "sale"):
        return reason
    try:
        return words(parts, detail or {})
    except (IndexError, ValueError):
        return reason


# The resolver's rule codes (contacts.core.pressure), in words an agent reads.
RULE_WORDS: dict[str, Callable[[], str]] = {
    "merge": lambda: _("moved so that one call covers several topics"),
    "holiday": lambda: _("a public holiday"),
    "weekend": lambda: _("a weekend"),
    "message_same_day_as_call": lambda: _("a message goes out that day"),
    "min_gap": lambda: _("too soon after another call"),
    "cap_30": lambda: _("the limit of calls in 30 days"),
    "cap_365": lambda: _("the limit of calls in a year"),
    "message_gap": lambda: _("too soon after another message"),
    "not_called": lambda: _("nobody called in time"),
    "capacity": lambda: _("the call centre's capacity for the day"),
}
NOT_REACHED_WORDS: dict[str, Callable[[], str]] = {
    "no_answer": lambda: _("no answer after every retry"),
    "wrong_number": lambda: _("wrong number"),
    "next_call_too_close": lambda: _("another call comes soon after"),
}


def _rule(code: str) -> str:
    return RULE_WORDS[code]() if code in RULE_WORDS else code


def _channel(code: str) -> str:
    return str(Channel(code).label) if code in Channel.values else code


def resolution_text(resolution: str) -> str:
    """What became of a touchpoint, or why the resolver moved it, in words (``call:booked`` → "call: …")."""
    kind, _colon, rest = (resolution or "").partition(":")
    if kind == "call":
        label = CallAttempt.Outcome(rest).label if rest in CallAttempt.Outcome.values else rest
        return _("call: %(outcome)s") % {"outcome": label}
    if kind == "planned":  # the resolver placed it on this day (contacts.queues, the daily build's verdicts)
        return _("placed on %(day)s") % {"day": say_date(rest)}
    if kind == "merged_into":
        return _("on this call, so the customer gets one call instead of several")
    if kind == "deferred":
        return _rule(rest)
    if kind == "window_closed":
        return _("its time window closed (%(rule)s)") % {"rule": _rule(rest)}
    if kind == "do_not_contact":
        channel, _colon, purpose = rest.partition(":")
        if purpose in Purpose.values and purpose != Purpose.ALL:
            return _("the customer refused %(purpose)s by this channel (%(channel)s)") % {
                "purpose": Purpose(purpose).label, "channel": _channel(channel)
            }
        return _("the customer refused this channel (%(channel)s)") % {"channel": _channel(channel)}
    if kind == "not_reached":
        words = NOT_REACHED_WORDS.get(rest)
        return _("not reached: %(why)s") % {"why": words() if words else rest}
    if kind == "reopened":  # an expired or withdrawn call's topic, back in the plan (contacts.queues, planning)
        return _("back in the plan: its call was not made")
    if resolution == "obsolete:vehicle_gone":
        return _("no longer needed: the car was sold or traded in")
    simple = {
        "holdout": lambda: _("hold-out group: no planned contact"),
        "one_greeting_per_person": lambda: _("one greeting per person: another car of the customer carries it"),
        "unreachable": lambda: _("the phone is marked unreachable"),
        "window_passed": lambda: _("its time window has passed"),
        "beyond_horizon": lambda: _("too far ahead to plan yet"),
        "obsolete": lambda: _("no longer needed: its facts changed"),
        "placed": lambda: _("placed on a call or message"),
    }
    return simple[kind]() if kind in simple and not rest else resolution
