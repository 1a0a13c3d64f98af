"""manage.py create_api_token USER [--scopes read,write] [--days 90] [--name NAME]: prints the secret once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from customers import api_tokens


class Command(BaseCommand):
    help = "Create an API token for a user and print its secret (shown this once; only its hash is kept)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--scopes", default="read", help="Comma-separated: read, write, dialer (default read).")
        parser.add_argument("--days", type=int, default=None, help="Lifetime in days (default API_TOKEN_DEFAULT_DAYS).")
        parser.add_argument("--name", default="", help="What the token is for.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']}.")
        try:
            issued = api_tokens.issue_token(user=user, name=options["name"] or "command line",
                                            scopes=options["scopes"].split(","), days=options["days"],
                                            now=timezone.now())
        except api_tokens.TokenError as error:
            raise CommandError(str(error)) from None
        token = issued.token
        self.stderr.write(f"Token {token.name} for {user.username}: scopes {token.scopes}, expires "
                          f"{token.expires_at:%Y-%m-%d %H:%M} UTC. The secret, shown this once:")
        self.stdout.write(issued.secret)
