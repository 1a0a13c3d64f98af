from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = _("Contacts")

    def ready(self) -> None:
        # The facts app announces refusals (customers.refusals); what they stop is this app's.
        from contacts.refusals import stop_contact_on_refusal
        from customers.refusals import on_refusal

        on_refusal(stop_contact_on_refusal)
