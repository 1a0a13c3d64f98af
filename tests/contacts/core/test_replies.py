"""Which of a customer's cars a reply names (contacts.core.replies.named_car)."""

from __future__ import annotations

import pytest

from contacts.core.replies import Car, named_car

CARS = [Car(1, "А123ВС77", "Kia", "Rio"), Car(2, "Х777ХХ199", "Hyundai", "Creta"), Car(3, "", "Kia", "Ceed")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Rio 45000", (1, " 45000")),
        ("rio 45000", (1, " 45000")),
        ("А123ВС 45 000 км", (1, " 45 000 км")),  # the plate without its region
        ("a123bc77: 45000", (1, ": 45000")),  # in Latin look-alike letters, with the region
        ("а 123 вс 77 45000", (1, " 45000")),  # typed with spaces
        ("А123ВС 77000 км", (1, " 77000 км")),  # a mileage that starts like the region stays whole
        ("x777xx 80 000", (2, " 80 000")),
        ("Hyundai 80000", (2, " 80000")),  # the make of one car only
        ("Kia 45000", (None, "Kia 45000")),  # two cars are Kias
        ("Rio и Creta 45000", (None, "Rio и Creta 45000")),  # two cars named
        ("45000", (None, "45000")),
        ("Rioo 45000", (None, "Rioo 45000")),  # a whole word only
    ],
)
def test_named_car(text, expected):
    assert named_car(text, CARS) == expected


def test_a_plate_too_short_to_tell_names_nothing():
    assert named_car("A1 45000", [Car(1, "A1", "Kia", "Rio"), Car(2, "", "Kia", "Ceed")]) == (None, "A1 45000")
