"""Saving a dealership's rules or profit coefficients, with an event row of what changed, by whom, when."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db import transaction

from audit import trail
from contacts.models import ConfigurationChange, ContactRules


def _as_text(value: Any) -> Any:
    return value if value is None or isinstance(value, (bool, int, str, dict, list)) else str(value)


def save_configuration(
    *, form: forms.ModelForm, subject: str, user: User, now: dt.datetime, extra_fields: tuple[str, ...] = ()
) -> ContactRules:
    """Save a validated form on a dealership's ContactRules (``extra_fields``: the dealership's own fields
    the form also sets) and record the changed values; nothing is written when nothing changed."""
    rules: ContactRules = form.instance
    fields = list(form._meta.fields or ())
    stored = ContactRules.objects.filter(pk=rules.pk).first() if rules.pk else None
    before = {name: getattr(stored, name) for name in fields} if stored else {}
    dealership = type(rules.dealership).objects.get(pk=rules.dealership_id)
    before.update({name: getattr(dealership, name) for name in extra_fields})
    with transaction.atomic():
        saved: ContactRules = form.save()
        after = {name: getattr(saved, name) for name in fields}
        after.update({name: getattr(saved.dealership, name) for name in extra_fields})
        changes = {
            name: [_as_text(before.get(name)), _as_text(value)]
            for name, value in after.items()
            if _as_text(before.get(name)) != _as_text(value)
        }
        if changes:
            ConfigurationChange.objects.create(
                dealership=saved.dealership, subject=subject, changed_by=user, changed_at=now, changes=changes
            )
            trail.record(object_type=trail.ObjectType.CONTACT_RULES, object_id=saved.pk, action=trail.Action.UPDATE,
                         changes=changes, dealership_id=saved.dealership_id, actor=user, at=now)
    return saved
