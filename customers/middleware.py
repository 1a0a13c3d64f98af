"""Refuse requests carrying NUL bytes in the URL, the query or cookies.

PostgreSQL text cannot hold NUL, so such a value reaching a query (a session key, a filter) would be
a database error, i.e. a 500. It is never legitimate input: answer 400 before anything reads it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest


class RejectNulBytesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        values = [request.path, *request.COOKIES.keys(), *request.COOKIES.values()]
        values += [item for key, items in request.GET.lists() for item in (key, *items)]
        if any("\x00" in value for value in values):
            return HttpResponseBadRequest("The request contains a NUL character.", content_type="text/plain")
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Send settings.CONTENT_SECURITY_POLICY on every response that has none (Django 5.2 has no CSP of
    its own; 6.0 does). Empty: no header. The API's docs page gets CONTENT_SECURITY_POLICY_API_DOCS;
    Django's debug error pages (DEBUG on) go without, as they are made of inline styles and scripts."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        response = self.get_response(request)
        if settings.DEBUG and response.status_code >= 400:
            return response
        policy = settings.CONTENT_SECURITY_POLICY
        if request.path.startswith("/api/docs/"):
            policy = settings.CONTENT_SECURITY_POLICY_API_DOCS
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response
