"""REST API of the facts: customers, vehicles, sales, service visits and odometer readings.

Per kind, one view per operation (CONVENTIONS 12):

    GET  /api/<kind>/                          list (paginated, filtered)          <Kind>ListApi
    GET  /api/<kind>/<id>/                     one record                          <Kind>DetailApi
    POST /api/<kind>/create/                   create one; 409 if its key exists   <Kind>CreateApi
    PUT  /api/<kind>/by-external-id/<id>/      create or update by key (upsert)    <Kind>UpsertApi
         (/api/vehicles/by-vin/<vin>/; readings have no external id: their create is idempotent)
    POST /api/<kind>/bulk/                     upsert up to 1,000 rows             <Kind>BulkApi
    POST /api/customers/<id>/refusals/         the customer refused channels       CustomerRefusalApi

Every write goes through customers.importing.import_rows, the file import's own parsing and
decisions, so the API and the files accept and refuse the same things with the same words, an empty
or missing optional field never erases a stored value, and the touched vehicles are re-planned.
Reads need a role that sees customers, writes need manager or admin (customers.access.CAN_IMPORT);
everything is scoped to the user's dealerships, so another dealership's record is a 404.

Reads use DRF's ListAPIView/RetrieveAPIView with no logic of their own: with them, the filters and the
page envelope are declared once and appear in the OpenAPI schema exactly as served.
"""

from __future__ import annotations

from customers.api.access import (
    DEALERSHIP_CODE,
    MAX_BULK_ROWS,
    MAX_ID,
    CanReadFacts,
    CanWriteFacts,
    TokenScope,
    may_list_phones,
    scoped,
    target_dealership,
    vehicle_scope,
)
from customers.api.filters import (
    CustomerFilter,
    IdFilter,
    MomentFilter,
    ReadingFilter,
    SaleFilter,
    UtcIsoDateTimeField,
    VehicleFilter,
    VisitFilter,
)
from customers.api.serializers import (
    DEALERSHIP_PARAMETER,
    ERRORS,
    HOW_WRITTEN,
    ROWS,
    BulkInput,
    BulkOutput,
    CustomerOutput,
    MergedRowOutput,
    ReadingOutput,
    RefusedRowOutput,
    SaleOutput,
    VehicleOutput,
    VisitOutput,
    bulk_input_serializer,
)
from customers.api.views import (
    Conflict,
    CustomerBulkApi,
    CustomerCreateApi,
    CustomerDetailApi,
    CustomerListApi,
    CustomerRefusalApi,
    CustomerUpsertApi,
    FactBulkApi,
    FactCreateApi,
    FactDetailApi,
    FactListApi,
    FactUpsertApi,
    FactWriteApi,
    ReadingBulkApi,
    ReadingCreateApi,
    ReadingDetailApi,
    ReadingListApi,
    RefusalInput,
    RefusalOutput,
    SaleBulkApi,
    SaleCreateApi,
    SaleDetailApi,
    SaleListApi,
    SaleUpsertApi,
    VehicleBulkApi,
    VehicleCreateApi,
    VehicleDetailApi,
    VehicleListApi,
    VehicleUpsertApi,
    VisitBulkApi,
    VisitCreateApi,
    VisitDetailApi,
    VisitListApi,
    VisitUpsertApi,
    one_row,
)

__all__ = [
    "BulkInput",
    "BulkOutput",
    "CanReadFacts",
    "CanWriteFacts",
    "Conflict",
    "CustomerBulkApi",
    "CustomerCreateApi",
    "CustomerDetailApi",
    "CustomerFilter",
    "CustomerListApi",
    "CustomerOutput",
    "CustomerRefusalApi",
    "CustomerUpsertApi",
    "DEALERSHIP_CODE",
    "DEALERSHIP_PARAMETER",
    "ERRORS",
    "FactBulkApi",
    "FactCreateApi",
    "FactDetailApi",
    "FactListApi",
    "FactUpsertApi",
    "FactWriteApi",
    "HOW_WRITTEN",
    "IdFilter",
    "MAX_BULK_ROWS",
    "MAX_ID",
    "MergedRowOutput",
    "MomentFilter",
    "ROWS",
    "ReadingBulkApi",
    "ReadingCreateApi",
    "ReadingDetailApi",
    "ReadingFilter",
    "ReadingListApi",
    "ReadingOutput",
    "RefusalInput",
    "RefusalOutput",
    "RefusedRowOutput",
    "SaleBulkApi",
    "SaleCreateApi",
    "SaleDetailApi",
    "SaleFilter",
    "SaleListApi",
    "SaleOutput",
    "SaleUpsertApi",
    "TokenScope",
    "UtcIsoDateTimeField",
    "VehicleBulkApi",
    "VehicleCreateApi",
    "VehicleDetailApi",
    "VehicleFilter",
    "VehicleListApi",
    "VehicleOutput",
    "VehicleUpsertApi",
    "VisitBulkApi",
    "VisitCreateApi",
    "VisitDetailApi",
    "VisitFilter",
    "VisitListApi",
    "VisitOutput",
    "VisitUpsertApi",
    "bulk_input_serializer",
    "may_list_phones",
    "one_row",
    "scoped",
    "target_dealership",
    "vehicle_scope",
]
