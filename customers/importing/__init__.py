"""DMS imports and API upserts of the facts: customers, vehicles, sales, service visits, odometer readings.

One flow for a file (``import_file``: the Imports page, ``manage.py import_data``) and for API rows
(``import_rows``: customers.api), so both refuse the same things with the same words:

1. read the file (``read_table``): XLSX through openpyxl; CSV in UTF-8 (with or without BOM), else
   Windows-1251, with ``;``, ``,`` or tab between cells. Every row keeps its line number in the file;
2. match the headers to columns through aliases, Russian and English (``map_columns``); a missing
   required column refuses the whole file, naming the columns found and expected;
3. parse every row into clean values, pure, no database (``parse_row``), or refuse it with each problem
   in plain words. A row whose key repeats an earlier row's is merged into it when identical and
   refused when different;
4. load what already exists for the whole file, in a few chunked queries (keys and compared fields);
5. decide each row: create, update (only the cells that differ; an empty cell never erases a stored
   value), unchanged, or refused (a customer or vehicle that is not in the database);
6. unless it is a dry run, write the decisions in batches of ``BATCH_ROWS``, one transaction each, with
   bulk_create / bulk_update, and queue the re-plan of the touched vehicles on each batch's commit.

Decisions are made before anything is written, so a refused row never writes anything, and importing
the same file twice changes nothing the second time. The user's guide is docs/import.md.
"""

from __future__ import annotations

from customers.importing.base import (
    BATCH_ROWS,
    EARLIEST_DATE,
    EARLIEST_MODEL_YEAR,
    HEADER_SEARCH_ROWS,
    LOAD_CHUNK,
    MAX_ODOMETER_KM,
    REPLAN_IDS_PER_TASK,
    WINDOW_ROWS,
    CellError,
    ImportFileError,
    logger,
)
from customers.importing.columns import (
    ALIASES,
    CHOICE_WORDS,
    KEYS,
    KINDS,
    LANGUAGES,
    ODOMETER_ALIASES,
    READING_SOURCES,
    REFUSAL_COLUMNS,
    REFUSAL_WORDS,
    SALE_KINDS,
    VIN_ALIASES,
    VISIT_KINDS,
    Column,
    ImproperlyDeclared,
    ValueType,
    columns_of,
    header_key,
    template_headers,
)
from customers.importing.deciding import (
    ADDRESS_FIELDS,
    CUSTOMER_FIELDS,
    DECIDE,
    SALE_FIELDS,
    VEHICLE_FIELDS,
    VISIT_FIELDS,
    Change,
    Context,
    holdout_share_percent,
    in_holdout,
)
from customers.importing.flows import Progress, import_file, import_rows, refused_rows_table, run_import_batch
from customers.importing.parsing import (
    CELL_TYPES,
    DATE_DOTTED,
    DATE_ISO,
    ParsedRow,
    parse_cell,
    parse_date,
    parse_row,
    parse_whole_number,
)
from customers.importing.reading import ColumnMap, SourceRow, Table, map_columns, read_table
from customers.importing.report import ImportReport, Refusal

__all__ = [
    "ADDRESS_FIELDS",
    "ALIASES",
    "BATCH_ROWS",
    "CELL_TYPES",
    "CHOICE_WORDS",
    "CUSTOMER_FIELDS",
    "CellError",
    "Change",
    "Column",
    "ColumnMap",
    "Context",
    "DATE_DOTTED",
    "DATE_ISO",
    "DECIDE",
    "EARLIEST_DATE",
    "EARLIEST_MODEL_YEAR",
    "HEADER_SEARCH_ROWS",
    "ImportFileError",
    "ImportReport",
    "ImproperlyDeclared",
    "KEYS",
    "KINDS",
    "LANGUAGES",
    "LOAD_CHUNK",
    "MAX_ODOMETER_KM",
    "ODOMETER_ALIASES",
    "ParsedRow",
    "Progress",
    "READING_SOURCES",
    "REFUSAL_COLUMNS",
    "REFUSAL_WORDS",
    "REPLAN_IDS_PER_TASK",
    "Refusal",
    "SALE_FIELDS",
    "SALE_KINDS",
    "SourceRow",
    "Table",
    "VEHICLE_FIELDS",
    "VIN_ALIASES",
    "VISIT_FIELDS",
    "VISIT_KINDS",
    "ValueType",
    "WINDOW_ROWS",
    "columns_of",
    "header_key",
    "holdout_share_percent",
    "import_file",
    "import_rows",
    "in_holdout",
    "logger",
    "map_columns",
    "parse_cell",
    "parse_date",
    "parse_row",
    "parse_whole_number",
    "read_table",
    "refused_rows_table",
    "run_import_batch",
    "template_headers",
]
