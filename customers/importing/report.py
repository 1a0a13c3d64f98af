"""What an import (or its dry run) did: counts, and every refused row with its line and reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from customers.importing.parsing import ParsedRow

# ------------------------------------------------------------------------------------------ report


@dataclass(slots=True)
class Refusal:
    ref: int
    errors: dict[str, list[str]]  # column name → problems; "row" for the row as a whole
    raw: dict[str, str]

    @property
    def reason(self) -> str:
        return "; ".join(message for messages in self.errors.values() for message in messages)


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # includes rows merged into an identical earlier row of the same file
    look_alike: int = 0  # customers rows that look like an existing different customer (customers.duplicates)
    refused: list[Refusal] = field(default_factory=list)
    merged: list[tuple[int, int]] = field(default_factory=list)  # (ref, the earlier ref it repeats)
    ignored_columns: list[str] = field(default_factory=list)
    vehicle_ids: set[int] = field(default_factory=set)  # queued for re-planning
    record_ids: dict[int, int] = field(default_factory=dict)  # API rows: ref → id of its record (once written)
    error: str = ""  # why the import stopped part-way (the batches before were written)

    def refuse(self, row: ParsedRow, errors: dict[str, list[str]]) -> None:
        self.refused.append(Refusal(ref=row.ref, errors=errors, raw=row.raw))

    def refused_rows(self) -> list[dict[str, Any]]:
        """The shape stored on ImportBatch.refused_rows."""
        return [{"line": r.ref, "reason": r.reason, "row": r.raw} for r in sorted(self.refused, key=lambda r: r.ref)]
