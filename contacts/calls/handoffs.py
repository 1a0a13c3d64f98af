"""Hand-offs to a department: accepted by its staff, closed with a result."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from contacts.calls.errors import OutcomeError
from contacts.models import Handoff


def accept_handoff(*, handoff: Handoff, by: User) -> bool:
    return Handoff.objects.filter(pk=handoff.pk, status=Handoff.Status.NEW).update(
        status=Handoff.Status.ACCEPTED, accepted_by=by
    ) == 1


def close_handoff(*, handoff: Handoff, by: User, result: str, now: dt.datetime) -> bool:
    result = (result or "").strip()
    if not result:
        raise OutcomeError(_("Write the result before closing the hand-off."))
    with transaction.atomic():
        closed = Handoff.objects.filter(pk=handoff.pk).exclude(status=Handoff.Status.CLOSED).update(
            status=Handoff.Status.CLOSED, result=result[:200], closed_at=now
        )
        # Closing a hand-off nobody accepted first: whoever closed it took it.
        Handoff.objects.filter(pk=handoff.pk, accepted_by__isnull=True).update(accepted_by=by)
    return closed == 1
