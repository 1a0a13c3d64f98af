"""The call screen's read model: the topics of a call, its script sections and the plan's other items,
said at display time in words, in the agent's language, with the call's car first.

The queue build stores the agenda and the script once, in the customer's language (contacts.queues);
what goes stale or repeats there is mended here, when the agent reads it:
- one line per topic and car: several missed maintenances of one car are one topic listing each;
- the greeting is said once per call, not once per merged topic;
- an invitation whose maintenance date has passed says when it was due and how long ago, instead of
  promising "soon, about" a past date (in the customer's language: the agent reads it aloud).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, TypedDict

from django.utils import translation
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from contacts.models import CallTask, CallTaskItem, TouchpointTemplate
from contacts.queues import AGENT_MARKER
from contacts.wording import maintenance_words, reason_text, resolution_text, say_date

SECTION_HEADING = re.compile(r"(?m)^## ")
GREETING = re.compile(r"(?m)^(Greeting|Приветствие):.*(\n|$)")
PURPOSE = re.compile(r"(?m)^(Purpose|Цель):.*$")
# Reason kinds of the plan engine (contacts.core.plan_engine) that name a maintenance with its due date.
MAINTENANCE_REASONS = ("maintenance_due", "missed_maintenance")


class Topic(TypedDict):
    """One line of "Why this call is here": a touchpoint template on one car."""

    code: str
    title: str
    vehicle: str
    vehicle_id: int | None
    why: str
    positions: list[int]  # the agenda positions (CallTaskItem.position) this line stands for
    overdue: list[tuple[str, dt.date]]  # (maintenance words, due day) of maintenances already due


class Section(TypedDict):
    title: str
    body: str
    position: int | None  # the agenda position its result is stored on; None for a preamble


def call_topics(task: CallTask, *, today: dt.date) -> list[Topic]:
    """The call's agenda in words, one line per template and car, the call's own order kept."""
    agenda: list[dict[str, Any]] = list(task.agenda or [])
    names = {t.code: t.name for t in TouchpointTemplate.objects.filter(code__in={i.get("code", "") for i in agenda})}
    vehicle_of = dict(
        CallTaskItem.objects.filter(call_task=task).values_list("touchpoint_id", "touchpoint__vehicle_id")
    )
    topics: dict[tuple[str, Any], Topic] = {}
    for position, item in enumerate(agenda):
        code = item.get("code", "")
        vehicle_id = vehicle_of.get(int(item.get("touchpoint_id") or 0))
        key = (code, vehicle_id if vehicle_id is not None else item.get("vehicle", ""))
        reason, detail = item.get("reason", ""), item.get("detail") or {}
        words = reason_text(reason, detail) if reason else item.get("why", "")
        topic = topics.get(key)
        if topic is None:
            topic = topics[key] = Topic(
                code=code, title=names.get(code, item.get("title", code)), vehicle=item.get("vehicle", ""),
                vehicle_id=vehicle_id, why=words, positions=[position], overdue=[],
            )
        else:
            topic["positions"].append(position)
            if words and words not in topic["why"]:
                topic["why"] = f"{topic['why']}; {words}"
        parts = reason.split(":")
        if parts[0] in MAINTENANCE_REASONS and len(parts) > 2:
            try:
                due = dt.date.fromisoformat(parts[1])
            except ValueError:
                continue
            if due < today:
                topic["overdue"].append((parts[2], due))
    return list(topics.values())


def call_vehicle_ids(topics: list[Topic]) -> list[int]:
    """The cars this call is about, most topics first (the first one is the call's car)."""
    counts: dict[int, int] = {}
    for topic in topics:
        if topic["vehicle_id"] is not None:
            counts[topic["vehicle_id"]] = counts.get(topic["vehicle_id"], 0) + len(topic["positions"])
    return sorted(counts, key=lambda vehicle_id: -counts[vehicle_id])


def script_sections(
    task: CallTask, *, topics: list[Topic], agent_name: str, today: dt.date, language: str
) -> list[Section]:
    """One section per topic line ("## title" blocks, as the queue build writes them), the agent named,
    the greeting once, an overdue maintenance said with its true date."""
    text = (task.script or "").replace(AGENT_MARKER, agent_name)
    blocks = SECTION_HEADING.split(text)
    preamble = blocks[0].strip()
    bodies = [block.partition("\n")[2].strip() for block in blocks[1:]]
    titles = [block.partition("\n")[0].strip() for block in blocks[1:]]
    sections: list[Section] = [Section(title="", body=preamble, position=None)] if preamble else []
    greeted = bool(preamble and GREETING.search(preamble))
    for topic in topics:
        first = topic["positions"][0]
        if first >= len(bodies):
            continue
        body = bodies[first]
        if greeted:
            body = GREETING.sub("", body, count=1).strip()
        greeted = greeted or bool(GREETING.search(bodies[first]))
        purpose = PURPOSE.search(body) if topic["overdue"] else None
        if purpose is not None:
            truth = _overdue_purpose(purpose.group(1), topic, today, language)
            body = body[: purpose.start()] + truth + body[purpose.end():]
        title = f"{topic['title']} — {topic['vehicle']}" if topic["vehicle"] else (topic["title"] or titles[first])
        sections.append(Section(title=title, body=body, position=first))
    if not topics:  # a call without an agenda: its script as written
        sections += [Section(title=t, body=b, position=None) for t, b in zip(titles, bodies, strict=True)]
    return sections


def _overdue_purpose(label: str, topic: Topic, today: dt.date, language: str) -> str:
    with translation.override(language):
        missed = "; ".join(
            _("%(maintenance)s on %(day)s, %(ago)s ago") % {
                "maintenance": maintenance_words(number), "day": say_date(due), "ago": timesince(due, today, depth=1)}
            for number, due in topic["overdue"]
        )
        return f"{label}: " + _(
            "By our records your %(car)s was due for scheduled maintenance (%(missed)s), and we have not seen it "
            "since. We want to make sure everything is fine with the car."
        ) % {"car": topic["vehicle"], "missed": missed}


def other_plans(explanation: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """What else was planned for this customer and why it is not on this call, in words."""
    codes = {item.get("code", "") for items in explanation.values() if isinstance(items, list) for item in items}
    names = {t.code: t.name for t in TouchpointTemplate.objects.filter(code__in=codes)}
    result: dict[str, list[dict[str, Any]]] = {}
    for kind in ("merged", "deferred", "suppressed"):
        result[kind] = [
            {"title": names.get(item.get("code", ""), item.get("code", "")),
             "why": resolution_text(item.get("reason", "")), "on": _date_or_none(item.get("on", ""))}
            for item in explanation.get(kind) or []
        ]
    return result


def _date_or_none(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None
