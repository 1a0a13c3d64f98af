"""Files and helpers shared by the import tests."""

from __future__ import annotations

import datetime as dt

from customers.importing import import_file

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)


CUSTOMERS = (
    "Код клиента;Фамилия;Имя;Отчество;Телефон;Дата рождения;E-mail\n"
    "C-1;Иванов;Пётр;Сергеевич;8 (916) 123-45-67;20.06.1985;petr@example.ru\n"
    "C-2;Смирнова;Анна;;+7 926 000 11 22;;\n"
)


VIN_1, VIN_2, VIN_3 = "XTA21099043567891", "XTA21099043567892", "XTA21099043567893"


VEHICLES = (
    "VIN-код;Марка;Модель;Год выпуска;Госномер;Код клиента\n"
    f"{VIN_1};Kia;Rio;2024;А123ВС 77;C-1\n"
    f"{VIN_2};Kia;Ceed;2023;;C-2\n"
)


def run(kind, text, dealership, *, dry_run=False, encoding="utf-8"):
    return import_file(kind=kind, content=text.encode(encoding), dealership=dealership, dry_run=dry_run, now=NOW)


def reasons(report):
    return [(refusal.ref, refusal.reason) for refusal in sorted(report.refused, key=lambda r: r.ref)]


def counts(report):
    return (report.created, report.updated, report.unchanged, len(report.refused))


CP1251_FILES = {
    "customers": ("Код клиента;Фамилия;Имя;Телефон\nK-1;Ёлкин;Семён;8 916 000-00-01\n", "Фамилия"),
    "vehicles": (f"VIN;Марка;Модель;Год выпуска;Владелец\n{VIN_3};Лада;Веста;2023;C-1\n", "VIN"),
    "sales": (f"Номер договора;VIN;Покупатель;Дата продажи;Вид продажи\nS-9;{VIN_1};C-1;01.02.2025;Трейд-ин\n", "Номер договора"),
    "visits": (f"Заказ-наряд;VIN;Дата;Пробег;Вид работ\nV-9;{VIN_1};01.03.2025;5 000;Шиномонтаж\n", "Дата"),
    "readings": (f"VIN;Дата замера;Пробег\n{VIN_1};01.04.2025;6 100\n", "Пробег"),
}
