from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = _("Contacts")

    def ready(self) -> None:
        # The facts app announces refusals (customers.refusals); what they stop is this app's.
        from django.contrib.auth.signals import user_logged_in, user_logged_out
        from django.db.models.signals import post_delete

        from contacts import presence
        from contacts.card import customer_card
        from contacts.merging import last_contacts, merge_contacts
        from contacts.models import ContactRules
        from contacts.planning.writing import drop_touchpoints_of_deleted_parent
        from contacts.queueing import replan_on_commit
        from contacts.refusals import stop_contact_on_refusal
        from customers import hooks
        from customers.models import Customer, Vehicle
        from customers.refusals import on_refusal

        on_refusal(stop_contact_on_refusal)
        # The touchpoint's vehicle and customer keys have no database constraint (contacts.models.touchpoints).
        for parent in (Vehicle, Customer):
            post_delete.connect(
                drop_touchpoints_of_deleted_parent, sender=parent,
                dispatch_uid=f"contacts.touchpoints.{parent._meta.model_name}_deleted",
            )
        # The floor's "paused" and "logged out" (contacts.presence).
        user_logged_in.connect(presence.on_logged_in, dispatch_uid="contacts.presence.logged_in")
        user_logged_out.connect(presence.on_logged_out, dispatch_uid="contacts.presence.logged_out")
        # The facts app announces changed vehicles and asks for the hold-out share and the customer's
        # contact card through customers.hooks: the dependency stays one way.
        hooks.on_vehicles_changed(replan_on_commit)
        hooks.provide_holdout_share(ContactRules.holdout_share_for)
        hooks.provide_customer_card(customer_card)
        hooks.on_customers_merged(merge_contacts)
        hooks.provide_last_contacts(last_contacts)
