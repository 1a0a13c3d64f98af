"""What a customer's SMS or e-mail reply says: a refusal (of the message's purpose, or of the whole
channel), a mileage, or something for a person to read; and which of the customer's cars a reply names
by its plate or model. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

# A refusal in either language; checked before a mileage ("стоп 45000" is a refusal).
_STOP = re.compile(
    r"\b(stop|unsubscribe|стоп|отписаться|отписка|отпишите)\b"
    r"|не\s+(присылайте|присылать|пишите|писать|беспокойте|беспокоить)",
)
# 45000, 45 000, 45.000, 45,000 (a thin or no-break space too), optionally followed by тыс / k.
_NUMBER = re.compile(r"(?<![\d])(\d{1,3}(?:[\s\u00a0\u202f.,]\d{3})+|\d{1,7})(?![\d])\s*(тыс\.?|k\b|к\b)?")
# A refusal of everything on the channel: "STOP ALL", "СТОП ВСЁ", "не присылайте ничего" (checked on
# the cleaned text, where ё is е). Any other refusal is of the purpose of the message answered.
_EVERYTHING = re.compile(r"\b(all|everything|anything|nothing|все|всего|всех|ничего)\b")
_MILEAGE_WORDS = re.compile(r"\b(км|km|пробег|одометр|mileage|odometer)")
MIN_KM, MAX_KM = 1, 2_000_000


class ReplyKind(StrEnum):
    STOP = "stop"
    MILEAGE = "mileage"
    OTHER = "other"


@dataclass(frozen=True)
class Reply:
    kind: ReplyKind
    odometer_km: int | None = None
    # A refusal of every message on the channel, not only of the purpose of the message answered.
    is_whole_channel: bool = False


def read_reply(text: str) -> Reply:
    cleaned = " ".join(text.lower().replace("ё", "е").split())
    if _STOP.search(cleaned):
        return Reply(ReplyKind.STOP, is_whole_channel=bool(_EVERYTHING.search(cleaned)))
    numbers = list(_NUMBER.finditer(cleaned))
    # One number, and either a mileage word or nothing else in the message ("45 000").
    if len(numbers) == 1:
        match = numbers[0]
        rest = (cleaned[: match.start()] + cleaned[match.end():]).strip(" .,!:;-–—")
        km = int(re.sub(r"\D", "", match.group(1)))
        if match.group(2):
            km *= 1000
        if (not rest or _MILEAGE_WORDS.search(cleaned)) and MIN_KM <= km <= MAX_KM:
            return Reply(ReplyKind.MILEAGE, odometer_km=km)
    return Reply(ReplyKind.OTHER)


@dataclass(frozen=True)
class Car:
    """One of the customer's cars, as a reply may name it."""

    id: int
    plate: str
    make: str
    model: str


# Russian plates use the Cyrillic letters that look like Latin ones; customers type either.
_CYRILLIC_OF_LATIN = dict(zip("ABEKMHOPCTYX", "АВЕКМНОРСТУХ", strict=True))
_LATIN_OF_CYRILLIC = {cyrillic: latin for latin, cyrillic in _CYRILLIC_OF_LATIN.items()}
_WORD_CHAR = "0-9A-ZА-ЯЁ"


def _plate_pattern(plate: str) -> re.Pattern[str] | None:
    """The plate with or without its region (the digits after its last letter), spaces or dashes allowed
    between its characters, either alphabet's look-alike letters; None for a plate too short to tell."""
    compact = "".join(ch for ch in plate.upper() if ch.isalnum())
    base = compact.rstrip("0123456789") if re.search(r"[A-ZА-Я]\d+$", compact) else compact
    if len(base) < 4 or not re.search(r"\d", base) or not re.search(r"[A-ZА-Я]", base):
        return None

    def spelled(chars: str) -> str:
        one = []
        for ch in chars:
            latin = _LATIN_OF_CYRILLIC.get(ch, ch)
            cyrillic = _CYRILLIC_OF_LATIN.get(latin, ch)
            one.append(f"[{latin}{cyrillic}]" if latin != cyrillic else re.escape(ch))
        return r"[\s-]?".join(one)

    region = compact[len(base):]
    tail = f"(?:[\\s-]?{spelled(region)})?" if region else ""
    return re.compile(f"(?<![{_WORD_CHAR}]){spelled(base)}{tail}(?![{_WORD_CHAR}])", re.IGNORECASE)


def _word_pattern(word: str) -> re.Pattern[str] | None:
    word = " ".join(word.upper().replace("Ё", "Е").split())
    return re.compile(f"(?<![{_WORD_CHAR}]){re.escape(word)}(?![{_WORD_CHAR}])", re.IGNORECASE) if word else None


def named_car(text: str, cars: Sequence[Car]) -> tuple[int | None, str]:
    """The one car of ``cars`` the text names, by its plate (with or without the region), else by a model
    or make only that car has, and the text without the name ("Rio 45 000" → (Rio's id, " 45 000"));
    (None, text) when it names none of them, or several."""
    plain = text.replace("ё", "е").replace("Ё", "Е")  # the same length: the match's span is the text's
    for name_of in (lambda c: _plate_pattern(c.plate), lambda c: _word_pattern(c.model), lambda c: _word_pattern(c.make)):
        hits: dict[int, re.Match[str]] = {}
        for car in cars:
            pattern = name_of(car)
            match = pattern.search(plain) if pattern is not None else None
            if match is not None:
                hits[car.id] = match
        if len(hits) == 1:
            ((car_id, match),) = hits.items()
            return car_id, text[: match.start()] + text[match.end():]
        if len(hits) > 1:
            return None, text
    return None, text
