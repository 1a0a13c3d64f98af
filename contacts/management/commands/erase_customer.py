"""``python manage.py erase_customer CUSTOMER_ID [--yes]``: erase a customer on request, keeping the
refusal (as a hash of the phone and e-mail) and the anonymised counts (contacts.privacy)."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from contacts.privacy import erase_customer
from customers.models import Customer


class Command(BaseCommand):
    help = "Erase a customer's personal data on request; the refusal stays as a hash, the counts stay."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("customer_id", type=int)
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args: Any, **options: Any) -> None:
        customer = Customer.objects.filter(pk=options["customer_id"]).first()
        if customer is None:
            raise CommandError(f"No customer with id {options['customer_id']}.")
        if not options["yes"]:
            answer = input(f"Erase {customer.full_name} (id {customer.pk})? This cannot be undone. Type yes: ")
            if answer.strip().lower() != "yes":
                raise CommandError("Nothing erased.")
        kept = erase_customer(customer=customer, now=timezone.now(), requested_by=f"command ({getpass.getuser()})")
        self.stdout.write(f"Customer {customer.pk} erased; kept: " + ", ".join(f"{k} {v}" for k, v in kept.items()))
