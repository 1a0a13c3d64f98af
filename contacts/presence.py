"""What agents say they are doing, for the supervisor's floor: ready, paused, logged out (``AgentPresence``).

Set where the agent acts: taking the next call is ready, "pause after this call" or the queue's Pause
is paused, logging in is ready and logging out is logged out. A state that does not change keeps its
``since``, so the floor's "time in state" is the time since the agent last changed it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone

from contacts.models import AgentPresence
from customers import access

State = AgentPresence.State


def set_presence(user: AbstractBaseUser | AnonymousUser, state: str, *, now: dt.datetime) -> None:
    """Record the agent's state; nothing for someone who does not work a queue."""
    if not user.is_authenticated or not access.has_role(user, access.CAN_WORK_QUEUE):
        return
    updated = AgentPresence.objects.filter(user_id=user.pk).exclude(state=state).update(state=state, since=now)
    if not updated:
        AgentPresence.objects.get_or_create(user_id=user.pk, defaults={"state": state, "since": now})


def on_logged_in(sender: Any, request: Any, user: AbstractBaseUser, **kwargs: Any) -> None:
    set_presence(user, State.READY, now=timezone.now())


def on_logged_out(sender: Any, request: Any, user: AbstractBaseUser | None, **kwargs: Any) -> None:
    if user is not None:
        set_presence(user, State.LOGGED_OUT, now=timezone.now())
