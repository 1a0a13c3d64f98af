"""API tokens of our own (customers.models.ApiToken): expiry, scopes, recorded use, only a hash stored.

Every existing DRF token becomes one of ours with the same secret (so integrations keep working),
all scopes and the default lifetime (API_TOKEN_DEFAULT_DAYS from the migration's day); the DRF
tokens, which held their secrets in plain text, are deleted. Not reversible for those tokens."""

import datetime as dt
import hashlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def convert_drf_tokens(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("customers", "ApiToken")
    expires_at = timezone.now() + dt.timedelta(days=settings.API_TOKEN_DEFAULT_DAYS)
    ApiToken.objects.bulk_create([
        ApiToken(user_id=token.user_id, name="API token (converted)", prefix=token.key[:10],
                 secret_hash=hashlib.sha256(token.key.encode()).hexdigest(), scopes="read,write,dialer",
                 expires_at=expires_at)
        for token in Token.objects.all()
    ])
    Token.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0009_forecast_odometer_on_read"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(help_text="What the token is for, e.g. “1C export”.", max_length=100, verbose_name="name")),
                ("prefix", models.CharField(editable=False, help_text="The first characters of the secret, to tell tokens apart.", max_length=12, verbose_name="starts with")),
                ("secret_hash", models.CharField(editable=False, max_length=64, unique=True)),
                ("scopes", models.CharField(help_text="Comma-separated: read, write, dialer.", max_length=40, verbose_name="scopes")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                ("expires_at", models.DateTimeField(verbose_name="expires")),
                ("revoked_at", models.DateTimeField(blank=True, null=True, verbose_name="revoked")),
                ("last_used_at", models.DateTimeField(blank=True, editable=False, null=True, verbose_name="last used")),
                ("last_used_address", models.GenericIPAddressField(blank=True, editable=False, null=True, verbose_name="last used from")),
                ("use_count", models.PositiveBigIntegerField(default=0, editable=False, verbose_name="uses")),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="api_tokens", to=settings.AUTH_USER_MODEL, verbose_name="user")),
            ],
            options={
                "verbose_name": "API token",
                "verbose_name_plural": "API tokens",
                "ordering": ["-created_at"],
                "indexes": [models.Index(fields=["user", "-created_at"], name="apitoken_user_created")],
            },
        ),
        migrations.RunPython(convert_drf_tokens, migrations.RunPython.noop),
    ]
