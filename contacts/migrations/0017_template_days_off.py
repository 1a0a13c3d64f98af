"""TouchpointTemplate.may_go_on_days_off: a message template's own "may go on weekends and holidays".

docs/program.md version 2: weekends and holidays block calls, not greetings; other messages follow the
template's setting (default: working days). Until now the rule was fixed in code (the birthday anchor);
this makes it a template field, on for the birthday message templates, off for every other.
"""

from django.db import migrations, models


def birthday_messages_may_go_on_days_off(apps, schema_editor):
    Template = apps.get_model("contacts", "TouchpointTemplate")
    Template.objects.filter(anchor="birthday").exclude(channel="call").update(may_go_on_days_off=True)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0016_plan_validity")]

    operations = [
        migrations.AddField(
            model_name="touchpointtemplate",
            name="may_go_on_days_off",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "Messages only. Ticked, the message goes on its day even when that is a weekend or a public "
                    "holiday (inside message hours), as a birthday greeting does; not ticked, it waits for a working day."
                ),
                verbose_name="may go on weekends and holidays",
            ),
        ),
        migrations.RunPython(birthday_messages_may_go_on_days_off, migrations.RunPython.noop),
    ]
