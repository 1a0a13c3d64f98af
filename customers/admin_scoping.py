"""The Django admin scoped by dealership for everyone but superusers, and the admin role's permissions.

``DealershipScopedAdmin`` goes first in the bases of every ModelAdmin of customers and contacts (one
line each, plus ``dealership_path`` where the model reaches its dealership another way than a
``dealership`` field; ``None`` for the group's own settings, which have no dealership). For a
non-superuser it

- filters the changelist, search and the object pages to the user's dealerships (another dealership's
  record is a 404, and no permission holds on it);
- limits the choices of every foreign key and many-to-many field (and the related-field list filters)
  to the user's dealerships: dealerships, their records and the people who work there.

The admin role's group gets Django's model permissions after every ``migrate`` (``grant_admin_role``,
a post_migrate handler in customers.apps): all four on what belongs to a dealership, less where
``ADMIN_ROLE_PERMISSIONS`` says otherwise (history is read-only, the group's settings are
read or edited but never deleted). A dealership's admin needs is_staff to enter /admin/.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from customers import access
from customers.models import Dealership

ALL_ACTIONS = ("view", "add", "change", "delete")
# By model label; the rest: ALL_ACTIONS when scoped by dealership, view only when group-wide.
ADMIN_ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "customers.dealership": ("view", "change"),
    "customers.maintenanceschedule": ("view", "add", "change"),
    "customers.vehicleforecast": ("view",),
    "customers.importbatch": ("view",),
    "customers.apitoken": ("view", "add", "change"),
    "contacts.touchpointtemplate": ("view", "add", "change"),  # as the program pages let the role
    "contacts.department": ("view", "change"),
    "contacts.contactrules": ("view", "change"),
    "contacts.callattempt": ("view",),
    "contacts.outboxmessage": ("view",),
    "contacts.templateversion": ("view",),
    "contacts.configurationchange": ("view",),
}


def _is_unscoped(request: HttpRequest) -> bool:
    return bool(request.user.is_superuser)


def scope(queryset: QuerySet[Any], path: str | None, user: Any) -> QuerySet[Any]:
    """The rows of ``queryset`` in the user's dealerships, reached by ``path`` (``None``: all of them)."""
    if path is None:
        return queryset
    scoped = queryset.filter(**{f"{path}__in": access.dealerships_of(user)})
    return scoped.distinct() if "dealerships" in path.split("__") else scoped  # across the staff many-to-many


def path_of(model: type[models.Model], site: admin.AdminSite) -> str | None | bool:
    """How ``model`` reaches its dealership: from its registered admin; False when not known."""
    if model is Dealership:
        return "id"
    model_admin = site._registry.get(model)
    if isinstance(model_admin, DealershipScopedAdmin):
        return model_admin.dealership_path
    if hasattr(model, "dealership"):
        return "dealership"
    return False


def choices_for(model: type[models.Model], queryset: QuerySet[Any], user: Any, site: admin.AdminSite) -> QuerySet[Any]:
    if model is get_user_model():
        return queryset.filter(dealerships__in=access.dealerships_of(user)).distinct()
    path = path_of(model, site)
    if path is False:
        return queryset
    return scope(queryset, path, user)  # type: ignore[arg-type]


class ScopedChoicesMixin:
    """Foreign-key and many-to-many choices limited to the user's dealerships (admins and inlines)."""

    admin_site: admin.AdminSite
    dealership_path: ClassVar[str | None] = "dealership"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        return queryset if _is_unscoped(request) else scope(queryset, self.dealership_path, request.user)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not _is_unscoped(request) and "queryset" not in kwargs:
            related = db_field.related_model
            kwargs["queryset"] = choices_for(related, related._default_manager.all(), request.user, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not _is_unscoped(request) and "queryset" not in kwargs:
            related = db_field.related_model
            kwargs["queryset"] = choices_for(related, related._default_manager.all(), request.user, self.admin_site)
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


class DealershipScopedInline(ScopedChoicesMixin):
    """For inlines: their rows and choices scoped; the parent's admin checks the object."""


class DealershipScopedAdmin(ScopedChoicesMixin):
    """For ModelAdmins: also the object pages (404 outside the user's dealerships) and list filters."""

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        found = super().get_object(request, object_id, from_field)  # type: ignore[misc]
        if found is None and not _is_unscoped(request):
            raise Http404  # not "deleted?" with a redirect: the record may exist, in another dealership
        return found

    def _in_scope(self, request: HttpRequest, obj: Any) -> bool:
        if obj is None or _is_unscoped(request) or self.dealership_path is None:
            return True
        model = type(obj)
        return scope(model._default_manager.filter(pk=obj.pk), self.dealership_path, request.user).exists()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and self._in_scope(request, obj)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._in_scope(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._in_scope(request, obj)  # type: ignore[misc]

    def get_list_filter(self, request: HttpRequest) -> Any:
        """A related field's filter lists only the values among the user's rows (not every dealership)."""
        filters = super().get_list_filter(request)  # type: ignore[misc]
        if _is_unscoped(request):
            return filters
        model = self.model  # type: ignore[attr-defined]
        return [(name, admin.RelatedOnlyFieldListFilter)
                if isinstance(name, str) and "__" not in name and model._meta.get_field(name).is_relation else name
                for name in filters]


def role_permissions(site: admin.AdminSite) -> dict[str, tuple[str, ...]]:
    """What the admin role may do, by model label, over the scoped admins of this site."""
    granted = {}
    for model, model_admin in site._registry.items():
        if not isinstance(model_admin, DealershipScopedAdmin):
            continue
        label = model._meta.label_lower
        default = ALL_ACTIONS if model_admin.dealership_path is not None else ("view",)
        granted[label] = ADMIN_ROLE_PERMISSIONS.get(label, default)
    return granted


def grant_admin_role(**kwargs: Any) -> None:
    """post_migrate: the admin role's group holds exactly the permissions of ``role_permissions``
    on the scoped models (others' permissions on the group are left alone)."""
    from django.contrib.auth.models import Group, Permission

    group, _created = Group.objects.get_or_create(name=access.ADMIN)
    wanted = role_permissions(admin.site)
    permissions = Permission.objects.select_related("content_type").filter(
        content_type__app_label__in={label.split(".")[0] for label in wanted})
    keep: list[Permission] = []
    drop: list[Permission] = []
    for permission in permissions:
        label = f"{permission.content_type.app_label}.{permission.content_type.model}"
        if label not in wanted:
            continue
        action = permission.codename.split("_", 1)[0]
        (keep if action in wanted[label] else drop).append(permission)
    group.permissions.remove(*drop)
    group.permissions.add(*keep)
