"""The default program as data (contacts/core/program.py): one template per code, and its scripts'
variables, structure and length. No database, no Django."""

from __future__ import annotations

import re

from contacts.core.program import (
    DEFAULT_PROGRAM,
    DEPARTMENT_PRIORITY,
    DEPARTMENTS,
    SCRIPT_VARIABLES,
)


def test_default_program_has_one_template_per_code_of_the_program() -> None:
    # given
    codes = [t.code for t in DEFAULT_PROGRAM]
    # when
    unique = set(codes)
    # then
    assert len(codes) == len(unique) == 24
    assert unique == {
        "thank_you", "first_weeks", "dealer_csi", "oem_survey", "accessories", "service_invite",
        "service_reminder", "post_service_csi", "tyre_season", "insurance_renewal", "birthday",
        "warranty_extension", "warranty_last_check", "anniversary_1", "needs_check", "trade_in_valuation",
        "new_models", "next_car", "test_drive", "final_offer", "anniversary_2", "missed_service", "lapsed",
        "keep_alive",
    }  # fmt: skip
    assert all(t.department in DEPARTMENTS for t in DEFAULT_PROGRAM)
    assert all(t.priority == DEPARTMENT_PRIORITY[t.department] for t in DEFAULT_PROGRAM)
    assert set(DEPARTMENT_PRIORITY) == set(DEPARTMENTS)


_VAR = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)(\|date:\"d\.m\.Y\")?\s*\}\}")


def test_scripts_use_only_the_allowed_variables_and_no_tags() -> None:
    # given
    scripts = [(t.code, s) for t in DEFAULT_PROGRAM for s in (t.script_en, t.script_ru)]
    # when
    problems = []
    for code, script in scripts:
        rest = _VAR.sub("", script)
        if "{{" in rest or "}}" in rest or "{%" in script or "{#" in script:
            problems.append(code)
        problems += [
            f"{code}:{m.group(1)}" for m in _VAR.finditer(script) if m.group(1) not in SCRIPT_VARIABLES
        ]
    # then
    assert problems == []


def test_call_scripts_have_greeting_purpose_questions_record_and_close_in_both_languages() -> None:
    # given
    calls = [t for t in DEFAULT_PROGRAM if t.channel == "call"]
    en = ("Greeting:", "Purpose:", "Ask:", "Record:", "Close:")
    ru = ("Приветствие:", "Цель:", "Вопросы:", "Зафиксировать:", "Завершение:")
    # when
    missing = [
        t.code
        for t in calls
        if not all(h in t.script_en for h in en) or not all(h in t.script_ru for h in ru)
    ]
    # then
    assert len(calls) == 18
    assert missing == []


def test_every_call_script_asks_for_the_mileage_in_both_languages() -> None:
    # docs/program.md version 2: the first maintenance after a sale can only be timed well from a real reading
    calls = [t for t in DEFAULT_PROGRAM if t.channel == "call"]
    silent = [
        t.code
        for t in calls
        if not re.search(r"odometer|kilomet|mileage", t.script_en, re.I)
        or not re.search(r"одометр|пробег", t.script_ru, re.I)
    ]
    assert silent == []


def test_message_bodies_are_short() -> None:
    # given
    messages = [t for t in DEFAULT_PROGRAM if t.channel != "call"]
    # when
    longest_sms = max(len(s) for t in messages if t.channel == "sms" for s in (t.script_en, t.script_ru))
    longest_email = max(len(s) for t in messages if t.channel == "email" for s in (t.script_en, t.script_ru))
    # then
    assert len(messages) == 6
    assert longest_sms <= 300
    assert longest_email <= 600
