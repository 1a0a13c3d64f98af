"""Who may read and write facts through the API, and in which dealerships."""

from __future__ import annotations

import re
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import permissions
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from customers import access
from customers.models import (
    ApiToken,
    Dealership,
)

MAX_BULK_ROWS = 1000
MAX_ID = 2**63 - 1  # a bigint: a larger id in a filter is a 400, not a database overflow
DEALERSHIP_CODE = re.compile(r"[-a-zA-Z0-9_]{1,30}")


# ------------------------------------------------------------------------------- access, dealership


class TokenScope(permissions.BasePermission):
    """A request with an API token needs one of the view's scopes (``token_scopes``; by default read for
    GET and write for the rest). A web session is limited by its roles alone. 403 naming the scope."""

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        needed = getattr(view, "token_scopes", None) or (
            (ApiToken.Scope.READ,) if request.method in permissions.SAFE_METHODS else (ApiToken.Scope.WRITE,))
        if token.has_scope(*needed):
            return True
        self.message = _("This API token lacks the %(scope)s scope that this request needs; create a token "
                         "with it under API tokens.") % {"scope": _(" or ").join(str(scope) for scope in needed)}
        return False


def may_list_phones(user: Any) -> bool:
    """Phones and e-mails come out of the customer endpoints only to the roles that put them in."""
    return access.has_role(user, access.CAN_IMPORT)


class CanReadFacts(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return access.has_role(request.user, access.CAN_SEE_CUSTOMERS)


class CanWriteFacts(permissions.BasePermission):
    """Only managers and admins change facts, as only they may import files."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return access.has_role(request.user, access.CAN_IMPORT)


def target_dealership(user: Any, code: Any) -> Dealership:
    """The dealership a write goes to: ``code``, or the user's only dealership; a 400 naming the field."""
    mine = access.dealerships_of(user)
    if code is None or code == "":
        found = list(mine[:2])
        if len(found) == 1:
            return found[0]
        codes = ", ".join(mine.values_list("code", flat=True)) or _("none")
        raise ValidationError({"dealership": [_("Give the dealership code; yours are: %(codes)s.") % {"codes": codes}]})
    if not isinstance(code, str) or not DEALERSHIP_CODE.fullmatch(code):
        raise ValidationError({"dealership": [_("A dealership code is letters, digits, - and _, up to 30.")]})
    dealership = mine.filter(code=code).first()
    if dealership is None:
        raise ValidationError({"dealership": [_("No dealership %(code)s among yours.") % {"code": code}]})
    return dealership


def vehicle_scope(user: Any) -> frozenset[int]:
    """Rows refer by VIN to the vehicles of the user's dealerships only."""
    return frozenset(access.dealerships_of(user).values_list("id", flat=True))


def scoped(user: Any, model: type[models.Model], dealership_path: str) -> QuerySet[Any]:
    return model._default_manager.filter(**{f"{dealership_path}__in": access.dealerships_of(user)}).order_by("id")
