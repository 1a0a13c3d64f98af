"""The API's token authentication (customers.models.ApiToken): ``Authorization: Token <secret>`` (or
``Bearer``). An unknown, expired or revoked token is a 401 that says which and what to do."""

from __future__ import annotations

from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from customers import api_tokens
from customers.models import ApiToken

KEYWORDS = (b"token", b"bearer")


def _when(moment: Any) -> str:
    return formats.date_format(timezone.localtime(moment), "DATE_FORMAT")


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        words = authentication.get_authorization_header(request).split()
        if not words or words[0].lower() not in KEYWORDS:
            return None
        if len(words) != 2:
            raise AuthenticationFailed(_("Send the header as “Authorization: Token <your token>”, with no spaces in the token."))
        try:
            secret = words[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(_("This API token is not valid: check that it was copied whole.")) from None
        token = api_tokens.find_token(secret)
        if token is None:
            raise AuthenticationFailed(_("This API token is not valid: check that it was copied whole."))
        now = timezone.now()
        if token.revoked_at is not None:
            raise AuthenticationFailed(_("This API token was revoked on %(day)s: create a new one under API tokens "
                                         "(your account menu) or ask your admin.") % {"day": _when(token.revoked_at)})
        if token.is_expired(now):
            raise AuthenticationFailed(_("This API token expired on %(day)s: create a new one under API tokens "
                                         "(your account menu) or ask your admin.") % {"day": _when(token.expires_at)})
        if not token.user.is_active:
            raise AuthenticationFailed(_("The account of this API token is switched off. Ask your admin."))
        api_tokens.record_use(token, now=now, address=request.META.get("REMOTE_ADDR"))
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the schema (/api/schema/) documents the token header."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "An API token with the prefix \"Token\": `Token clm_…`. Scopes: read, write, dialer."}
