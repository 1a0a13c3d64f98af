"""Customers, their consents and refusals per channel and purpose, and the suppression list that keeps a
refusal by phone or e-mail after the customer row is gone."""

from __future__ import annotations

import functools
import operator
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Lower, Replace
from django.utils.translation import gettext_lazy as _

from customers.core import consent as consent_rules
from customers.models.dealerships import Channel, Dealership


def normalize_phone(raw: str, region: str = "RU") -> str:
    """A phone in any common national or international format → E.164, or ValidationError naming it."""
    text = (raw or "").strip()
    if not text:
        return ""
    # Russian numbers are often written 8XXXXXXXXXX (trunk prefix 8): phonenumbers handles that for RU.
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise ValidationError(
            _("Phone number %(value)s is not valid."), params={"value": raw}, code="bad_phone"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# Russian plates use the Cyrillic letters that look like Latin ones; agents often type them in Latin.
LATIN_TO_CYRILLIC_PLATE = str.maketrans("ABEKMHOPCTYX", "АВЕКМНОРСТУХ")


def _spellings(word: str) -> set[str]:
    """The word as typed, lower case and capitalised: SQLite's LIKE folds the case of ASCII letters
    only, so "попова" must also be looked for as "Попова" (PostgreSQL folds every letter itself)."""
    return {word, word.lower(), word.capitalize(), word.upper()}


class CustomerQuerySet(models.QuerySet["Customer"]):
    def live(self) -> CustomerQuerySet:
        """Without the tombstones of merged customers."""
        return self.filter(merged_into__isnull=True)

    def for_dealerships(self, dealerships: Any) -> CustomerQuerySet:
        return self.filter(dealership__in=dealerships)

    def matching(self, query: str) -> CustomerQuerySet:
        """Customers a person is found by the way they say it: "Фамилия Имя" (every word matches a name,
        in any case), a phone in any format, a VIN, or a plate typed with or without spaces, in Latin letters."""
        condition = Q(vehicles__vin__icontains=query)
        names = Q()
        for word in query.split():
            names &= functools.reduce(operator.or_, (
                Q(last_name__contains=spelling) | Q(first_name__contains=spelling) | Q(middle_name__contains=spelling)
                for spelling in _spellings(word)
            ))
        condition |= names
        try:
            phone = normalize_phone(query)
        except ValidationError:
            phone = ""
        digits = "".join(ch for ch in query if ch.isdigit())
        if phone:
            condition |= Q(phone=phone) | Q(phone_alt=phone)
        elif len(digits) >= 4:
            condition |= Q(phone__contains=digits) | Q(phone_alt__contains=digits)
        plate = "".join(query.split()).upper()
        condition |= Q(plate_compact__contains=plate) | Q(plate_compact__contains=plate.translate(LATIN_TO_CYRILLIC_PLATE))
        return self.alias(plate_compact=Replace("vehicles__plate", Value(" "), Value(""))).filter(condition)

    def search(self, query: str) -> CustomerQuerySet:
        """The customers ``matching`` a non-empty query, each once: those whose surname starts with the
        query's first word first, then by name."""
        surname_first = functools.reduce(operator.or_, (Q(last_name__startswith=s) for s in _spellings(query.split()[0])))
        return (
            self.matching(query)
            .annotate(rank=Case(When(surname_first, then=Value(0)), default=Value(1)))
            .order_by("rank", "last_name", "first_name", "id")
            .distinct()
        )


class Customer(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        DEFECTED = "defected", _("Defected")
        INACTIVE = "inactive", _("Inactive")

    class Language(models.TextChoices):
        RU = "ru", _("Russian")
        EN = "en", _("English")

    class Temperature(models.TextChoices):
        """The method's scale: cold (no interest now), warm (interested, not yet ready), hot (ready to act)."""

        COLD = "cold", _("Cold")
        WARM = "warm", _("Warm")
        HOT = "hot", _("Hot")

    dealership = models.ForeignKey(
        Dealership, on_delete=models.PROTECT, related_name="customers", verbose_name=_("dealership")
    )
    external_id = models.CharField(_("external id"), max_length=64, null=True, blank=True)
    first_name = models.CharField(_("first name"), max_length=100)
    middle_name = models.CharField(_("middle name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    phone_alt = models.CharField(_("second phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.RU)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=Channel.choices, default=Channel.CALL
    )
    preferred_hours_start = models.TimeField(_("preferred hours from"), null=True, blank=True)
    preferred_hours_end = models.TimeField(_("preferred hours to"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # Failed calls in a row (no answer, wrong number) on the main phone; reset by a reached call.
    phone_failures = models.PositiveSmallIntegerField(_("failed calls in a row"), default=0)
    phone_unreachable_since = models.DateField(_("phone unreachable since"), null=True, blank=True)
    # Set by a permanent e-mail failure (an address the mail server refused, a bounce).
    email_unreachable_since = models.DateField(_("e-mail unreachable since"), null=True, blank=True)
    # Hold-out group: gets no calls except those they ask for (the dashboards compare the two groups).
    is_holdout = models.BooleanField(_("in hold-out group"), default=False)
    # Set when this customer was merged into another (customers.duplicates.merge_customers): the row
    # stays as a tombstone, so an import by its external id finds the survivor; it holds nothing else.
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_from",
        verbose_name=_("merged into"),
    )
    # Cold / warm / hot, set by the agent's outcome or by department staff (contacts.calls.handoffs).
    temperature = models.CharField(_("temperature"), max_length=4, choices=Temperature.choices, blank=True)
    temperature_set_at = models.DateTimeField(_("temperature set at"), null=True, blank=True)
    temperature_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("temperature set by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(
                fields=["dealership", "external_id"], name="customer_external_id_unique_per_dealership"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "defected", "inactive"]), name="customer_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(phone="") | Q(phone__startswith="+"), name="customer_phone_e164"
            ),
        ]
        indexes = [
            # Read by the duplicate detection (customers.duplicates): the phone has its own index.
            # The duplicate detection's joins (customers.duplicates) look a phone or an e-mail up within a
            # dealership: with the dealership first, SQLite's planner takes these over the dealership's
            # own index (which made each lookup a scan of the dealership: 20 s per 2,000 imported rows).
            models.Index(fields=["dealership", "phone"], name="customer_dealership_phone", condition=~Q(phone="")),
            models.Index(fields=["dealership", "phone_alt"], name="customer_phone_alt", condition=~Q(phone_alt="")),
            models.Index("dealership", Lower("email"), name="customer_email_lower", condition=~Q(email="")),
            models.Index(
                fields=["dealership", "last_name", "first_name", "birthday"], name="customer_name_birthday",
                condition=Q(birthday__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.last_name, self.first_name, self.middle_name) if part)

    @property
    def is_phone_reachable(self) -> bool:
        return self.phone != "" and self.phone_unreachable_since is None

    @property
    def is_email_reachable(self) -> bool:
        return self.email != "" and self.email_unreachable_since is None

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        for field in ("phone", "phone_alt"):
            try:
                setattr(self, field, normalize_phone(getattr(self, field)))
            except ValidationError as error:
                errors[field] = error
        if errors:
            raise ValidationError(errors)

    def refused_pairs(self) -> frozenset[tuple[str, str]]:
        """The (channel, purpose) pairs the customer refused (customers.core.consent)."""
        return consent_rules.refused_pairs((c.channel, c.purpose, c.is_allowed) for c in self.consents.all())

    def blocked_channels(self) -> frozenset[str]:
        """Channels the customer refused for every purpose (do-not-call / do-not-SMS / do-not-e-mail)."""
        return consent_rules.blocked_channels(self.refused_pairs())

    def allows(self, channel: str, purpose: str | None = None) -> bool:
        """May the customer be contacted on ``channel`` for ``purpose`` (None: for some purpose)?"""
        if purpose is None or purpose == consent_rules.ALL:
            return channel not in self.blocked_channels()
        return (channel, purpose) not in self.refused_pairs()


class Purpose(models.TextChoices):
    """What a contact is for; a consent row names one purpose or all of them (customers.core.consent).
    contacts.core.purposes gives every touchpoint template its purpose."""

    ALL = consent_rules.ALL, _("all purposes")
    SERVICE = consent_rules.SERVICE, _("service reminders")
    SURVEY = consent_rules.SURVEY, _("satisfaction surveys")
    MARKETING = consent_rules.MARKETING, _("sales and marketing offers")


class RefusalSource(models.TextChoices):
    """Where a refusal or consent was recorded."""

    CALL = "call", _("call screen")
    ADMIN = "admin", _("administration")
    API = "api", _("API")
    IMPORT = "import", _("import")
    REPLY = "reply", _("customer's reply")
    UNSUBSCRIBE = "unsubscribe", _("unsubscribe link")


class Consent(models.Model):
    """A customer's consent or refusal for one channel and purpose (or all purposes), with the date,
    the reason in the customer's words, who recorded it and where. No row = allowed."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices, default=Purpose.ALL)
    is_allowed = models.BooleanField(_("allowed"), default=True)
    changed_at = models.DateTimeField(_("changed at"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # Blank for the rows recorded before the source was kept.
    source = models.CharField(_("recorded in"), max_length=12, choices=RefusalSource.choices, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        ordering = ["channel", "purpose"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["customer", "channel", "purpose"], name="consent_one_per_channel_purpose"),
            models.CheckConstraint(condition=Q(channel__in=["call", "sms", "email"]), name="consent_channel_valid"),
            models.CheckConstraint(
                condition=Q(purpose__in=["all", "service", "survey", "marketing"]), name="consent_purpose_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}/{self.purpose}: {'yes' if self.is_allowed else 'no'}"


class SuppressionQuerySet(models.QuerySet["Suppression"]):
    def matching(self, *, phones: Any = (), emails: Any = ()) -> SuppressionQuerySet:
        """Entries for any of these phones (E.164) or e-mails (any case)."""
        phone_values = {p for p in phones if p}
        email_values = {normalize_email(e) for e in emails if e}
        condition = Q(pk__in=[])
        if phone_values:
            condition |= Q(kind=Suppression.Kind.PHONE, value__in=phone_values)
        if email_values:
            condition |= Q(kind=Suppression.Kind.EMAIL, value__in=email_values)
        return self.filter(condition)


def normalize_email(raw: str) -> str:
    return (raw or "").strip().lower()


class Suppression(models.Model):
    """A refusal kept by phone number or e-mail address, so it outlives the customer row: a customer
    deleted and imported again, or created anew with the same phone, comes back refused (written and
    applied by customers.refusals). One list for the installation, which serves one dealer group (a
    VIN is unique across the group too)."""

    class Kind(models.TextChoices):
        PHONE = "phone", _("phone")
        EMAIL = "email", _("e-mail")

    kind = models.CharField(_("kind"), max_length=5, choices=Kind.choices)
    # E.164 for a phone, lower case for an e-mail (normalize_phone, normalize_email).
    value = models.CharField(_("phone or e-mail"), max_length=254, blank=True)
    # HMAC of kind and value (customers.privacy.address_hash), set when the customer is erased on
    # request: then value is blank and the refusal is matched by this alone.
    value_hash = models.CharField(_("hash of the phone or e-mail"), max_length=64, blank=True, default="", db_index=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices, default=Purpose.ALL)
    refused_at = models.DateTimeField(_("refused at"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    source = models.CharField(_("recorded in"), max_length=12, choices=RefusalSource.choices)
    # The customer who refused, while that row exists (a deleted customer leaves the entry).
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )

    objects = SuppressionQuerySet.as_manager()

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppression list")
        constraints = [
            models.UniqueConstraint(fields=["kind", "value", "channel", "purpose"], condition=~Q(value=""),
                                    name="suppression_unique_address_channel_purpose"),
            models.UniqueConstraint(fields=["kind", "value_hash", "channel", "purpose"], condition=~Q(value_hash=""),
                                    name="suppression_unique_hash_channel_purpose"),
            models.CheckConstraint(condition=Q(kind__in=["phone", "email"]), name="suppression_kind_valid"),
            models.CheckConstraint(condition=Q(channel__in=["call", "sms", "email"]), name="suppression_channel_valid"),
            models.CheckConstraint(
                condition=~Q(kind="phone") | Q(value__startswith="+") | Q(value=""), name="suppression_phone_e164"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.value}: no {self.channel}/{self.purpose}"
