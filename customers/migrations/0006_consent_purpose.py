# Consent per channel and purpose (issue 19.5): every existing consent row and suppression entry becomes
# one for "all purposes" (the field default), which is what it meant.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0005_suppression_hash'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='consent',
            options={'ordering': ['channel', 'purpose'], 'verbose_name': 'consent', 'verbose_name_plural': 'consents'},
        ),
        migrations.RemoveConstraint(
            model_name='consent',
            name='consent_one_per_channel',
        ),
        migrations.RemoveConstraint(
            model_name='suppression',
            name='suppression_unique_address_channel',
        ),
        migrations.RemoveConstraint(
            model_name='suppression',
            name='suppression_unique_hash_channel',
        ),
        migrations.AddField(
            model_name='consent',
            name='purpose',
            field=models.CharField(choices=[('all', 'all purposes'), ('service', 'service reminders'), ('survey', 'satisfaction surveys'), ('marketing', 'sales and marketing offers')], default='all', max_length=10, verbose_name='purpose'),
        ),
        migrations.AddField(
            model_name='consent',
            name='recorded_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='recorded by'),
        ),
        migrations.AddField(
            model_name='consent',
            name='source',
            field=models.CharField(blank=True, choices=[('call', 'call screen'), ('admin', 'administration'), ('api', 'API'), ('import', 'import'), ('reply', "customer's reply"), ('unsubscribe', 'unsubscribe link')], max_length=12, verbose_name='recorded in'),
        ),
        migrations.AddField(
            model_name='suppression',
            name='purpose',
            field=models.CharField(choices=[('all', 'all purposes'), ('service', 'service reminders'), ('survey', 'satisfaction surveys'), ('marketing', 'sales and marketing offers')], default='all', max_length=10, verbose_name='purpose'),
        ),
        migrations.AlterField(
            model_name='suppression',
            name='source',
            field=models.CharField(choices=[('call', 'call screen'), ('admin', 'administration'), ('api', 'API'), ('import', 'import'), ('reply', "customer's reply"), ('unsubscribe', 'unsubscribe link')], max_length=12, verbose_name='recorded in'),
        ),
        migrations.AddConstraint(
            model_name='consent',
            constraint=models.UniqueConstraint(fields=('customer', 'channel', 'purpose'), name='consent_one_per_channel_purpose'),
        ),
        migrations.AddConstraint(
            model_name='consent',
            constraint=models.CheckConstraint(condition=models.Q(('purpose__in', ['all', 'service', 'survey', 'marketing'])), name='consent_purpose_valid'),
        ),
        migrations.AddConstraint(
            model_name='suppression',
            constraint=models.UniqueConstraint(condition=models.Q(('value', ''), _negated=True), fields=('kind', 'value', 'channel', 'purpose'), name='suppression_unique_address_channel_purpose'),
        ),
        migrations.AddConstraint(
            model_name='suppression',
            constraint=models.UniqueConstraint(condition=models.Q(('value_hash', ''), _negated=True), fields=('kind', 'value_hash', 'channel', 'purpose'), name='suppression_unique_hash_channel_purpose'),
        ),
    ]
