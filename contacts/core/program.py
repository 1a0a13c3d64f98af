"""The default CLM program (docs/program.md) as pure data: one ``TemplateSpec`` per touchpoint code, with
its call script or message body in English and Russian, read from the text files in ``scripts/``
(``<name>.<language>.txt``). The departments and their priorities are in ``departments``.

The scripts use the Django template language with the variables of ``script_variables`` only, each as
``{{ var }}`` (dates may take the ``date:"d.m.Y"`` filter).

No Django imports: a data migration loads this into the admin-editable template table.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Final

from contacts.core.departments import DEPARTMENT_PRIORITY, DEPARTMENTS
from contacts.core.plan_engine import TemplateSpec
from contacts.core.script_variables import SCRIPT_NAMES

__all__ = ["DEPARTMENTS", "DEPARTMENT_PRIORITY", "DEFAULT_PROGRAM", "ESSENTIAL_CODES", "SCRIPT_VARIABLES", "script"]

#: The variables a script may use (the one allow-list, contacts.core.script_variables).
SCRIPT_VARIABLES: Final[frozenset[str]] = SCRIPT_NAMES

# ------------------------------------------------------------------------------------------ scripts
# Calls: greeting, purpose, questions, what to record, close. Messages: short. One text file per
# script and language in scripts/, named <name>.<language>.txt.

_SCRIPTS = files("contacts.core") / "scripts"


def script(name: str, language: str) -> str:
    """The default script ``name`` in ``language`` ("en" or "ru")."""
    return (_SCRIPTS / f"{name}.{language}.txt").read_text(encoding="utf-8").removesuffix("\n")


# ------------------------------------------------------------------------------------------ program

#: The program's essentials (docs/program.md version 2): when a customer's contact budget forces a choice,
#: these are placed before offers and greetings. Maintenance invitation and reminder, the post-service
#: survey, the warranty-end touchpoints, and the first-weeks call that learns the mileage the first
#: maintenance is timed by.
ESSENTIAL_CODES: Final[frozenset[str]] = frozenset(
    {"service_invite", "service_reminder", "post_service_csi", "warranty_extension", "warranty_last_check",
     "first_weeks"}
)



DEFAULT_PROGRAM: Final[tuple[TemplateSpec, ...]] = (
    # --- onboarding (5)
    TemplateSpec(
        code="thank_you",
        name_en="Thank-you call",
        name_ru="Звонок-благодарность",
        department="sales",
        channel="call",
        anchor="sale",
        offset_days=1,
        priority=DEPARTMENT_PRIORITY["sales"],
        script_en=script("thank_you", "en"),
        script_ru=script("thank_you", "ru"),
    ),
    TemplateSpec(
        code="first_weeks",
        name_en="First-weeks check",
        name_ru="Первые недели владения",
        department="call_centre",
        channel="call",
        anchor="sale",
        offset_days=14,
        priority=DEPARTMENT_PRIORITY["call_centre"],
        script_en=script("first_weeks", "en"),
        script_ru=script("first_weeks", "ru"),
    ),
    TemplateSpec(
        code="dealer_csi",
        name_en="Dealer satisfaction survey",
        name_ru="Опрос удовлетворённости дилера",
        department="call_centre",
        channel="call",
        anchor="sale",
        offset_days=30,
        priority=DEPARTMENT_PRIORITY["call_centre"],
        script_en=script("dealer_csi", "en"),
        script_ru=script("dealer_csi", "ru"),
    ),
    TemplateSpec(
        code="oem_survey",
        name_en="Manufacturer's satisfaction survey",
        name_ru="Опрос удовлетворённости производителя",
        department="manufacturer",
        channel="call",
        anchor="sale",
        offset_days=45,
        priority=DEPARTMENT_PRIORITY["manufacturer"],
        sale_kinds=("new",),
        script_en=script("oem_survey", "en"),
        script_ru=script("oem_survey", "ru"),
    ),
    TemplateSpec(
        code="accessories",
        name_en="Accessories and protection offer",
        name_ru="Предложение аксессуаров и защиты",
        department="parts",
        channel="email",
        anchor="sale",
        offset_days=60,
        priority=DEPARTMENT_PRIORITY["parts"],
        script_en=script("accessories", "en"),
        script_ru=script("accessories", "ru"),
    ),
    # --- maintenance (3 + 3 + 3 on the reference vehicle)
    TemplateSpec(
        code="service_invite",
        name_en="Maintenance invitation",
        name_ru="Приглашение на ТО",
        department="service",
        channel="call",
        anchor="maintenance_due",
        recurrence="per_maintenance",
        offset_days=-21,
        window_start_days=0,
        window_end_days=14,
        priority=DEPARTMENT_PRIORITY["service"],
        phase="always",
        script_en=script("service_invite", "en"),
        script_ru=script("service_invite", "ru"),
    ),
    TemplateSpec(
        code="service_reminder",
        name_en="Maintenance reminder",
        name_ru="Напоминание о ТО",
        department="service",
        channel="sms",
        anchor="maintenance_due",
        recurrence="per_maintenance",
        offset_days=-3,
        window_start_days=0,
        window_end_days=2,
        priority=DEPARTMENT_PRIORITY["service"],
        phase="always",
        skip_when_maintenance_booked_or_done=True,
        script_en=script("service_reminder", "en"),
        script_ru=script("service_reminder", "ru"),
    ),
    TemplateSpec(
        code="post_service_csi",
        name_en="Post-service satisfaction survey",
        name_ru="Опрос удовлетворённости после сервиса",
        department="call_centre",
        channel="call",
        anchor="maintenance_visit",
        recurrence="per_visit",
        offset_days=3,
        priority=DEPARTMENT_PRIORITY["call_centre"],
        script_en=script("post_service_csi", "en"),
        script_ru=script("post_service_csi", "ru"),
    ),
    # --- yearly (6 + 3 + 3)
    TemplateSpec(
        code="tyre_season",
        name_en="Seasonal tyre change",
        name_ru="Сезонная замена шин",
        department="service",
        channel="sms",
        anchor="season",
        recurrence="seasonal",
        offset_days=-10,
        priority=DEPARTMENT_PRIORITY["service"],
        phase="always",
        script_en=script("tyre_season", "en"),
        script_ru=script("tyre_season", "ru"),
    ),
    TemplateSpec(
        code="insurance_renewal",
        name_en="Insurance renewal offer",
        name_ru="Продление страховки",
        department="insurance",
        channel="call",
        anchor="insurance_renewal",
        recurrence="yearly",
        offset_days=-30,
        priority=DEPARTMENT_PRIORITY["insurance"],
        script_en=script("insurance_renewal", "en"),
        script_ru=script("insurance_renewal", "ru"),
    ),
    TemplateSpec(
        code="birthday",
        name_en="Birthday greeting",
        name_ru="Поздравление с днём рождения",
        department="call_centre",
        channel="sms",
        anchor="birthday",
        recurrence="yearly",
        window_start_days=0,
        window_end_days=0,
        priority=DEPARTMENT_PRIORITY["call_centre"],
        requires_birthday=True,
        phase="always",
        script_en=script("birthday", "en"),
        script_ru=script("birthday", "ru"),
    ),
    # --- warranty (2)
    TemplateSpec(
        code="warranty_extension",
        name_en="Extended-warranty offer",
        name_ru="Предложение продлённой гарантии",
        department="service",
        channel="call",
        anchor="warranty_end",
        offset_days=-90,
        priority=DEPARTMENT_PRIORITY["service"],
        script_en=script("warranty_extension", "en"),
        script_ru=script("warranty_extension", "ru"),
    ),
    TemplateSpec(
        code="warranty_last_check",
        name_en="Last inspection under warranty",
        name_ru="Последний гарантийный осмотр",
        department="service",
        channel="sms",
        anchor="warranty_end",
        offset_days=-30,
        priority=DEPARTMENT_PRIORITY["service"],
        script_en=script("warranty_last_check", "en"),
        script_ru=script("warranty_last_check", "ru"),
    ),
    # --- relationship (2 + 1)
    TemplateSpec(
        code="anniversary_1",
        name_en="One-year call",
        name_ru="Звонок на годовщину покупки",
        department="call_centre",
        channel="call",
        anchor="sale",
        offset_months=12,
        priority=DEPARTMENT_PRIORITY["call_centre"],
        script_en=script("anniversary_1", "en"),
        script_ru=script("anniversary_1", "ru"),
    ),
    TemplateSpec(
        code="needs_check",
        name_en="Needs check",
        name_ru="Изменились ли потребности",
        department="sales",
        channel="call",
        anchor="sale",
        offset_months=18,
        priority=DEPARTMENT_PRIORITY["sales"],
        script_en=script("needs_check", "en"),
        script_ru=script("needs_check", "ru"),
    ),
    TemplateSpec(
        code="anniversary_2",
        name_en="Two-year call",
        name_ru="Звонок на вторую годовщину",
        department="call_centre",
        channel="call",
        anchor="sale",
        offset_months=24,
        priority=DEPARTMENT_PRIORITY["call_centre"],
        script_en=script("anniversary_2", "en"),
        script_ru=script("anniversary_2", "ru"),
    ),
    # --- next car (5)
    TemplateSpec(
        code="trade_in_valuation",
        name_en="Trade-in valuation offer",
        name_ru="Предложение оценки в трейд-ин",
        department="trade_in",
        channel="call",
        anchor="sale",
        offset_months=24,
        priority=DEPARTMENT_PRIORITY["trade_in"],
        script_en=script("trade_in_valuation", "en"),
        script_ru=script("trade_in_valuation", "ru"),
    ),
    TemplateSpec(
        code="new_models",
        name_en="New models and test drive",
        name_ru="Новые модели и тест-драйв",
        department="sales",
        channel="email",
        anchor="sale",
        offset_months=27,
        priority=DEPARTMENT_PRIORITY["sales"],
        script_en=script("new_models", "en"),
        script_ru=script("new_models", "ru"),
    ),
    TemplateSpec(
        code="next_car",
        name_en="Next-car consultation",
        name_ru="Консультация по следующему автомобилю",
        department="sales",
        channel="call",
        anchor="sale",
        offset_months=30,
        priority=DEPARTMENT_PRIORITY["sales"],
        script_en=script("next_car", "en"),
        script_ru=script("next_car", "ru"),
    ),
    TemplateSpec(
        code="test_drive",
        name_en="Test-drive invitation",
        name_ru="Приглашение на тест-драйв",
        department="sales",
        channel="call",
        anchor="sale",
        offset_months=33,
        priority=DEPARTMENT_PRIORITY["sales"],
        script_en=script("test_drive", "en"),
        script_ru=script("test_drive", "ru"),
    ),
    TemplateSpec(
        code="final_offer",
        name_en="Last offer before the warranty ends",
        name_ru="Последнее предложение до окончания гарантии",
        department="sales",
        channel="call",
        anchor="sale",
        offset_months=35,
        priority=DEPARTMENT_PRIORITY["sales"],
        script_en=script("final_offer", "en"),
        script_ru=script("final_offer", "ru"),
    ),
    # --- conditional (outside the 36)
    TemplateSpec(
        code="missed_service",
        name_en="Missed maintenance win-back",
        name_ru="Пропущенное ТО",
        department="service",
        channel="call",
        anchor="missed_maintenance",
        recurrence="per_maintenance",
        offset_days=30,
        priority=DEPARTMENT_PRIORITY["service"],
        phase="always",
        script_en=script("missed_service", "en"),
        script_ru=script("missed_service", "ru"),
    ),
    TemplateSpec(
        code="lapsed",
        name_en="Reactivation call",
        name_ru="Реактивация клиента",
        department="call_centre",
        channel="call",
        anchor="lapsed",
        offset_months=12,
        offset_days=1,
        priority=DEPARTMENT_PRIORITY["call_centre"],
        phase="always",
        script_en=script("lapsed", "en"),
        script_ru=script("lapsed", "ru"),
    ),
    TemplateSpec(
        code="keep_alive",
        name_en="Keep-alive call",
        name_ru="Звонок «на связи»",
        department="call_centre",
        channel="call",
        anchor="keep_alive",
        offset_months=11,
        priority=DEPARTMENT_PRIORITY["call_centre"],
        phase="always",
        script_en=script("keep_alive", "en"),
        script_ru=script("keep_alive", "ru"),
    ),
)

#: Codes of the templates planned on docs/program.md's reference vehicle (the 36), and the conditional ones.
CONDITIONAL_CODES: Final[frozenset[str]] = frozenset({"missed_service", "lapsed", "keep_alive"})
TEMPLATES_BY_CODE: Final[dict[str, TemplateSpec]] = {t.code: t for t in DEFAULT_PROGRAM}
