"""Local stand-ins for the providers: a real SMTP server (aiosmtpd) and HTTP servers (http.server in a
thread) that speak SMSC.ru's and Twilio's documented APIs, on 127.0.0.1 ports the OS picks."""

from __future__ import annotations

import base64
import datetime as dt
import json
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller

from contacts import tasks

REFUSED_ADDRESS = "nobody@example.ru"
NOON = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)  # Monday, 12:00 in Moscow


def send_at(moment: dt.datetime) -> int:
    """The beat's message task at this moment of a faked clock."""
    with time_machine.travel(moment, tick=False):
        return tasks.send_due_messages()


@dataclass
class SmtpHandler:
    """Accepts every message except to REFUSED_ADDRESS (550, as a server says of an unknown mailbox)."""

    messages: list[Any] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook name
        if address == REFUSED_ADDRESS:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    handler = SmtpHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", controller.port, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_SENDER = "contacts.channels.email.EmailSender"
    settings.DEFAULT_FROM_EMAIL = "service@kia-yug.ru"
    yield handler
    controller.stop()


def free_port() -> int:
    """A port nothing listens on (bound, read, released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FakeProvider:
    """Shared state of a fake provider: what it received, and switches for its failures."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self.is_down = False
        self.lock = threading.Lock()
        self.state: dict[str, Any] = {}

    def handler(self, answer):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                fields = dict(urllib.parse.parse_qsl(parsed.query))
                if method == "POST":
                    length = int(self.headers.get("Content-Length") or 0)
                    fields.update(urllib.parse.parse_qsl(self.rfile.read(length).decode("utf-8")))
                with provider.lock:
                    provider.requests.append((parsed.path, fields, dict(self.headers)))
                    status, body = (503, {"error": "down"}) if provider.is_down else answer(provider, parsed.path, fields, self.headers)
                data = json.dumps(body, ensure_ascii=False).encode("utf-8")
                # A provider that took the message but answers slowly: a worker can be killed meanwhile.
                if path_stalls := provider.state.get("stall_seconds", {}).get(parsed.path):
                    time.sleep(path_stalls)
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def serve(provider: FakeProvider, answer):
    server = ThreadingHTTPServer(("127.0.0.1", 0), provider.handler(answer))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


# --- SMSC.ru: /sys/send.php and /sys/status.php with fmt=3 (JSON) ------------------------------------

SMSC_LOGIN, SMSC_PASSWORD = "dealer", "secret"
UNDELIVERABLE = "79990000000"


def smsc_answer(provider: FakeProvider, path: str, fields: dict[str, str], headers) -> tuple[int, dict[str, Any]]:
    sent: dict[tuple[str, str], float] = provider.state.setdefault("sent", {})
    if (fields.get("login"), fields.get("psw")) != (SMSC_LOGIN, SMSC_PASSWORD):
        return 200, {"error": "authorise error", "error_code": 2}
    if path == "/sys/send.php":
        phone, message_id = fields.get("phones", ""), fields.get("id", "")
        if not phone.isdigit() or len(phone) != 11:
            return 200, {"error": "invalid number", "error_code": 7, "id": message_id}
        if phone == UNDELIVERABLE:
            return 200, {"error": "couldn't be delivered", "error_code": 8, "id": message_id}
        if provider.state.get("no_money"):
            return 200, {"error": "no money", "error_code": 3, "id": message_id}
        if (phone, message_id) in sent and time.monotonic() - sent[(phone, message_id)] < 60:
            return 200, {"error": "duplicate request, wait a minute", "error_code": 9}
        sent[(phone, message_id)] = time.monotonic()
        provider.state.setdefault("delivered_texts", []).append((phone, message_id, fields.get("mes", "")))
        # success shape {"id", "cnt"} not checked against SMSC's pages (the adapter reads only error_code)
        return 200, {"id": message_id, "cnt": 1}
    if path == "/sys/status.php":
        known = (fields.get("phone", ""), fields.get("id", "")) in sent
        # the documented fmt=3 answer: status, last_date, last_timestamp, flag, err
        # (https://smscentre.com/api/http/status_messages/status_answer/); status 1 delivered,
        # -3 message not found (https://smscentre.com/api/http/status_messages/statuses/)
        return 200, {"status": 1 if known else -3, "last_date": "02.12.2026 10:00:00", "last_timestamp": 1796205600,
                     "flag": 0, "err": 0}
    return 404, {"error": "no such method"}


@pytest.fixture
def smsc_server(settings):
    provider = FakeProvider()
    server, thread = serve(provider, smsc_answer)
    settings.SMS_SENDER = "contacts.channels.smsc.SmscSender"
    settings.SMSC_API_URL = f"http://127.0.0.1:{server.server_address[1]}"
    settings.SMSC_LOGIN, settings.SMSC_PASSWORD, settings.SMSC_SENDER_NAME = SMSC_LOGIN, SMSC_PASSWORD, "KiaYug"
    settings.SMS_HTTP_TIMEOUT = 5
    yield provider
    server.shutdown()
    server.server_close()
    thread.join(5)


# --- Twilio: POST /2010-04-01/Accounts/{sid}/Messages.json -------------------------------------------

TWILIO_SID, TWILIO_TOKEN = "AC" + "0" * 32, "twilio-token"


def twilio_answer(provider: FakeProvider, path: str, fields: dict[str, str], headers) -> tuple[int, dict[str, Any]]:
    expected = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    if headers.get("Authorization") != expected:
        return 401, {"code": 20003, "message": "Authenticate", "status": 401}
    if path != f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json":
        return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
    to = fields.get("To", "")
    if not to.startswith("+") or to.startswith("+7999"):
        return 400, {"code": 21211, "message": f"The 'To' number {to} is not a valid phone number.", "status": 400}
    count = provider.state["count"] = provider.state.get("count", 0) + 1
    return 201, {"sid": f"SM{count:032x}", "status": "queued", "to": to, "body": fields.get("Body", "")}


@pytest.fixture
def twilio_server(settings):
    provider = FakeProvider()
    server, thread = serve(provider, twilio_answer)
    settings.SMS_SENDER = "contacts.channels.twilio.TwilioSender"
    settings.TWILIO_API_URL = f"http://127.0.0.1:{server.server_address[1]}"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_FROM = TWILIO_SID, TWILIO_TOKEN, "+15005550006"
    settings.SMS_HTTP_TIMEOUT = 5
    yield provider
    server.shutdown()
    server.server_close()
    thread.join(5)
