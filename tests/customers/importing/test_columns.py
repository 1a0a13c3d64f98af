"""The columns of each kind of file and their aliases (customers.importing.columns)."""

from __future__ import annotations

import pytest

from customers import importing

pytestmark = pytest.mark.django_db


def test_no_header_spelling_means_two_columns_of_one_kind():
    # then: the aliases were checked when the module loaded; every kind has its key columns
    assert {kind: set(keys) <= set(importing.ALIASES[kind].values()) for kind, keys in importing.KEYS.items()} == {
        "customers": True, "vehicles": True, "sales": True, "visits": True, "readings": True}
