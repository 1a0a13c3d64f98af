"""The team: people, the dealerships they belong to and their roles, set by a dealership's admin.

Roles are the groups of customers.access; an admin changes only the dealerships they administer (a
person's other dealerships are kept) and never touches superusers, staff status or permissions.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from customers import access
from customers.models import Dealership


def team_of(*, dealerships: QuerySet[Dealership]) -> QuerySet[User]:
    """The people of these dealerships an admin may manage (never a superuser)."""
    return (
        User.objects.filter(dealerships__in=dealerships, is_superuser=False)
        .distinct()
        .prefetch_related("groups", "dealerships")
        .order_by("last_name", "first_name", "username")
    )


def set_roles_and_dealerships(
    *, user: User, roles: Iterable[str], dealerships: Iterable[Dealership], scope: QuerySet[Dealership]
) -> None:
    user.groups.set(Group.objects.filter(name__in=[role for role in roles if role in access.ROLES]))
    kept = [d for d in user.dealerships.all() if d not in set(scope)]
    user.dealerships.set([*kept, *[d for d in dealerships if d in set(scope)]])


def create_team_member(
    *, username: str, first_name: str, last_name: str, email: str, password: str, roles: Iterable[str],
    dealerships: Iterable[Dealership], scope: QuerySet[Dealership],
) -> User:
    chosen = [d for d in dealerships if d in set(scope)]
    if not chosen:
        raise ValidationError({"dealerships": _("Dealerships: choose at least one, or nobody can see this person.")})
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.full_clean()
        user.save()
        set_roles_and_dealerships(user=user, roles=roles, dealerships=chosen, scope=scope)
    return user


def update_team_member(
    *, user: User, by: User, first_name: str, last_name: str, email: str, roles: Iterable[str],
    dealerships: Iterable[Dealership], is_active: bool, scope: QuerySet[Dealership],
) -> None:
    roles = list(roles)
    if user.pk == by.pk and (not is_active or access.ADMIN not in roles):
        raise ValidationError(_("You cannot take your own admin role or deactivate yourself; ask another admin."))
    with transaction.atomic():
        user.first_name, user.last_name, user.email, user.is_active = first_name, last_name, email, is_active
        user.full_clean()
        user.save(update_fields=["first_name", "last_name", "email", "is_active"])
        set_roles_and_dealerships(user=user, roles=roles, dealerships=dealerships, scope=scope)
