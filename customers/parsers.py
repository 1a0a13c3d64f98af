"""The API's JSON parser, with limits: a body larger than settings.DATA_UPLOAD_MAX_MEMORY_SIZE is a 413
before it is parsed, and JSON nested deeper than MAX_JSON_DEPTH is a 400 (deep nesting made Python's
parser raise RecursionError: a 500). DRF's own JSONParser reads the stream without Django's size limit."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

# The deepest a request of this API needs is 3 ({"rows": [{...}]}); 32 leaves room for any client.
MAX_JSON_DEPTH = 32


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists and objects deeper than ``limit`` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, Mapping) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class LimitedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1) if stream is not None and limit is not None else (stream.read() if stream else b"")
        if limit is not None and len(body) > limit:
            raise RequestTooLarge(_("The request body is larger than %(limit)s bytes: send fewer rows at a time.")
                                  % {"limit": limit})
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(body.decode(encoding), parse_constant=_refuse_constant)
        except RecursionError:
            raise ParseError(_too_deep()) from None
        except (ValueError, UnicodeDecodeError) as error:
            raise ParseError(_("The body is not valid JSON: %(error)s") % {"error": error}) from None
        if json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(_too_deep())
        return data


def _too_deep() -> str:
    return _("The JSON is nested more than %(limit)s levels deep.") % {"limit": MAX_JSON_DEPTH}


def _refuse_constant(name: str) -> None:
    # NaN and Infinity are not JSON (DRF's own parser refuses them too in strict mode).
    raise ValueError(f"{name} is not allowed")
