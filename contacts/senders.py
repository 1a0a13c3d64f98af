"""Message senders, pluggable like Django's e-mail backends: one per channel (settings.SMS_SENDER,
settings.EMAIL_SENDER; both default to settings.MESSAGE_SENDER).

A sender's ``send(message)`` returns ``Sent`` with the provider's id for the message, or raises
``SendError``: ``is_permanent`` when this message can never go out (no retry), ``is_bad_address``
when the phone or e-mail itself is bad (the customer is marked). Anything else is transient and is
retried with backoff by contacts.sending. A sender that can ask its provider whether it already has a
message (by the message's idempotency key) also implements ``look_up``: a worker killed mid-send then
neither loses the message nor sends it twice.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string

from contacts.models import OutboxMessage


@dataclass(frozen=True)
class Sent:
    provider_message_id: str = ""


class SendError(Exception):
    def __init__(self, reason: str, *, is_permanent: bool = False, is_bad_address: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.is_permanent = is_permanent or is_bad_address
        self.is_bad_address = is_bad_address


class Sender(Protocol):
    name: str

    def send(self, message: OutboxMessage) -> Sent: ...


@runtime_checkable
class LooksUp(Protocol):
    def look_up(self, message: OutboxMessage) -> str | None:
        """The provider's id for this message if the provider has it, None if it never got it; raises
        SendError when the provider cannot be asked now."""
        ...


class ConsoleSender:
    """Writes each message to standard output (development)."""

    name = "console"

    def send(self, message: OutboxMessage) -> Sent:
        sys.stdout.write(f"[{message.channel}] to {message.recipient}: {message.body}\n")
        return Sent()


class FileSender:
    """Appends each message as a JSON line to MESSAGE_FILE_DIR/<day>.jsonl (the embedded default)."""

    name = "file"

    def send(self, message: OutboxMessage) -> Sent:
        directory = Path(settings.MESSAGE_FILE_DIR)
        directory.mkdir(parents=True, exist_ok=True)
        line = {
            "id": message.pk,
            "key": message.idempotency_key,
            "channel": message.channel,
            "to": message.recipient,
            "body": message.body,
            "send_on": message.send_on.isoformat(),
        }
        with (directory / f"{message.send_on.isoformat()}.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        return Sent(provider_message_id=message.idempotency_key)


def get_sender(channel: str) -> Sender:
    path = settings.EMAIL_SENDER if channel == "email" else settings.SMS_SENDER
    sender: Sender = import_string(path)()
    return sender
