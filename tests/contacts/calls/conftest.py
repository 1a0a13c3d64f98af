from __future__ import annotations

from tests.contacts.calls.helpers import fresh_cache  # noqa: F401 - autouse: every test starts with the sweep unthrottled
