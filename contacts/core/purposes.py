"""What each touchpoint is for (customers.core.consent's purposes): service reminders, satisfaction
surveys, or sales and marketing offers. Pure core: the build, the sender, the refusal hook and the
auditor all ask ``purpose_of``.

One table in the code rather than a field on the template: every template, the 36 of the default
program and any an admin adds, has a purpose at once, derived from what it already says (its code,
else its department), with no migration to keep in step with the template editor and its versions.
The default program's codes are listed by name (an extended-warranty offer is made by the service
department, but it is an offer); a template an admin adds takes its department's purpose, and a
department not listed counts as offers, the strictest reading, so a customer who refused offers is
never reached by a new kind of contact.
"""

from __future__ import annotations

from typing import Final

from customers.core.consent import MARKETING, SERVICE, SURVEY

#: Template code -> purpose, for every template of the default program (contacts.core.program): the
#: department alone would say some wrongly.
PURPOSE_BY_CODE: Final[dict[str, str]] = {
    # service reminders: the car's own needs
    "service_invite": SERVICE,
    "service_reminder": SERVICE,
    "tyre_season": SERVICE,
    "warranty_last_check": SERVICE,
    "missed_service": SERVICE,
    # satisfaction surveys and the relationship calls that ask how the customer is getting on
    "thank_you": SURVEY,
    "first_weeks": SURVEY,
    "dealer_csi": SURVEY,
    "oem_survey": SURVEY,
    "post_service_csi": SURVEY,
    "anniversary_1": SURVEY,
    "anniversary_2": SURVEY,
    # offers, whoever makes them
    "warranty_extension": MARKETING,
    "insurance_renewal": MARKETING,
    "accessories": MARKETING,
    "birthday": MARKETING,
    "lapsed": MARKETING,
    "keep_alive": MARKETING,
    "needs_check": MARKETING,
    "trade_in_valuation": MARKETING,
    "new_models": MARKETING,
    "next_car": MARKETING,
    "test_drive": MARKETING,
    "final_offer": MARKETING,
}

#: Department code -> purpose, for the codes not in PURPOSE_BY_CODE.
PURPOSE_BY_DEPARTMENT: Final[dict[str, str]] = {
    "service": SERVICE,
    "call_centre": SURVEY,
    "manufacturer": SURVEY,
    "sales": MARKETING,
    "trade_in": MARKETING,
    "insurance": MARKETING,
    "parts": MARKETING,
}


def purpose_of(*, code: str, department: str) -> str:
    """The purpose of a touchpoint template, by its code, else its department, else an offer."""
    return PURPOSE_BY_CODE.get(code) or PURPOSE_BY_DEPARTMENT.get(department, MARKETING)
