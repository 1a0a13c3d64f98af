"""E-mail through Django's e-mail backend (SMTP settings from the environment: EMAIL_HOST ...).

Each message has a text and an HTML part in the customer's language, the dealership's name as the
sender's, the message's idempotency key as its Message-ID, and an unsubscribe link (also in the
List-Unsubscribe header, one-click per RFC 8058) that records a refusal of e-mail without a login.
A recipient the server refuses with a 5xx code is a bad address; a server that is down or answers
4xx is a transient failure (retried with backoff).
"""

from __future__ import annotations

import smtplib
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from contacts.channels.unsubscribe import unsubscribe_url
from contacts.models import OutboxMessage
from contacts.senders import SendError, Sent


def message_id(message: OutboxMessage) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<{message.idempotency_key}@{domain}>"


def build_email(message: OutboxMessage) -> EmailMultiAlternatives:
    customer, dealership = message.customer, message.dealership
    link = unsubscribe_url(customer_id=customer.pk, channel="email", purpose=message.touchpoint.template.purpose)
    with translation.override(customer.language):
        subject = f"{dealership.name}: {message.touchpoint.template.name}"
        context = {"body": message.body, "dealership": dealership, "unsubscribe_url": link, "subject": subject,
                   "language": customer.language}
        text = render_to_string("contacts/email/message.txt", context)
        html = render_to_string("contacts/email/message.html", context)
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=formataddr((dealership.name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1])),
        to=[message.recipient],
        headers={
            "Message-ID": message_id(message),
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    email.attach_alternative(html, "text/html")
    return email


def _text(answer: bytes | str) -> str:
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer


class EmailSender:
    name = "email"

    def send(self, message: OutboxMessage) -> Sent:
        email = build_email(message)
        try:
            email.send(fail_silently=False)
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPSenderRefused) as error:
            # The deployment's settings, not this message: it waits until they are put right.
            raise SendError(f"the mail server refused our login or sender address: {error}") from error
        except smtplib.SMTPRecipientsRefused as error:
            code, refusal = next(iter(error.recipients.values()), (0, b""))
            reason = f"the mail server refused {message.recipient}: {code} {_text(refusal)}"
            raise SendError(reason, is_bad_address=500 <= code < 600) from error
        except smtplib.SMTPResponseException as error:
            reason = f"the mail server answered {error.smtp_code} {_text(error.smtp_error)}"
            raise SendError(reason, is_permanent=500 <= error.smtp_code < 600) from error
        except (smtplib.SMTPException, OSError) as error:
            raise SendError(f"the mail server cannot be reached ({error})") from error
        return Sent(provider_message_id=message_id(message))
