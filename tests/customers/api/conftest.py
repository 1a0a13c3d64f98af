"""The fixtures of the REST API tests, from tests.customers.api.helpers (tests/contacts/test_api.py imports
the same ones)."""

from tests.customers.api.helpers import api as api  # the fixture
from tests.customers.api.helpers import dms as dms  # the fixture
from tests.customers.api.helpers import ivanov as ivanov  # the fixture
