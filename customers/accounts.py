"""Accounts: what a locked-out login sees. Logins are throttled by django-axes on every login form
(the product's and the admin's), per user name and address together (settings.AXES_*): after
LOGIN_FAILURE_LIMIT wrong passwords in a row that pair is refused for LOGIN_LOCKOUT_MINUTES; an admin
unlocks it sooner by deleting its access attempts in the admin (Axes → Access attempts) or with
``manage.py axes_reset_username <name>``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def login_locked_out(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict[str, Any] | None = None) -> HttpResponse:
    """The page a locked-out login gets (settings.AXES_LOCKOUT_CALLABLE), 429 Too Many Requests."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
