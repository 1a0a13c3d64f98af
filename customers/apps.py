from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Facts")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from customers.admin_scoping import grant_admin_role

        # After every app's migrations (the permissions of contacts' models exist only after its own).
        post_migrate.connect(grant_admin_role, dispatch_uid="customers.grant_admin_role")
