"""The API's rate limit, which fails open: its counters live in the cache (Redis in production), and a
cache that is down must not turn every API call into a 500. The request is let through and the outage
logged, at most once a minute per process so a long outage does not flood the log."""

from __future__ import annotations

import logging
import time
from typing import Any

from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle

logger = logging.getLogger(__name__)

LOG_EVERY_SECONDS = 60.0
_last_logged = {"at": float("-inf")}


class FailOpenUserRateThrottle(UserRateThrottle):
    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as error:
            moment = time.monotonic()
            if moment - _last_logged["at"] >= LOG_EVERY_SECONDS:
                _last_logged["at"] = moment
                logger.warning("API rate limit not applied: the cache is unavailable (%s)", error)
            return True
