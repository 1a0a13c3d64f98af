"""``python manage.py export_customer_data CUSTOMER_ID [--output FILE]``: a person's data on request."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from contacts.privacy import customer_data
from customers.models import Customer


class Command(BaseCommand):
    help = "Everything held about one customer (facts, cars, calls, messages, consents, refusals) as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("customer_id", type=int)
        parser.add_argument("--output", type=Path, help="Write to this file (default: standard output).")

    def handle(self, *args: Any, **options: Any) -> None:
        customer = Customer.objects.filter(pk=options["customer_id"]).first()
        if customer is None:
            raise CommandError(f"No customer with id {options['customer_id']}.")
        data = customer_data(customer=customer, now=timezone.now(), requested_by=f"command ({getpass.getuser()})")
        text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
        if options["output"]:
            options["output"].write_text(text, encoding="utf-8")
            self.stdout.write(f"Written to {options['output']}.")
        else:
            self.stdout.write(text)
