"""What reaches the product from outside the call screen: the weekly DMS import, admin edits.

The DMS export goes through customers.importing.import_file, as an uploaded file would (customers,
then vehicles, then sales, then visits, each a CSV). Admin edits go through the admin's own save
methods: a template's script edited (TouchpointTemplateAdmin.save_model bumps its version), a refusal
typed into a customer's consents (saved as the inline saves it, then ReplanOnSaveMixin's re-plan), a
car marked as traded in (Vehicle.is_active off, then the same re-plan).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from django.contrib import admin
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.test import RequestFactory

from contacts import tasks
from contacts.models import TouchpointTemplate
from contacts.simulation.customers import World
from customers.importing import import_file
from customers.models import Consent, Customer, Dealership, Vehicle

KINDS_IN_ORDER = ("customers", "vehicles", "sales", "visits")


@dataclass
class ImportCounts:
    files: int = 0
    rows: int = 0
    refused: int = 0
    first_refusal: str = ""


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=";")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def import_week(*, world: World, dealerships: list[Dealership], today: dt.date, counts: ImportCounts) -> None:
    """The week's DMS export of each dealership, imported kind by kind."""
    for dealership in dealerships:
        for kind in KINDS_IN_ORDER:
            rows = world.buffer.take(dealership.id, kind)
            if not rows:
                continue
            report = import_file(kind=kind, content=_csv(rows), dealership=dealership, dry_run=False)
            counts.files += 1
            counts.rows += len(rows)
            counts.refused += len(report.refused)
            if report.refused and not counts.first_refusal:
                refusal = report.refused[0]
                counts.first_refusal = f"{kind} line {refusal.ref}: {refusal.errors}"
    world.after_import(today=today)


def admin_user() -> User:
    user, created = User.objects.get_or_create(username="sim-admin", defaults={"is_staff": True, "is_superuser": True})
    return user


def _admin_request() -> HttpRequest:
    request = RequestFactory().post("/admin/")
    request.user = admin_user()
    return request


def edit_template(*, day: dt.date, number: int) -> str:
    """An admin edits one call template's script in the admin (its version goes up)."""
    templates = list(TouchpointTemplate.objects.filter(is_active=True, channel="call").order_by("code"))
    if not templates:
        return ""
    template = templates[number % len(templates)]
    template.script_ru = (template.script_ru or "").rstrip() + f"\n\nУточните, удобно ли клиенту разговаривать ({day:%d.%m})."
    admin.site._registry[TouchpointTemplate].save_model(_admin_request(), template, None, True)  # type: ignore[attr-defined]
    return template.code


def refuse_in_admin(*, customer: Customer, channel: str, now: dt.datetime) -> None:
    """A supervisor types a refusal into the customer's consents in the admin."""
    Consent.objects.update_or_create(
        customer=customer, channel=channel, purpose="all",
        defaults={"is_allowed": False, "changed_at": now, "reason": "Жалоба в отдел качества", "source": "admin"}
    )
    tasks.replan_on_commit(customer.vehicles.values_list("id", flat=True))


def mark_traded_in(*, vehicle_id: int) -> None:
    """Sales marks the traded-in car inactive in the admin (the DMS files have no column for it)."""
    Vehicle.objects.filter(pk=vehicle_id).update(is_active=False)
    tasks.replan_on_commit([vehicle_id])
