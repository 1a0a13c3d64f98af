"""API tokens in the admin (imported by customers.admin): an admin sees, creates and revokes the
tokens of the people of their dealerships; a new token's secret is shown once, in the message after
saving. DRF's own tokens are not used (customers.token_authentication), so their admin is removed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.authtoken.models import TokenProxy

from customers import api_tokens
from customers.admin_scoping import DealershipScopedAdmin
from customers.models import ApiToken, hash_secret

if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)


@admin.register(ApiToken)
class ApiTokenAdmin(DealershipScopedAdmin, admin.ModelAdmin):
    dealership_path = "user__dealerships"
    list_display = ["name", "user", "prefix", "scopes", "created_at", "expires_at", "revoked_at", "last_used_at",
                    "last_used_address", "use_count"]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["name", "user__username", "prefix"]
    fields = ["user", "name", "scopes", "expires_at", "revoked_at", "prefix", "created_at", "last_used_at",
              "last_used_address", "use_count"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "last_used_address", "use_count"]
    actions = ["revoke"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"scopes": ApiToken.Scope.READ,
                "expires_at": timezone.now() + dt.timedelta(days=settings.API_TOKEN_DEFAULT_DAYS)}

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """A non-superuser makes tokens for themselves only: a token for someone else would be a key to
        act as them (a superuser among them, too). They see and revoke their people's tokens."""
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = get_user_model().objects.filter(pk=getattr(request.user, "pk", 0))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        obj.scopes = ",".join(api_tokens.parse_scopes(obj.scopes.split(",")))
        if not change:
            secret = api_tokens.new_secret()
            obj.prefix, obj.secret_hash = api_tokens.prefix_of(secret), hash_secret(secret)
            messages.warning(request, _("The token's secret, shown this once (copy it now): %(secret)s")
                             % {"secret": secret})
        super().save_model(request, obj, form, change)

    @admin.action(description=gettext_lazy("Revoke the chosen tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        messages.success(request, _("Tokens revoked: %(count)s.") % {"count": count})
