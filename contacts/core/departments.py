"""The departments of a dealership and their default priority: the one table the seeded program
(contacts.core.program, loaded into the Department rows) and the resolver's default rules share."""

from __future__ import annotations

from typing import Final

#: Department code -> (name in English, name in Russian).
DEPARTMENTS: Final[dict[str, tuple[str, str]]] = {
    "service": ("Service", "Сервис"),
    "insurance": ("Insurance", "Страхование"),
    "sales": ("Sales", "Отдел продаж"),
    "trade_in": ("Trade-in", "Трейд-ин"),
    "call_centre": ("Call centre", "Колл-центр"),
    "manufacturer": ("Manufacturer (OEM)", "Производитель"),
    "parts": ("Parts and accessories", "Запчасти и аксессуары"),
}

#: Department code -> default priority rank (lower = more important). Service first: a late service call
#: loses the maintenance to a competitor; insurance has a hard renewal deadline; then sales and trade-in,
#: then relationship and survey contacts.
DEPARTMENT_PRIORITY: Final[dict[str, int]] = {
    "service": 1,
    "insurance": 2,
    "sales": 3,
    "trade_in": 4,
    "call_centre": 5,
    "manufacturer": 6,
    "parts": 7,
}
