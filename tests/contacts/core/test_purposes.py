"""Every touchpoint template has a purpose (contacts.core.purposes)."""

from __future__ import annotations

from contacts.core.program import DEFAULT_PROGRAM
from contacts.core.purposes import purpose_of
from customers.core.consent import MARKETING, PURPOSES, SERVICE, SURVEY


def test_every_template_of_the_default_program_has_a_purpose_by_name():
    from contacts.core.purposes import PURPOSE_BY_CODE

    codes = {spec.code for spec in DEFAULT_PROGRAM}
    assert codes <= set(PURPOSE_BY_CODE), sorted(codes - set(PURPOSE_BY_CODE))
    assert {purpose_of(code=spec.code, department=spec.department) for spec in DEFAULT_PROGRAM} == set(PURPOSES)


def test_the_table_says_what_each_contact_is_for():
    assert purpose_of(code="service_invite", department="service") == SERVICE
    assert purpose_of(code="dealer_csi", department="call_centre") == SURVEY
    # made by the service department, but an offer
    assert purpose_of(code="warranty_extension", department="service") == MARKETING
    assert purpose_of(code="test_drive", department="sales") == MARKETING


def test_a_template_an_admin_adds_takes_its_departments_purpose_and_an_unknown_one_counts_as_an_offer():
    assert purpose_of(code="winter_check", department="service") == SERVICE
    assert purpose_of(code="nps_call", department="call_centre") == SURVEY
    assert purpose_of(code="something", department="new_department") == MARKETING
