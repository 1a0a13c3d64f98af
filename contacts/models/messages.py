"""The outbox: SMS and e-mail to send, with their sending and delivery state."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from contacts.models.touchpoints import Touchpoint
from customers.models import Channel, Customer, Dealership


class OutboxMessage(models.Model):
    """An SMS or e-mail to send, under the same contact rules as calls.

    Its life (contacts.sending, contacts.channels.delivery): pending (queued) → reserved (a worker is
    sending it; ``reserved_at``) → sent (the provider took it; ``provider_message_id``) → delivered,
    or failed / bounced. A transient failure puts it back to pending with ``next_attempt_at``; a
    reservation older than MESSAGE_RESERVATION_TIMEOUT_SECONDS belongs to a worker that died and is
    looked up at the provider by its idempotency key before anything is sent again.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Queued")
        RESERVED = "reserved", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        BOUNCED = "bounced", _("Bounced")
        CANCELLED = "cancelled", _("Cancelled")

    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, related_name="outbox")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="messages")
    touchpoint = models.OneToOneField(Touchpoint, on_delete=models.CASCADE, related_name="message")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.CharField(max_length=254)
    body = models.TextField()
    send_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # Which adapter took it (``Sender.name``) and the id the provider gave it, for its callbacks.
    provider = models.CharField(max_length=20, blank=True)
    provider_message_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    reserved_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["send_on", "id"]
        indexes = [
            # Read by contacts.sending.send_due_messages: pending messages by day.
            models.Index(fields=["send_on"], name="outbox_pending_by_day", condition=Q(status="pending")),
            # Read by contacts.sending.recover_reservations: the few rows a worker may have left mid-send.
            models.Index(fields=["reserved_at"], name="outbox_reserved", condition=Q(status="reserved")),
            # Read by contacts.channels.delivery: a provider's callback names its own id.
            models.Index(
                fields=["provider", "provider_message_id"], name="outbox_provider_id", condition=~Q(provider_message_id="")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "reserved", "sent", "delivered", "failed", "bounced", "cancelled"]),
                name="outbox_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.send_on} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        """Stable for the message's whole life, whichever worker sends it: the provider's own message id
        where it takes one (SMSC's ``id``), the e-mail's Message-ID."""
        return f"{settings.MESSAGE_ID_PREFIX}-{self.pk}"
