"""Limits and errors shared by every step of an import."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TypeVar

logger = logging.getLogger(__name__)

# Rows per write transaction: big enough that bulk statements dominate, small enough that a batch
# holds its locks for well under a second and a failure redoes little (a rerun is idempotent anyway).
BATCH_ROWS = 2000
# Rows parsed, decided and written together: the memory an import holds besides the file itself.
WINDOW_ROWS = 20_000
# Keys per ``__in`` query when loading what exists: SQLite accepts 32,766 parameters, and 5,000 keeps
# each PostgreSQL statement short.
LOAD_CHUNK = 5000
# Vehicle ids per re-plan task: the same chunk contacts.planning.sweep.REPLAN_CHUNK uses (a worker re-plans
# ~2,000 vehicles in a few seconds with flat memory); the brief's ceiling is 5,000.
REPLAN_IDS_PER_TASK = 2000
# Rows with a header among the first few non-empty lines are found (1C puts a title above the table).
HEADER_SEARCH_ROWS = 10
MAX_ODOMETER_KM = 2_000_000
EARLIEST_DATE = dt.date(1900, 1, 1)
EARLIEST_MODEL_YEAR = 1950  # Vehicle's check constraint vehicle_year_range

T = TypeVar("T")


class ImportFileError(ValueError):
    """The whole file is refused (unreadable, empty, a required column missing), in plain words."""


class CellError(ValueError):
    """One cell's problem, in words that name the column and the value."""
