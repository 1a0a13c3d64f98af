"""The columns of each kind of file: names, labels, Russian and other aliases, keys, templates."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.utils.translation import gettext_noop

from customers.importing.base import MAX_ODOMETER_KM

# ----------------------------------------------------------------------------------------- columns


ValueType = Literal["key", "text", "vin", "phone", "email", "date", "year", "number", "choice"]


@dataclass(frozen=True)
class Column:
    """A column of an import kind: its canonical name (the template's header and the API's field),
    the words used for it in messages, the header spellings accepted, and how its cells are read."""

    name: str
    label: str  # an English msgid (gettext_noop), translated when a message is built
    aliases: tuple[str, ...]
    type: ValueType = "text"
    required: bool = False
    max_length: int = 0
    minimum: int = 0
    maximum: int = 0
    choices: Mapping[str, tuple[str, ...]] | None = None  # stored value → accepted words


SALE_KINDS = {
    "new": ("new", "new car", "новый", "новая", "новое", "нов"),
    "used": ("used", "pre-owned", "second hand", "с пробегом", "б/у", "подержанный", "вторичный"),
    "trade_in": ("trade-in", "trade in", "trade_in", "трейд-ин", "трейдин", "трейд ин"),
}
VISIT_KINDS = {
    "maintenance": ("maintenance", "scheduled maintenance", "service", "то", "плановое то", "техобслуживание",
                    "техническое обслуживание", "регламентное то"),
    "repair": ("repair", "ремонт", "слесарный ремонт", "текущий ремонт"),
    "warranty": ("warranty", "warranty repair", "гарантия", "гарантийный", "гарантийный ремонт"),
    "tyres": ("tyres", "tires", "tyre", "tire", "шины", "шиномонтаж", "сезонная замена шин", "замена шин"),
    "body": ("body", "bodywork", "body repair", "кузов", "кузовной", "кузовной ремонт", "покраска"),
}
READING_SOURCES = {
    "sale": ("sale", "продажа"),
    "visit": ("visit", "service visit", "визит", "сервис", "заезд"),
    "call": ("call", "звонок"),
    "manual": ("manual", "вручную", "ручной ввод"),
    "telematics": ("telematics", "телематика"),
}
REFUSAL_WORDS = {"yes": ("yes", "y", "true", "1", "x", "да", "д", "отказ"), "no": ("no", "n", "false", "0", "нет", "н")}
# The refusal columns of a customers file and the channel each refuses.
REFUSAL_COLUMNS = {"do_not_call": "call", "do_not_sms": "sms", "do_not_email": "email"}
# What the row's refusals are for (customers.core.consent); empty: every purpose.
PURPOSE_WORDS = {
    "all": ("all", "everything", "все", "всё", "все цели"),
    "service": ("service", "service reminders", "сервис", "сервисные напоминания", "напоминания о то"),
    "survey": ("survey", "surveys", "satisfaction surveys", "опрос", "опросы", "опросы удовлетворенности"),
    "marketing": ("marketing", "sales", "offers", "sales and marketing offers", "реклама", "маркетинг", "продажи",
                  "предложения", "рекламные предложения"),
}
LANGUAGES = {"ru": ("ru", "russian", "русский", "рус"), "en": ("en", "english", "английский", "англ")}

VIN_ALIASES = ("vin", "VIN-код", "VIN код", "вин", "вин код", "VIN number", "идентификационный номер")
ODOMETER_ALIASES = ("odometer_km", "odometer", "km", "mileage", "пробег", "пробег, км", "пробег км", "показания одометра")


def _column(name: str, label: str, *aliases: str, **options: Any) -> Column:
    return Column(name=name, label=label, aliases=(name, *aliases), **options)


KINDS: dict[str, tuple[Column, ...]] = {
    "customers": (
        _column("external_id", gettext_noop("external id"), "external id", "id", "customer id", "client id",
                "код", "код клиента", "id клиента", "ид клиента", "номер клиента", "код контрагента",
                type="key", required=True, max_length=64),
        _column("last_name", gettext_noop("last name"), "last name", "surname", "family name", "фамилия",
                required=True, max_length=100),
        _column("first_name", gettext_noop("first name"), "first name", "name", "given name", "имя",
                required=True, max_length=100),
        _column("middle_name", gettext_noop("middle name"), "middle name", "patronymic", "отчество", max_length=100),
        _column("full_name", gettext_noop("full name"), "full name", "customer name", "client name", "фио",
                "фио клиента", "клиент фио", max_length=300),
        _column("phone", gettext_noop("phone"), "phone number", "mobile", "mobile phone", "tel", "телефон",
                "мобильный", "мобильный телефон", "сотовый", "тел", "номер телефона", type="phone"),
        _column("phone_alt", gettext_noop("second phone"), "phone 2", "second phone", "other phone",
                "телефон 2", "доп телефон", "дополнительный телефон", "рабочий телефон", type="phone"),
        _column("email", gettext_noop("e-mail"), "e-mail", "mail", "e-mail address", "почта",
                "электронная почта", "эл почта", "эл. почта", type="email", max_length=254),
        _column("birthday", gettext_noop("birthday"), "birth date", "date of birth", "dob", "дата рождения",
                "день рождения", type="date"),
        _column("address", gettext_noop("address"), "адрес", max_length=300),
        _column("language", gettext_noop("language"), "язык", type="choice", choices=LANGUAGES),
        # A refusal recorded in the DMS: "yes" refuses the channel; "no" or empty changes nothing (a
        # refusal is lifted only by the customer's consent, recorded in the admin: customers.refusals).
        _column("do_not_call", gettext_noop("refuses calls"), "no calls", "do not call", "не звонить",
                "отказ от звонков", "запрет звонков", type="choice", choices=REFUSAL_WORDS),
        _column("do_not_sms", gettext_noop("refuses SMS"), "no sms", "do not sms", "не отправлять sms",
                "отказ от sms", "запрет sms", type="choice", choices=REFUSAL_WORDS),
        _column("do_not_email", gettext_noop("refuses e-mail"), "no email", "no e-mail", "do not email",
                "не отправлять email", "отказ от email", "отказ от e-mail", "запрет email", type="choice",
                choices=REFUSAL_WORDS),
        _column("refusal_purpose", gettext_noop("refused for"), "refusal purpose", "purpose", "refused for",
                "цель отказа", "отказ от", "отказ для", type="choice", choices=PURPOSE_WORDS),
    ),
    "vehicles": (
        _column("vin", gettext_noop("VIN"), *VIN_ALIASES[1:], type="vin", required=True),
        _column("make", gettext_noop("make"), "brand", "марка", required=True, max_length=60),
        _column("model", gettext_noop("model"), "модель", required=True, max_length=60),
        _column("year", gettext_noop("year"), "model year", "year of manufacture", "год", "год выпуска",
                "год изготовления", type="year", required=True),
        _column("plate", gettext_noop("plate"), "plate number", "license plate", "registration",
                "registration number", "госномер", "гос номер", "гос. номер", "государственный номер",
                "регистрационный номер", max_length=20),
        _column("owner_external_id", gettext_noop("owner"), "owner external id", "owner", "owner id",
                "customer id", "customer external id", "client id", "владелец", "код владельца", "код клиента",
                "клиент", "id клиента", type="key", max_length=64),
        _column("maintenance_interval_km", gettext_noop("maintenance interval, km"), "maintenance interval km",
                "service interval km", "интервал то км", "межсервисный интервал км", type="number",
                minimum=1000, maximum=100_000),
        _column("maintenance_interval_months", gettext_noop("maintenance interval, months"),
                "maintenance interval months", "service interval months", "интервал то мес",
                "интервал то месяцев", type="number", minimum=1, maximum=60),
        _column("warranty_months", gettext_noop("warranty, months"), "warranty months", "гарантия мес",
                "гарантия месяцев", type="number", minimum=0, maximum=240),
        _column("warranty_km", gettext_noop("warranty, km"), "warranty km", "гарантия км", type="number",
                minimum=0, maximum=MAX_ODOMETER_KM),
    ),
    "sales": (
        _column("external_id", gettext_noop("external id"), "external id", "id", "sale id", "deal id",
                "contract", "contract number", "код продажи", "номер договора", "№ договора", "договор",
                "номер сделки", type="key", required=True, max_length=64),
        _column("vin", gettext_noop("VIN"), *VIN_ALIASES[1:], type="vin", required=True),
        _column("customer_external_id", gettext_noop("customer"), "customer external id", "customer id",
                "customer", "client id", "buyer id", "код клиента", "клиент", "покупатель", "код покупателя",
                "id клиента", type="key", required=True, max_length=64),
        _column("sold_on", gettext_noop("sale date"), "sold on", "sale date", "date", "дата продажи", "дата",
                "дата договора", "дата выдачи", type="date", required=True),
        _column("kind", gettext_noop("sale type"), "type", "sale type", "тип", "тип продажи", "вид продажи",
                type="choice", choices=SALE_KINDS),
        _column("odometer_km", gettext_noop("odometer"), *ODOMETER_ALIASES[1:], type="number",
                minimum=0, maximum=MAX_ODOMETER_KM),
        _column("salesperson", gettext_noop("salesperson"), "sales manager", "seller", "продавец", "менеджер",
                "менеджер продаж", max_length=120),
    ),
    "visits": (
        _column("external_id", gettext_noop("external id"), "external id", "id", "visit id", "order",
                "work order", "repair order", "заказ-наряд", "номер заказ-наряда", "№ заказ-наряда",
                "код визита", type="key", required=True, max_length=64),
        _column("vin", gettext_noop("VIN"), *VIN_ALIASES[1:], type="vin", required=True),
        _column("visited_on", gettext_noop("visit date"), "visited on", "visit date", "date", "дата",
                "дата визита", "дата заезда", "дата заказ-наряда", "дата закрытия", type="date", required=True),
        _column("odometer_km", gettext_noop("odometer"), *ODOMETER_ALIASES[1:], type="number", required=True,
                minimum=0, maximum=MAX_ODOMETER_KM),
        _column("kind", gettext_noop("visit type"), "type", "visit type", "work type", "тип", "вид работ",
                "тип работ", "вид ремонта", type="choice", choices=VISIT_KINDS),
    ),
    "readings": (
        _column("vin", gettext_noop("VIN"), *VIN_ALIASES[1:], type="vin", required=True),
        _column("read_on", gettext_noop("reading date"), "read on", "reading date", "date", "дата",
                "дата замера", "дата показаний", type="date", required=True),
        _column("odometer_km", gettext_noop("odometer"), *ODOMETER_ALIASES[1:], type="number", required=True,
                minimum=0, maximum=MAX_ODOMETER_KM),
        _column("source", gettext_noop("source"), "источник", type="choice", choices=READING_SOURCES),
    ),
}
# What a row is known by in its file: a second row with the same key is merged or refused.
KEYS: dict[str, tuple[str, ...]] = {
    "customers": ("external_id",),
    "vehicles": ("vin",),
    "sales": ("external_id",),
    "visits": ("external_id",),
    "readings": ("vin", "read_on", "odometer_km"),
}


def header_key(text: str) -> str:
    """A header or a word as compared: lower case, ё as е, letters and digits only ("VIN-код" → "vinкод")."""
    return re.sub(r"[\W_]+", "", text.lower().replace("ё", "е"))


def _aliases(columns: Iterable[Column]) -> dict[str, str]:
    found: dict[str, str] = {}
    for column in columns:
        for alias in column.aliases:
            key = header_key(alias)
            if found.setdefault(key, column.name) != column.name:
                raise ImproperlyDeclared(f"header {alias!r} means both {found[key]} and {column.name}")
    return found


class ImproperlyDeclared(RuntimeError):
    """Two columns of one kind claim the same header spelling (a programming error)."""


ALIASES: dict[str, dict[str, str]] = {kind: _aliases(columns) for kind, columns in KINDS.items()}
CHOICE_WORDS: dict[str, dict[str, str]] = {
    f"{kind}.{column.name}": {header_key(word): value for value, words in column.choices.items() for word in (value, *words)}
    for kind, columns in KINDS.items()
    for column in columns
    if column.choices
}


def columns_of(kind: str) -> tuple[Column, ...]:
    return KINDS[kind]


def template_headers(kind: str) -> list[str]:
    """The canonical header line of a kind (the downloadable template)."""
    return [column.name for column in KINDS[kind]]
