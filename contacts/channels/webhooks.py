"""Thin views for what reaches us from outside: providers' delivery callbacks, customers' SMS replies
and the unsubscribe link. None needs a login; each checks its own signature or token."""

from __future__ import annotations

import hashlib
import hmac
import json

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from contacts.channels import delivery, smsc, twilio
from contacts.channels.inbound import handle_inbound_email, handle_inbound_sms
from contacts.channels.unsubscribe import read_token, unsubscribe
from customers.models import Purpose

REPORT_READERS = {"smsc": smsc.read_report, "twilio": twilio.read_report}
SIGNATURE_HEADER = "X-CLM-Signature"


def inbound_signature(body: bytes) -> str:
    return hmac.new(settings.INBOUND_SMS_SECRET.encode("utf-8"), body, hashlib.sha256).hexdigest()


@login_not_required
@csrf_exempt
@require_POST
def delivery_report(request: HttpRequest, provider: str, token: str) -> HttpResponse:
    reader = REPORT_READERS.get(provider)
    if reader is None or not delivery.is_valid_callback_token(provider, token):
        return HttpResponse("unknown callback", status=404, content_type="text/plain")
    fields = {key: request.POST.get(key, "") for key in request.POST}
    if provider == "twilio" and not twilio.is_signed_by_twilio(request.headers.get("X-Twilio-Signature", ""), fields):
        return HttpResponse("bad signature", status=403, content_type="text/plain")
    report = reader(fields)
    if report is None:
        return HttpResponse("unreadable report", status=400, content_type="text/plain")
    delivery.record_delivery(report=report, now=timezone.now())
    return HttpResponse("OK", content_type="text/plain")


@login_not_required
@csrf_exempt
@require_POST
def inbound_sms(request: HttpRequest) -> HttpResponse:
    """A reply: JSON {"from": "+7...", "text": "..."} signed with HMAC-SHA256 of the raw body under
    INBOUND_SMS_SECRET, hex in the X-CLM-Signature header."""
    if not is_signed(request):
        return JsonResponse({"error": "bad or missing signature"}, status=403)
    try:
        payload = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return JsonResponse({"error": "the body is not JSON"}, status=400)
    if not isinstance(payload, dict) or not isinstance(payload.get("from"), str) or not isinstance(payload.get("text"), str):
        return JsonResponse({"error": "expected {\"from\": \"+7...\", \"text\": \"...\"}"}, status=400)
    result = handle_inbound_sms(phone=payload["from"], text=payload["text"], now=timezone.now())
    return JsonResponse({"outcome": result.outcome, "customers": result.customer_ids, "detail": result.detail})


@login_not_required
@csrf_exempt
@require_POST
def inbound_email(request: HttpRequest) -> HttpResponse:
    """A reply to one of our e-mails: the raw message (RFC 5322) as the body, signed like an SMS reply
    (a mail server's pipe or an inbound-mail service relays it)."""
    if not is_signed(request):
        return JsonResponse({"error": "bad or missing signature"}, status=403)
    result = handle_inbound_email(raw=request.body, now=timezone.now())
    status = 400 if result.outcome == "unreadable" else 200
    return JsonResponse({"outcome": result.outcome, "customers": result.customer_ids, "detail": result.detail}, status=status)


def is_signed(request: HttpRequest) -> bool:
    signature = request.headers.get(SIGNATURE_HEADER, "")
    return bool(settings.INBOUND_SMS_SECRET) and hmac.compare_digest(inbound_signature(request.body), signature)


@login_not_required
@csrf_exempt  # the signed token is the credential; mail clients' one-click POST carries no CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    found = read_token(token)
    if found is None:
        return render(request, "contacts/unsubscribe.html", {"is_invalid": True}, status=400)
    customer, channel, purpose = found
    with translation.override(customer.language):
        is_whole = purpose is None or purpose == Purpose.ALL
        context = {"dealership": customer.dealership, "channel": channel, "is_done": False, "is_whole": is_whole,
                   "purpose": "" if purpose is None or is_whole else Purpose(purpose).label}
        if request.method == "POST":
            # The page's second button stops every e-mail; a mail client's one-click POST, or the first
            # button, stops the message's purpose.
            if request.POST.get("scope") == "all":
                purpose, context["is_whole"] = None, True
            unsubscribe(customer=customer, channel=channel, now=timezone.now(), purpose=purpose)
            context["is_done"] = True
        context["title"] = _("Unsubscribe")
        return render(request, "contacts/unsubscribe.html", context)
