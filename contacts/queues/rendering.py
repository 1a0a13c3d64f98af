"""What an agent reads and a customer receives: the call task with its agenda and script, the message
body, and the one-line "why this call" of each topic."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.core import pressure
from contacts.models import (
    AgendaItem,
    CallTask,
    Explanation,
    OutboxMessage,
    Touchpoint,
)
from contacts.scripts import render_script
from customers.models import Customer, Dealership, VehicleForecast

logger = logging.getLogger(__name__)


# The script's stand-in for the agent's first name: the build renders it, the call screen replaces it.
AGENT_MARKER = "[[agent]]"


def why(reason: str, detail: dict[str, str]) -> str:
    """One line an agent reads: why this touchpoint is on the call (in the current language)."""
    if "due_on" in detail and "km_per_month" in detail:
        return _("maintenance due %(due)s (TO-%(n)s), predicted from %(kpm)s km a month") % {
            "due": detail["due_on"], "n": detail.get("maintenance_number", "?"), "kpm": round(float(detail["km_per_month"]))
        }
    if "due_on" in detail:
        return _("maintenance due %(due)s") % {"due": detail["due_on"]}
    if "warranty_end_on" in detail:
        return _("warranty ends %(day)s") % {"day": detail["warranty_end_on"]}
    if "visited_on" in detail:
        return _("after the service visit of %(day)s") % {"day": detail["visited_on"]}
    if "sold_on" in detail:
        return _("bought on %(day)s") % {"day": detail["sold_on"]}
    return reason


def script_context(customer: Customer, tp: Touchpoint, forecast: VehicleForecast | None, dealership: Dealership) -> dict[str, Any]:
    return {
        "customer": customer,
        "vehicle": tp.vehicle,
        # Rounded for reading aloud: "about 1,420 km a month", not 1419.7.
        "forecast": None
        if forecast is None
        else {
            "next_due_on": forecast.next_due_on,
            "km_per_month": round(forecast.km_per_month),
            # From the dealership at hand: the property would load the car and its dealership per touchpoint.
            "odometer_today_km": forecast.odometer_on_day(dealership.local_date(timezone.now())),
            "due_odometer_km": forecast.due_odometer_km,
            "interval_number": forecast.interval_number,
        },
        "dealership": dealership,
        "agent": {"first_name": AGENT_MARKER, "last_name": "", "username": AGENT_MARKER},
        "touchpoint": tp,
    }


def script_variants_of(*, customer: Customer, agenda: list[Touchpoint]) -> dict[int, str]:
    """Script A/B: touchpoint id -> the variant its script is read in. One call reads one variant: the
    one its primary topic's template (the first on the agenda) gives this customer, by a stable hash
    (contacts.core.variants), so re-builds choose the same. The primary template's other topics on the
    call (another car) read the same variant; other templates' topics read their own script (A) and
    record none, so each call counts once, for its primary topic's test."""
    if not agenda:
        return {}
    primary = agenda[0].template
    variant = primary.variant_for(customer.id)
    if not variant:
        return {}
    return {tp.id: variant for tp in agenda if tp.template_id == primary.id}


def call_task_for(
    *,
    dealership: Dealership,
    customer: Customer,
    plan: pressure.CallPlan,
    agenda: list[Touchpoint],
    forecasts: dict[int, VehicleForecast],
    explanation: Explanation,
    gap_days: int,
) -> CallTask:
    sections = []
    items: list[AgendaItem] = []
    language = customer.language
    variants = script_variants_of(customer=customer, agenda=agenda)
    for tp in agenda:
        forecast = forecasts.get(tp.vehicle_id)
        title = tp.template.name_ru if language == "ru" else tp.template.name_en
        variant = variants.get(tp.id, "")
        body = render_script(tp.template.script_for(language, variant), script_context(customer, tp, forecast, dealership))
        sections.append(f"## {title} — {tp.vehicle.make} {tp.vehicle.model}\n{body}")
        items.append(
            AgendaItem(
                touchpoint_id=tp.id,
                code=tp.template.code,
                title=title,
                department=tp.template.department.code,
                vehicle=f"{tp.vehicle.make} {tp.vehicle.model} {tp.vehicle.plate}".strip(),
                why=why(tp.reason, tp.reason_detail or {}),
                reason=tp.reason,
                detail=tp.reason_detail or {},
                template_version=tp.template.version,
                script_variant=variant,
            )
        )
    return CallTask(
        dealership=dealership,
        customer=customer,
        kind=CallTask.Kind.PLANNED,
        is_requested=plan.is_requested,
        scheduled_on=plan.scheduled_on,
        window_start=min(plan.window_start, plan.scheduled_on),
        window_end=max(plan.window_end, plan.scheduled_on),
        blocks_until=plan.scheduled_on + dt.timedelta(days=max(1, gap_days)),
        priority=min(tp.template.priority for tp in agenda),
        agenda=items,
        script="\n\n".join(sections),
        explanation=explanation,
    )


def message_for(
    *, dealership: Dealership, customer: Customer, tp: Touchpoint, forecasts: dict[int, VehicleForecast], day: dt.date
) -> OutboxMessage:
    body = render_script(tp.template.script_for(customer.language), script_context(customer, tp, forecasts.get(tp.vehicle_id), dealership))
    recipient = customer.email if tp.template.channel == "email" else customer.phone
    return OutboxMessage(
        dealership=dealership,
        customer=customer,
        touchpoint=tp,
        channel=tp.template.channel,
        recipient=recipient,
        body=body.replace(AGENT_MARKER, dealership.name),
        send_on=day,
    )
