"""Message senders, pluggable like Django's e-mail backends (settings.MESSAGE_SENDER).

A real SMS gateway or SMTP sender implements ``send(message) -> None`` and raises on failure;
``contacts.sending.send_due_messages`` records the failure on the row and moves on.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from contacts.models import OutboxMessage


class Sender(Protocol):
    def send(self, message: OutboxMessage) -> None: ...


class ConsoleSender:
    """Writes each message to standard output (development)."""

    def send(self, message: OutboxMessage) -> None:
        sys.stdout.write(f"[{message.channel}] to {message.recipient}: {message.body}\n")


class FileSender:
    """Appends each message as a JSON line to MESSAGE_FILE_DIR/<day>.jsonl (the embedded default)."""

    def send(self, message: OutboxMessage) -> None:
        directory = Path(settings.MESSAGE_FILE_DIR)
        directory.mkdir(parents=True, exist_ok=True)
        line = {
            "id": message.pk,
            "channel": message.channel,
            "to": message.recipient,
            "body": message.body,
            "send_on": message.send_on.isoformat(),
        }
        with (directory / f"{message.send_on.isoformat()}.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")


def get_sender() -> Sender:
    sender: Sender = import_string(settings.MESSAGE_SENDER)()
    return sender
