"""``{{ phone|phone }}``: an E.164 number as people write it (+7 912 345-67-89), for reading and dialling."""

from __future__ import annotations

import phonenumbers
from django import template

register = template.Library()


@register.filter
def phone(value: str) -> str:
    if not value:
        return ""
    try:
        parsed = phonenumbers.parse(value, "RU")
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
