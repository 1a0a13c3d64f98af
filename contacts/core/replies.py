"""What a customer's SMS reply says: a refusal, a mileage, or something for a person to read. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

# A refusal in either language; checked before a mileage ("стоп 45000" is a refusal).
_STOP = re.compile(
    r"\b(stop|unsubscribe|стоп|отписаться|отписка|отпишите)\b"
    r"|не\s+(присылайте|присылать|пишите|писать|беспокойте|беспокоить)",
)
# 45000, 45 000, 45.000, 45,000 (a thin or no-break space too), optionally followed by тыс / k.
_NUMBER = re.compile(r"(?<![\d])(\d{1,3}(?:[\s\u00a0\u202f.,]\d{3})+|\d{1,7})(?![\d])\s*(тыс\.?|k\b|к\b)?")
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


def read_reply(text: str) -> Reply:
    cleaned = " ".join(text.lower().replace("ё", "е").split())
    if _STOP.search(cleaned):
        return Reply(ReplyKind.STOP)
    numbers = list(_NUMBER.finditer(cleaned))
    # One number, and either a mileage word or nothing else in the message ("45 000").
    if len(numbers) == 1:
        match = numbers[0]
        rest = (cleaned[: match.start()] + cleaned[match.end():]).strip(" .,!")
        km = int(re.sub(r"\D", "", match.group(1)))
        if match.group(2):
            km *= 1000
        if (not rest or _MILEAGE_WORDS.search(cleaned)) and MIN_KM <= km <= MAX_KM:
            return Reply(ReplyKind.MILEAGE, odometer_km=km)
    return Reply(ReplyKind.OTHER)
