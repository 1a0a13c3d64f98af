"""Departments (docs/program.md) and, on PostgreSQL, the exclusion constraint on call gaps.

The exclusion constraint makes two unrequested, uncancelled call tasks of one customer whose
[scheduled_on, blocks_until) ranges overlap impossible under any concurrency. SQLite has no
exclusion constraints; there the queue build's lock and the resolver keep the gap.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

DEPARTMENTS = [
    # code, English, Russian, priority, takes hand-offs
    ("service", "Service", "Сервис", 1, True),
    ("sales", "Sales", "Отдел продаж", 2, True),
    ("trade_in", "Trade-in", "Трейд-ин", 3, True),
    ("insurance", "Insurance", "Страхование", 4, False),
    ("manufacturer", "Manufacturer", "Производитель", 5, False),
    ("parts", "Parts and accessories", "Запчасти и аксессуары", 6, False),
    ("call_centre", "Call centre", "Колл-центр", 7, False),
]

EXCLUSION_SQL = """
ALTER TABLE contacts_calltask ADD CONSTRAINT call_task_customer_gap
EXCLUDE USING gist (customer_id WITH =, daterange(scheduled_on, blocks_until, '[)') WITH &&)
WHERE (status <> 'cancelled' AND NOT is_requested)
"""


def create_departments(apps, schema_editor):
    Department = apps.get_model("contacts", "Department")
    for code, name_en, name_ru, priority, takes_handoffs in DEPARTMENTS:
        Department.objects.update_or_create(
            code=code,
            defaults={"name_en": name_en, "name_ru": name_ru, "priority": priority, "takes_handoffs": takes_handoffs},
        )


def add_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(EXCLUSION_SQL)


def drop_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE contacts_calltask DROP CONSTRAINT IF EXISTS call_task_customer_gap")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]
    operations = [
        BtreeGistExtension(),
        migrations.RunPython(create_departments, migrations.RunPython.noop),
        migrations.RunPython(add_exclusion, drop_exclusion),
    ]
