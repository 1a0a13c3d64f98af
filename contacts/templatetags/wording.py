"""Template filters over contacts.wording: a plan's reason and a touchpoint's resolution in words; an erased value in words."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from contacts.privacy import ERASED
from contacts.wording import reason_text, resolution_text

register = template.Library()


@register.filter
def reason_words(reason: str) -> str:
    return reason_text(reason)


@register.filter
def resolution_words(resolution: str) -> str:
    return resolution_text(resolution)


@register.filter
def of(mapping: dict[Any, Any], key: Any) -> Any:
    """``{{ topic_results|of:attempt.pk }}``: a read model's row for one key (empty when it has none)."""
    return mapping.get(key, []) if mapping else []


@register.filter
def erased_words(value: Any) -> Any:
    """A value erased on request (stored as the marker ``contacts.privacy.ERASED``) in the reader's language."""
    return _("erased") if value == ERASED else value
