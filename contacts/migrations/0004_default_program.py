"""The default 36-touchpoint program of docs/program.md (contacts/core/program.py), as editable template rows."""

from django.db import migrations


def load_program(apps, schema_editor):
    from contacts.core.program import DEFAULT_PROGRAM, DEPARTMENT_PRIORITY, DEPARTMENTS

    Department = apps.get_model("contacts", "Department")
    Template = apps.get_model("contacts", "TouchpointTemplate")
    departments = {}
    for code, (name_en, name_ru) in DEPARTMENTS.items():
        departments[code], _created = Department.objects.update_or_create(
            code=code, defaults={"name_en": name_en, "name_ru": name_ru, "priority": DEPARTMENT_PRIORITY[code]}
        )
    for spec in DEFAULT_PROGRAM:
        Template.objects.update_or_create(
            code=spec.code,
            defaults={
                "name_en": spec.name_en,
                "name_ru": spec.name_ru,
                "department": departments[spec.department],
                "channel": spec.channel,
                "anchor": spec.anchor,
                "offset_days": spec.offset_days,
                "offset_months": spec.offset_months,
                "recurrence": spec.recurrence,
                "window_start_days": spec.window_start_days,
                "window_end_days": spec.window_end_days,
                "priority": spec.priority,
                "sale_kinds": list(spec.sale_kinds),
                "requires_birthday": spec.requires_birthday,
                "skip_when_maintenance_booked_or_done": spec.skip_when_maintenance_booked_or_done,
                "min_vehicle_age_months": spec.min_vehicle_age_months,
                "max_vehicle_age_months": spec.max_vehicle_age_months,
                "phase": spec.phase,
                "is_active": spec.is_active,
                "script_en": spec.script_en,
                "script_ru": spec.script_ru,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("contacts", "0003_template_default_windows")]
    operations = [migrations.RunPython(load_program, migrations.RunPython.noop)]
