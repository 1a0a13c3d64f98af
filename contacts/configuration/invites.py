"""Inviting a person by e-mail: the admin gives an e-mail, roles and dealerships; the person gets a link
to set their own password (Django's password-reset tokens, ``default_token_generator``) and logs in.

An invited person is a user with no usable password who never logged in; ``date_joined`` is the moment
of the latest invitation. The link lives ``PASSWORD_RESET_TIMEOUT`` seconds. Sending again gives the
person a new random unusable password, so the earlier link stops working (the token is a hash of it).
The e-mail goes through Django's e-mail backend (``EMAIL_BACKEND``: SMTP in production).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from contacts.configuration.team import set_roles_and_dealerships
from customers.models import Dealership


class InviteNotSent(Exception):
    """The e-mail server refused or could not be reached; the invitation is kept and can be sent again."""


@dataclass(frozen=True)
class InviteState:
    is_invited: bool  # has not set a password yet
    expires_at: dt.datetime | None

    def is_expired(self, now: dt.datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at


def invite_state(user: User) -> InviteState:
    if user.has_usable_password() or user.last_login is not None:
        return InviteState(False, None)
    return InviteState(True, user.date_joined + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT))


def invite_link(*, user: User, base_url: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return base_url.rstrip("/") + reverse("invite_accept", args=[uid, default_token_generator.make_token(user)])


def invite_person(
    *, email: str, first_name: str, last_name: str, roles: Iterable[str], dealerships: Iterable[Dealership],
    scope: QuerySet[Dealership], by: User, base_url: str, language: str, now: dt.datetime,
) -> User:
    """Create the invited person (login = their e-mail) and send the invitation; raises InviteNotSent
    (the person is kept, marked invited) when the e-mail could not be sent."""
    chosen = [d for d in dealerships if d in set(scope)]
    if not chosen:
        raise ValidationError({"dealerships": _("Dealerships: choose at least one, or nobody can see this person.")})
    email = email.strip()
    if User.objects.filter(username__iexact=email).exists() or User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("E-mail: “%(email)s” already belongs to a person of the team.") % {"email": email}})
    with transaction.atomic():
        user = User(username=email.lower(), email=email, first_name=first_name, last_name=last_name, date_joined=now)
        user.set_unusable_password()
        user.full_clean()
        user.save()
        set_roles_and_dealerships(user=user, roles=roles, dealerships=chosen, scope=scope)
    send_invite(user=user, by=by, base_url=base_url, language=language, now=now, is_new=True)
    return user


def send_invite(*, user: User, by: User, base_url: str, language: str, now: dt.datetime, is_new: bool = False) -> None:
    """Send (again) the invitation of a person who has not set a password yet; an earlier link stops working."""
    if not invite_state(user).is_invited:
        raise ValidationError(_("%(name)s has set a password already: nothing to send.") % {"name": user.username})
    if not is_new:
        user.set_unusable_password()
        user.date_joined = now
        user.save(update_fields=["password", "date_joined"])
    dealerships = ", ".join(d.name for d in user.dealerships.order_by("name"))
    with translation.override(language):
        context = {
            "user": user,
            "inviter": by.get_full_name() or by.username,
            "dealerships": dealerships,
            "link": invite_link(user=user, base_url=base_url),
            "hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
        }
        subject = _("Your access to Dealer CLM")
        body = render_to_string("registration/invite_email.txt", context)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except OSError as error:  # smtplib's errors are OSErrors, as are a refused or timed-out connection
        raise InviteNotSent(str(error)) from error
