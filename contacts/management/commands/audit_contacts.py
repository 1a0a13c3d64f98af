"""``python manage.py audit_contacts [--json]``: check every stored call task and message against the rules."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from contacts.audit import audit_stored_contacts


class Command(BaseCommand):
    help = "Check stored call tasks and messages against the contact rules; report violations by rule."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help='Print {"checked": n, "violations": {rule: count}}.')

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_stored_contacts()
        if options["json"]:
            self.stdout.write(json.dumps(report))
            return
        self.stdout.write(f"Checked {report['checked']} calls and messages.")
        totals: dict[str, int] = defaultdict(int, report["violations"])
        for rule, count in sorted(totals.items()):
            self.stdout.write(f"  {rule:<28} {count}")
        if not any(totals.values()):
            self.stdout.write("No violations.")
