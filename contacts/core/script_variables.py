"""The variables a call script or message may use: the one allow-list, read by the script checker
(contacts.scripts) and by the tests of the default program (contacts.core.program)."""

from __future__ import annotations

from typing import Final

# Root variable → attributes a script may read.
SCRIPT_VARIABLES: Final[dict[str, frozenset[str]]] = {
    "customer": frozenset({"first_name", "middle_name", "last_name", "full_name", "phone", "email", "birthday"}),
    "vehicle": frozenset({"make", "model", "year", "plate", "vin"}),
    "forecast": frozenset({"next_due_on", "km_per_month", "odometer_today_km", "due_odometer_km", "interval_number"}),
    "dealership": frozenset({"name", "code"}),
    "agent": frozenset({"first_name", "last_name", "username"}),
    "touchpoint": frozenset({"due_on", "window_start", "window_end"}),
}


#: The same, as "root.attribute" names.
SCRIPT_NAMES: Final[frozenset[str]] = frozenset(
    f"{root}.{attribute}" for root, attributes in SCRIPT_VARIABLES.items() for attribute in attributes
)
