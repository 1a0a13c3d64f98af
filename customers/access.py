"""Roles and dealership scoping, in one place for every view and API (CONVENTIONS 12).

Roles are Django groups created by a migration: agent, supervisor, manager, admin (plus the
department staff groups sales, service, trade_in and insurance, who receive hand-offs, and
department_head: a member of a department group who also holds it heads that department, and gets its
hand-offs that missed their SLA). Superusers hold every role.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from customers.models import Dealership

AGENT = "agent"
SUPERVISOR = "supervisor"
MANAGER = "manager"
ADMIN = "admin"
DEPARTMENT_ROLES = ("sales", "service", "trade_in", "insurance")
DEPARTMENT_HEAD = "department_head"
ROLES = (AGENT, SUPERVISOR, MANAGER, ADMIN, *DEPARTMENT_ROLES, DEPARTMENT_HEAD)
ROLE_LABELS = {
    AGENT: _("Call-centre agent"),
    SUPERVISOR: _("Supervisor"),
    MANAGER: _("Manager"),
    ADMIN: _("Admin"),
    "sales": _("Sales staff"),
    "service": _("Service staff"),
    "trade_in": _("Trade-in staff"),
    "insurance": _("Insurance staff"),
    DEPARTMENT_HEAD: _("Head of department"),
}

# Who may open what. A supervisor can do what an agent can; an admin can do everything.
CAN_WORK_QUEUE = frozenset({AGENT, SUPERVISOR, ADMIN})
CAN_SUPERVISE = frozenset({SUPERVISOR, ADMIN})
CAN_SEE_DASHBOARDS = frozenset({MANAGER, ADMIN})
CAN_IMPORT = frozenset({MANAGER, ADMIN})
CAN_MERGE_CUSTOMERS = frozenset({MANAGER, ADMIN})
CAN_SEE_INBOX = frozenset({*DEPARTMENT_ROLES, SUPERVISOR, MANAGER, ADMIN})
# Who sees every department's hand-offs; department staff see only their own departments'.
SEES_ALL_HANDOFFS = frozenset({SUPERVISOR, MANAGER, ADMIN})
CAN_SEE_CUSTOMERS = frozenset({AGENT, SUPERVISOR, MANAGER, ADMIN, *DEPARTMENT_ROLES})
# The dealer's admin pages: the program, template drafts, rules, the team, the profit coefficients.
CAN_CONFIGURE = frozenset({ADMIN})

User = AbstractBaseUser | AnonymousUser


def roles_of(user: Any) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    if user.is_superuser:
        return frozenset(ROLES)
    cached = getattr(user, "_clm_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._clm_roles = cached
    return cached


def has_role(user: Any, allowed: frozenset[str]) -> bool:
    return bool(roles_of(user) & allowed)


def departments_of(user: Any) -> frozenset[str]:
    """The department codes whose hand-offs this user works (their department roles)."""
    return roles_of(user) & frozenset(DEPARTMENT_ROLES)


def headed_departments_of(user: Any) -> frozenset[str]:
    """The department codes this user heads: their departments, when they hold the head role."""
    roles = roles_of(user)
    return departments_of(user) if DEPARTMENT_HEAD in roles else frozenset()


def dealerships_of(user: Any) -> QuerySet[Dealership]:
    """The dealerships a user may see: all for a superuser, else those they belong to."""
    if not getattr(user, "is_authenticated", False):
        return Dealership.objects.none()
    if user.is_superuser:
        return Dealership.objects.all()
    return Dealership.objects.filter(staff=user)


F = TypeVar("F", bound=Callable[..., HttpResponse])


def role_required(allowed: frozenset[str]) -> Callable[[F], F]:
    """View decorator: 403 unless the user holds one of the roles (login is checked by middleware)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_role(request.user, allowed):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Template context: which menu entries this user's roles give."""
    roles = roles_of(request.user)
    return {
        "nav": {
            "queue": bool(roles & CAN_WORK_QUEUE),
            "floor": bool(roles & CAN_SUPERVISE),
            "inbox": bool(roles & CAN_SEE_INBOX),
            "customers": bool(roles & CAN_SEE_CUSTOMERS),
            "dashboards": bool(roles & CAN_SEE_DASHBOARDS),
            "imports": bool(roles & CAN_IMPORT),
            "duplicates": bool(roles & CAN_MERGE_CUSTOMERS),
            "program": bool(roles & CAN_CONFIGURE),
            "admin": ADMIN in roles or getattr(request.user, "is_staff", False),
        },
        "user_roles": sorted(roles),
    }
