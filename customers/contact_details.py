"""Correcting a customer's phone numbers from the customer page (issue 15: "no fixing a wrong number").

A corrected main number is a new chance to reach the customer: its failure count starts again and the
"unreachable" mark goes (the next re-plan and daily build call the new number).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit import trail
from customers.models import Customer, normalize_phone


def correct_phones(*, customer: Customer, phone: str, phone_alt: str) -> Customer:
    """Store the typed numbers in E.164; ValidationError naming the bad one, and nothing is stored."""
    errors = {}
    numbers = {}
    for field, raw, label in (("phone", phone, _("Phone")), ("phone_alt", phone_alt, _("Second phone"))):
        try:
            numbers[field] = normalize_phone(raw)
        except ValidationError:
            errors[field] = _("%(field)s: %(value)s is not a phone number; type it as +7 912 345-67-89 or 8 912 345-67-89.") % {
                "field": label, "value": raw}
    if not errors and not numbers["phone"] and numbers["phone_alt"]:
        errors["phone"] = _("Give the main phone; the second one is only a spare.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        fields: dict[str, object] = {"phone": numbers["phone"], "phone_alt": numbers["phone_alt"]}
        if numbers["phone"] != locked.phone:
            fields |= {"phone_failures": 0, "phone_unreachable_since": None}
        Customer.objects.filter(pk=customer.pk).update(**fields)
        record_contact_change(customer=locked, after=numbers)
    customer.refresh_from_db()
    return customer


def record_contact_change(*, customer: Customer, after: Mapping[str, object], source: str | None = None) -> None:
    """The audit entry of a change of ``customer``'s contact data (``customer`` as it was stored before)."""
    changes = trail.diff({name: getattr(customer, name) for name in after}, after)
    if changes:
        trail.record(object_type=trail.ObjectType.CUSTOMER, object_id=customer.pk, action=trail.Action.UPDATE,
                     changes=changes, dealership_id=customer.dealership_id, customer_id=customer.pk, source=source)
