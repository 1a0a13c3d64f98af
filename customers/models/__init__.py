"""The dealer's facts: dealerships, customers, vehicles, sales, service visits and odometer readings, one
module per topic; every model and public name is importable from ``customers.models``.

Single-row rules are model methods, row-set rules are QuerySet methods (CONVENTIONS 2). Invariants
live in the database as constraints, not only in forms (CONVENTIONS 13).

- ``dealerships``: dealerships and the contact channels;
- ``people``: customers, consents, refusal sources and the suppression list;
- ``vehicles``: vehicles, sales, service visits, odometer readings;
- ``forecasts``: maintenance schedules, vehicle forecasts and forecast snapshots;
- ``imports``: import batches;
- ``duplicates``: pairs of customers who may be one person.
- ``tokens``: API tokens.
"""

from customers.models.dealerships import (
    Channel,
    Dealership,
    validate_time_zone,
)
from customers.models.duplicates import DuplicateCandidate
from customers.models.forecasts import (
    ForecastSnapshot,
    MaintenanceSchedule,
    VehicleForecast,
)
from customers.models.imports import ImportBatch
from customers.models.people import (
    LATIN_TO_CYRILLIC_PLATE,
    Consent,
    Customer,
    CustomerQuerySet,
    Purpose,
    RefusalSource,
    Suppression,
    SuppressionQuerySet,
    normalize_email,
    normalize_phone,
)
from customers.models.tokens import ApiToken, hash_secret
from customers.models.vehicles import (
    VIN_PATTERN,
    OdometerReading,
    Sale,
    ServiceVisit,
    Vehicle,
    validate_vin,
)

__all__ = [
    "Channel",
    "validate_time_zone",
    "Dealership",
    "normalize_phone",
    "LATIN_TO_CYRILLIC_PLATE",
    "CustomerQuerySet",
    "Customer",
    "Consent",
    "Purpose",
    "RefusalSource",
    "SuppressionQuerySet",
    "normalize_email",
    "Suppression",
    "VIN_PATTERN",
    "validate_vin",
    "Vehicle",
    "Sale",
    "ServiceVisit",
    "OdometerReading",
    "MaintenanceSchedule",
    "VehicleForecast",
    "ForecastSnapshot",
    "ImportBatch",
    "DuplicateCandidate",
    "ApiToken",
    "hash_secret",
]
