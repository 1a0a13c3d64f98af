"""The one HTTP client the SMS adapters share (the standard library's: no extra dependency)."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from contacts.senders import SendError


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None


def request(
    url: str, *, fields: dict[str, str], method: str = "POST", basic_auth: tuple[str, str] | None = None
) -> Response:
    """One form-encoded request. A provider that cannot be reached, or answers 5xx or 429, is a
    transient SendError; any other answer is returned for the adapter to read."""
    data = urllib.parse.urlencode(fields).encode("utf-8")
    if method == "GET":
        url, data_to_send = f"{url}?{data.decode('ascii')}", None
    else:
        data_to_send = data
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    if basic_auth is not None:
        token = base64.b64encode(f"{basic_auth[0]}:{basic_auth[1]}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
    outgoing = urllib.request.Request(url, data=data_to_send, headers=headers, method=method)
    try:
        with urllib.request.urlopen(outgoing, timeout=settings.SMS_HTTP_TIMEOUT) as answer:  # noqa: S310 - URL from settings
            return Response(status=answer.status, body=answer.read())
    except urllib.error.HTTPError as error:
        response = Response(status=error.code, body=error.read())
        if error.code >= 500 or error.code == 429:
            raise SendError(f"the SMS provider answered HTTP {error.code}") from error
        return response
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
        raise SendError(f"the SMS provider cannot be reached ({error})") from error
