"""API tokens: an integration's key, with an expiry, scopes and its recorded use. Only a hash of the
secret is stored; the secret itself is shown once, when the token is created (customers.api_tokens)."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def hash_secret(secret: str) -> str:
    """SHA-256 of the secret: the secrets are 256 random bits, so a fast hash is enough (no guessing)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(models.Model):
    class Scope(models.TextChoices):
        READ = "read", _("Read facts, touchpoints, calls and figures")
        WRITE = "write", _("Write facts and refusals")
        DIALER = "dialer", _("Dialer: claim calls and record their outcomes")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens",
                             verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=100, help_text=_("What the token is for, e.g. “1C export”."))
    prefix = models.CharField(_("starts with"), max_length=12, editable=False,
                              help_text=_("The first characters of the secret, to tell tokens apart."))
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.CharField(_("scopes"), max_length=40, help_text=_("Comma-separated: read, write, dialer."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    # Written at most once a minute per token (customers.api_tokens.record_use), not on every request.
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    last_used_address = models.GenericIPAddressField(_("last used from"), null=True, blank=True, editable=False)
    use_count = models.PositiveBigIntegerField(_("uses"), default=0, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def scope_list(self) -> list[str]:
        return [scope for scope in self.scopes.split(",") if scope]

    def has_scope(self, *scopes: str) -> bool:
        return bool(set(scopes) & set(self.scope_list))

    def is_expired(self, now: dt.datetime) -> bool:
        return self.expires_at <= now

    def is_usable(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and not self.is_expired(now)
