"""Template drafts and versions: every change is a draft until published; published versions are kept.

The template editor saves a draft (``save_template_draft``), previews it, and publishes it
(``publish_template_version``); an old version is restored by making it the draft again
(``restore_template_version``) and publishing that. The Django admin's save records its published
version through ``record_published_version``, so both paths keep the history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict

from django.contrib.auth.models import User
from django.db import transaction

from audit import trail
from contacts import queueing
from contacts.models import Department, TemplateVersion, TouchpointTemplate
from contacts.planning.sweep import REPLAN_CHUNK


class TemplateFields(TypedDict):
    """A template's editable fields but the scripts, as stored on TemplateVersion.template_fields."""

    name_en: str
    name_ru: str
    department: str  # Department.code
    channel: str
    anchor: str
    offset_days: int
    offset_months: int
    recurrence: str
    window_start_days: int | None
    window_end_days: int | None
    priority: int
    sale_kinds: list[str]
    requires_birthday: bool
    may_go_on_days_off: bool
    skip_when_maintenance_booked_or_done: bool
    min_vehicle_age_months: int | None
    max_vehicle_age_months: int | None
    phase: str
    is_active: bool


PLAIN_FIELDS = tuple(name for name in TemplateFields.__annotations__ if name != "department")


def fields_of(template: TouchpointTemplate) -> TemplateFields:
    values: dict[str, Any] = {name: getattr(template, name) for name in PLAIN_FIELDS}
    values["sale_kinds"] = list(template.sale_kinds or [])
    values["department"] = template.department.code
    return TemplateFields(**values)  # type: ignore[typeddict-item]


def template_of(version: TemplateVersion) -> TouchpointTemplate:
    """The template as this version would make it: the live row with the version's values, unsaved
    (a new template's draft gives a new, unsaved row)."""
    template = (
        TouchpointTemplate.objects.select_related("department").get(pk=version.template_id)
        if version.template_id
        else TouchpointTemplate(code=version.code)
    )
    values = version.template_fields
    for name in PLAIN_FIELDS:
        if name in values:
            setattr(template, name, values[name])
    # A version names its department by code; one deleted since keeps the template's current department.
    department = Department.objects.filter(code=values.get("department")).first()
    if department is not None:
        template.department = department
    template.script_en, template.script_ru = version.script_en, version.script_ru
    template.script_share, template.script_variants = version.script_share, list(version.script_variants or [])
    return template


def scripts_of(template: TouchpointTemplate) -> dict[str, Any]:
    """The template's scripts as a version keeps them: its own (variant A) and its A/B variants."""
    return {
        "script_en": template.script_en,
        "script_ru": template.script_ru,
        "script_share": template.script_share if template.script_variants else 100,
        "script_variants": list(template.script_variants or []),
    }


def open_draft(template: TouchpointTemplate) -> TemplateVersion | None:
    return TemplateVersion.objects.filter(code=template.code, status=TemplateVersion.Status.DRAFT).first()


def save_template_draft(*, edited: TouchpointTemplate, user: User, now: dt.datetime) -> TemplateVersion:
    """Keep ``edited`` (validated, unsaved) as the template's draft; nothing goes live."""
    edited.full_clean(validate_unique=edited.pk is not None)
    draft, _created = TemplateVersion.objects.update_or_create(
        code=edited.code,
        status=TemplateVersion.Status.DRAFT,
        defaults={
            "template": edited if edited.pk else None,
            "template_fields": fields_of(edited),
            **scripts_of(edited),
            "created_by": user,
            "created_at": now,
        },
    )
    return draft


def record_published_version(
    *, template: TouchpointTemplate, user: User | None, now: dt.datetime, draft: TemplateVersion | None = None
) -> TemplateVersion:
    """The template row as saved, as its published version ``template.version`` (kept for good); every
    plan is redone through the workers once this commits, so the next queue build uses the version (the
    re-plan skips nothing: the templates are part of each vehicle's fingerprint)."""
    version = draft or TemplateVersion(code=template.code)
    version.template = template
    version.status = TemplateVersion.Status.PUBLISHED
    version.number = template.version
    version.template_fields = fields_of(template)
    for name, value in scripts_of(template).items():
        setattr(version, name, value)
    version.published_by, version.published_at = user, now
    if draft is None:
        version.created_by, version.created_at = user, now
    version.save()
    _record_publication(version, user=user, now=now)  # audit trail
    queueing.send_on_commit(queueing.REPLAN_ALL_VEHICLES, REPLAN_CHUNK, False)  # not the nightly sweep
    return version


def publish_template_version(*, draft: TemplateVersion, user: User, now: dt.datetime) -> TemplateVersion:
    """Make the draft live: the template row takes its values under the next version number."""
    with transaction.atomic():
        draft = TemplateVersion.objects.select_for_update().get(pk=draft.pk, status=TemplateVersion.Status.DRAFT)
        template = template_of(draft)
        if template.pk:
            TouchpointTemplate.objects.select_for_update().filter(pk=template.pk).values("pk").get()
            template.version = TouchpointTemplate.objects.values_list("version", flat=True).get(pk=template.pk) + 1
        else:
            template.version = 1
        template.full_clean()
        template.save()
        return record_published_version(template=template, user=user, now=now, draft=draft)


def restore_template_version(*, version: TemplateVersion, user: User, now: dt.datetime) -> TemplateVersion:
    """An old published version becomes the draft again, to preview and publish as the next version."""
    return save_template_draft(edited=template_of(version), user=user, now=now)


def discard_template_draft(*, draft: TemplateVersion) -> None:
    TemplateVersion.objects.filter(pk=draft.pk, status=TemplateVersion.Status.DRAFT).delete()


def _record_publication(version: TemplateVersion, *, user: User | None, now: dt.datetime) -> None:
    """The audit entry of a published version: each field's value in the version before and in this one."""
    previous = TemplateVersion.objects.filter(code=version.code, status=TemplateVersion.Status.PUBLISHED,
                                              number__lt=version.number).order_by("-number").first()
    before: dict[str, Any] = {"version": None}
    if previous is not None:
        before = {**previous.template_fields, "script_en": previous.script_en, "script_ru": previous.script_ru,
                  "version": previous.number}
    after = {**version.template_fields, "script_en": version.script_en, "script_ru": version.script_ru,
             "version": version.number}
    trail.record(object_type=trail.ObjectType.TEMPLATE, object_id=version.template_id, action=trail.Action.PUBLISH,
                 changes=trail.diff(before, after), actor=user, at=now)
