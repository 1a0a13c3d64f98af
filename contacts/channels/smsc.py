"""SMS through SMSC.ru's HTTP API, the Russian provider.

Why SMSC.ru: it takes the sender's own message ``id`` on ``send.php`` and answers ``status.php`` by
(phone, id), so the message's idempotency key is also the provider's id. A worker killed between
handing a message over and recording it can ask SMSC whether it has the message before sending it
again: exactly once from the customer's side. SMSC also refuses an identical request repeated
within a minute (error 9), which here means the first one went through.

Checked against SMSC's published documentation (stored copies read on 2026-12-02):
https://smsc.ru/api/http/ (English: https://smscentre.com/api/http/) for ``send.php``;
https://smscentre.com/api/http/status_messages/ and
https://smscentre.com/api/http/status_messages/status_answer/ for ``status.php``; the error list of
``send.php`` as SMSC's page gives it, mirrored at http://s1.sm-s.ru/api/http/send/sms/sms_answer/.

- ``POST /sys/send.php``: login, psw, phones (international format, "+" may be left out), mes, id,
  sender, fmt=3 (JSON), charset=utf-8 (the default is windows-1251). As documented. An error answers
  ``{"error": "...", "error_code": N}``, with the message's ``"id"`` too for errors 3, 6, 7 and 8;
  N is 1 parameters, 2 login or password, 3 not enough money, 4 IP blocked for a while, 5 date format,
  6 message forbidden (text or sender name), 7 phone number format, 8 cannot be delivered to this
  number, 9 the same request sent again too soon. As documented (SEND_ERRORS below).
- The success answer ``{"id": ..., "cnt": n}`` (n = SMS parts) is the shape the fake server in
  tests/contacts/channels/conftest.py gives; the stored pages did not show that part of the page, so
  it is not checked. The adapter reads only ``error_code`` from it, so nothing hangs on it.
- ``GET /sys/status.php``: login, psw, phone, id, fmt=3. As documented. The fmt=3 answer is
  ``{"status": S, "last_date": "...", "last_timestamp": T, "flag": F, "err": E}``; errors are
  ``{"error": "...", "error_code": N}`` with N 1, 2, 4, 5 (deleting a message) or 9 (too many
  requests). As documented.
- Status numbers S, checked against https://smscentre.com/api/http/status_messages/statuses/
  (SMSC's English documentation; stored copy read on 2026-12-02): -3 message not found (no
  message for that phone and id), -2 stopped (only messages of a paused mailing list, which we do
  not use), -1 waiting to be sent, 0 handed to the operator, 1 delivered, 2 read (e-mail only),
  3 expired (not delivered within its lifetime), 4 link followed (delivered, and the short link in
  it clicked). As documented: -3 is NOT_FOUND, 1, 2, 4 are delivered, 3 failed, -2, -1, 0 still
  under way.
- STILL UNVERIFIED (the stored copy of that page ends after status 4): 20 cannot be delivered,
  22 wrong number, 23 forbidden, 24 not enough money, 25 number not available; and the field names
  of the delivery callback SMSC posts to the URL set in the account ("Передача статусов и сообщений
  на обработчик Клиента" under РАЗНОЕ in SMSC's HTTP API documentation; read here as id, phone,
  status, err). No stored copy of that page showed its field list (a reseller's copy of the same
  documentation, https://smstraf.ru/api/http/miscellaneous/callback/, stops before it). Check both
  against SMSC's pages before going live. The delivered statuses are all verified, so an error
  in the unverified ones can misfile or delay a failure (or mark a phone bad wrongly for 22/25);
  it cannot report a delivery that did not happen.
"""

from __future__ import annotations

from django.conf import settings

from contacts.channels import http
from contacts.channels.delivery import DeliveryReport, DeliveryState
from contacts.models import OutboxMessage
from contacts.senders import SendError, Sent

# send.php error codes (SMSC's list) → (permanent, bad address, what a dealer reads).
SEND_ERRORS: dict[int, tuple[bool, bool, str]] = {
    1: (True, False, "SMSC: error in the request's parameters"),
    2: (False, False, "SMSC: wrong login or password (check SMSC_LOGIN and SMSC_PASSWORD)"),
    3: (False, False, "SMSC: not enough money on the account"),
    4: (False, False, "SMSC: this server's IP address is blocked for a while after frequent errors"),
    5: (True, False, "SMSC: wrong date format"),
    6: (True, False, "SMSC: the message is forbidden (its text or the sender name)"),
    7: (True, True, "SMSC: wrong phone number format"),
    8: (True, True, "SMSC: a message to this number cannot be delivered"),
}
DUPLICATE_REQUEST = 9
NOT_FOUND = -3
# status.php / callback statuses → our delivery state; a bad number marks the phone.
# -3, 1, 2, 3, 4 as documented at https://smscentre.com/api/http/status_messages/statuses/;
# 20, 22, 23, 24, 25 are unverified (see the module docstring).
DELIVERED_STATUSES = {1, 2, 4}  # delivered, read, link followed
FAILED_STATUSES = {3: "expired", 20: "cannot be delivered", 23: "forbidden", 24: "not enough money"}
BOUNCED_STATUSES = {22: "wrong number", 25: "number not available"}


def phone_digits(phone: str) -> str:
    return phone.lstrip("+")


class SmscSender:
    name = "smsc"

    def _auth(self) -> dict[str, str]:
        return {"login": settings.SMSC_LOGIN, "psw": settings.SMSC_PASSWORD}

    def send(self, message: OutboxMessage) -> Sent:
        fields = {
            **self._auth(),
            "phones": phone_digits(message.recipient),
            "mes": message.body,
            "id": message.idempotency_key,
            "fmt": "3",
            "charset": "utf-8",
        }
        if settings.SMSC_SENDER_NAME:
            fields["sender"] = settings.SMSC_SENDER_NAME
        answer = http.request(f"{settings.SMSC_API_URL}/sys/send.php", fields=fields).json()
        if not isinstance(answer, dict):
            raise SendError("SMSC answered something that is not JSON")
        code = answer.get("error_code")
        if code is None:
            return Sent(provider_message_id=message.idempotency_key)
        if code == DUPLICATE_REQUEST:
            return Sent(provider_message_id=message.idempotency_key)
        is_permanent, is_bad_address, reason = SEND_ERRORS.get(
            int(code), (False, False, f"SMSC error {code}: {answer.get('error', '')}")
        )
        raise SendError(reason, is_permanent=is_permanent, is_bad_address=is_bad_address)

    def look_up(self, message: OutboxMessage) -> str | None:
        fields = {**self._auth(), "phone": phone_digits(message.recipient), "id": message.idempotency_key, "fmt": "3"}
        answer = http.request(f"{settings.SMSC_API_URL}/sys/status.php", fields=fields, method="GET").json()
        if not isinstance(answer, dict) or "error_code" in answer:
            raise SendError(f"SMSC cannot say whether it has message {message.idempotency_key}: {answer}")
        if int(answer.get("status", NOT_FOUND)) == NOT_FOUND:
            return None
        return message.idempotency_key


def read_report(fields: dict[str, str]) -> DeliveryReport | None:
    """An SMSC delivery callback as a report; None for one we cannot read.

    Reads ``id`` and ``status`` (field names not yet checked against SMSC's callback page, see the
    module docstring)."""
    try:
        status = int(fields.get("status", ""))
    except ValueError:
        return None
    provider_id = fields.get("id", "")
    if not provider_id:
        return None
    if status in DELIVERED_STATUSES:
        return DeliveryReport(provider="smsc", provider_message_id=provider_id, state=DeliveryState.DELIVERED)
    if status in BOUNCED_STATUSES:
        return DeliveryReport(provider="smsc", provider_message_id=provider_id, state=DeliveryState.BOUNCED,
                              reason=f"SMSC: {BOUNCED_STATUSES[status]}")
    if status in FAILED_STATUSES:
        return DeliveryReport(provider="smsc", provider_message_id=provider_id, state=DeliveryState.FAILED,
                              reason=f"SMSC: {FAILED_STATUSES[status]}")
    return DeliveryReport(provider="smsc", provider_message_id=provider_id, state=DeliveryState.SENT)
