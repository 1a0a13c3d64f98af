"""SMS through Twilio's Programmable Messaging API, the international provider.

``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (HTTP basic auth: account SID and auth
token) with To, From (a number, or a Messaging Service SID starting "MG"), Body and StatusCallback;
answer 201 with the message's ``sid``, or 4xx with ``{"code": N, "message": "..."}``. Status callbacks
post MessageSid, MessageStatus (queued, sending, sent, delivered, undelivered, failed) and ErrorCode,
signed in X-Twilio-Signature (checked here, beside the URL token).
Twilio takes no idempotency key for a new message, so a worker killed mid-send is resolved by sending
again (contacts.sending.recover_reservations: at least once).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.conf import settings

from contacts.channels import http
from contacts.channels.delivery import DeliveryReport, DeliveryState, callback_url
from contacts.models import OutboxMessage
from contacts.senders import SendError, Sent

# Error codes of a refused request (Twilio's error dictionary) → (permanent, bad address, reason).
SEND_ERRORS: dict[int, tuple[bool, bool, str]] = {
    20003: (False, False, "Twilio: authentication failed (check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)"),
    20429: (False, False, "Twilio: too many requests"),
    21211: (True, True, "Twilio: the 'To' number is not a valid phone number"),
    21408: (True, False, "Twilio: sending to this region is not enabled on the account"),
    21610: (True, False, "Twilio: the customer replied STOP to this sender"),
    21612: (True, True, "Twilio: this number cannot be reached from the sending number"),
    21614: (True, True, "Twilio: the 'To' number is not a mobile number"),
}
# ErrorCode in a status callback that says the number itself is bad.
BAD_NUMBER_ERRORS = {30003: "unreachable handset", 30005: "unknown destination", 30006: "landline or unreachable carrier"}


class TwilioSender:
    name = "twilio"

    def send(self, message: OutboxMessage) -> Sent:
        sender_field = "MessagingServiceSid" if settings.TWILIO_FROM.startswith("MG") else "From"
        fields = {
            "To": message.recipient,
            sender_field: settings.TWILIO_FROM,
            "Body": message.body,
            "StatusCallback": callback_url(self.name),
        }
        url = f"{settings.TWILIO_API_URL}/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}/Messages.json"
        response = http.request(url, fields=fields, basic_auth=(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN))
        answer = response.json()
        if response.status in (200, 201) and isinstance(answer, dict) and answer.get("sid"):
            return Sent(provider_message_id=str(answer["sid"]))
        code = int(answer.get("code") or 0) if isinstance(answer, dict) else 0
        default = (response.status != 401, False, f"Twilio answered HTTP {response.status}: {answer}")
        is_permanent, is_bad_address, reason = SEND_ERRORS.get(code, default)
        raise SendError(reason, is_permanent=is_permanent, is_bad_address=is_bad_address)


def signature(url: str, fields: dict[str, str]) -> str:
    """Twilio's X-Twilio-Signature: base64 HMAC-SHA1, under the auth token, of the callback URL followed
    by each POST field's name and value, sorted by name."""
    payload = url + "".join(f"{key}{fields[key]}" for key in sorted(fields))
    digest = hmac.new(settings.TWILIO_AUTH_TOKEN.encode("utf-8"), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def is_signed_by_twilio(header: str, fields: dict[str, str]) -> bool:
    return bool(settings.TWILIO_AUTH_TOKEN) and hmac.compare_digest(signature(callback_url("twilio"), fields), header)


def read_report(fields: dict[str, str]) -> DeliveryReport | None:
    sid, status = fields.get("MessageSid", ""), fields.get("MessageStatus", "")
    if not sid or not status:
        return None
    if status == "delivered":
        return DeliveryReport(provider="twilio", provider_message_id=sid, state=DeliveryState.DELIVERED)
    if status in ("undelivered", "failed"):
        code = int(fields.get("ErrorCode") or 0)
        if code in BAD_NUMBER_ERRORS:
            return DeliveryReport(provider="twilio", provider_message_id=sid, state=DeliveryState.BOUNCED,
                                  reason=f"Twilio {code}: {BAD_NUMBER_ERRORS[code]}")
        return DeliveryReport(provider="twilio", provider_message_id=sid, state=DeliveryState.FAILED,
                              reason=f"Twilio: {status} (error {code})")
    return DeliveryReport(provider="twilio", provider_message_id=sid, state=DeliveryState.SENT)
