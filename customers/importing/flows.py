"""The import of a file, of API rows and of a stored batch (the Imports page), end to end."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from django.db import DatabaseError
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import trail
from customers import bulk
from customers.importing.base import BATCH_ROWS, WINDOW_ROWS, ImportFileError, logger
from customers.importing.columns import KEYS, KINDS, template_headers
from customers.importing.deciding import DECIDE, Change, Context, chunks
from customers.importing.parsing import ParsedRow, cell_text, parse_row, raw_text
from customers.importing.reading import map_columns, read_table
from customers.importing.report import ImportReport, Refusal
from customers.importing.writing import id_of_record, rows_by_table_of, write_batch
from customers.models import (
    Dealership,
    ImportBatch,
)

# -------------------------------------------------------------------------------------------- flows


Progress = Callable[[int, int], None]  # (rows processed, rows in all)


def import_file(
    *,
    kind: str,
    content: bytes,
    dealership: Dealership,
    dry_run: bool,
    vehicle_dealership_ids: frozenset[int] | None = None,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Read, check and (unless ``dry_run``) apply a file of ``kind`` for ``dealership``.

    Raises ImportFileError when the whole file is refused. Rows refer to vehicles of
    ``vehicle_dealership_ids`` (None: of any dealership) by VIN.
    """
    if kind not in KINDS:
        raise ImportFileError(_("Unknown kind %(kind)s: use one of %(kinds)s.") % {"kind": kind, "kinds": ", ".join(KINDS)})
    table = read_table(content=content, kind=kind)
    mapping = map_columns(kind=kind, headers=table.headers)
    rows: list[tuple[int, dict[str, Any]]] = []
    for source in table.rows:
        raw = {name: source.cells[i] if i < len(source.cells) else None for name, i in mapping.positions.items()}
        if any(cell_text(value) for value in raw.values()):  # a row with only unknown columns filled is a note
            rows.append((source.line, raw))
    report = ImportReport(kind=kind, dry_run=dry_run, total=len(rows), ignored_columns=mapping.ignored)
    ctx = _context(dealership, now, vehicle_dealership_ids, "file")
    _run(kind, rows, ctx, report, progress)
    return report


def import_rows(
    *,
    kind: str,
    rows: Sequence[Mapping[str, Any]],
    dealership: Dealership,
    dry_run: bool = False,
    vehicle_dealership_ids: frozenset[int] | None = None,
    now: dt.datetime | None = None,
) -> ImportReport:
    """API rows (JSON objects keyed by the canonical column names), checked and applied like a file's;
    a refusal's ref is the row's index in ``rows``."""
    known = {column.name for column in KINDS[kind]}
    report = ImportReport(kind=kind, dry_run=dry_run, total=len(rows))
    accepted: list[tuple[int, dict[str, Any]]] = []
    for index, raw in enumerate(rows):
        unknown = sorted(str(name) for name in raw if name not in known)
        if unknown:
            message = _("unknown field; the fields are: %(fields)s") % {"fields": ", ".join(template_headers(kind))}
            report.refused.append(Refusal(ref=index, errors={name: [message] for name in unknown}, raw=raw_text(raw)))
            continue
        accepted.append((index, dict(raw)))
    _run(kind, accepted, _context(dealership, now, vehicle_dealership_ids, "api"), report, None)
    return report


def _context(dealership: Dealership, now: dt.datetime | None, vehicle_dealership_ids: frozenset[int] | None,
             source: Literal["file", "api"]) -> Context:
    moment = now or timezone.now()
    return Context(dealership=dealership, today=dealership.local_date(moment), now=moment,
                   vehicle_dealership_ids=vehicle_dealership_ids, source=source)


def _run(kind: str, rows: Sequence[tuple[int, dict[str, Any]]], ctx: Context, report: ImportReport,
         progress: Progress | None) -> None:
    """Parse, decide and write the rows; then, on PostgreSQL, ANALYZE the tables the import wrote
    thousands of rows into (bulk.ANALYZE_AFTER_ROWS), as the nightly sweep does after its last chunk:
    the re-plan the import queues, and the next sweep, must not be planned on stale statistics."""
    rows_by_table: Counter[str] = Counter()
    try:
        _write_windows(kind, rows, ctx, report, progress, rows_by_table)
    finally:
        if rows_by_table:  # also when a batch failed part-way: the batches before it were written
            analyzed = bulk.refresh_statistics_after(rows_by_table)
            if analyzed:
                logger.info("import of %s: %s analyzed", kind, ", ".join(analyzed))


def _write_windows(kind: str, rows: Sequence[tuple[int, dict[str, Any]]], ctx: Context, report: ImportReport,
                   progress: Progress | None, rows_by_table: Counter[str]) -> None:
    """Parse, decide and write the rows window by window, so memory stays flat whatever the file's size:
    what exists is still loaded in queries of LOAD_CHUNK keys, as many as for the whole file at once.
    ``rows_by_table`` receives the rows written per table."""
    first_of: dict[tuple[Any, ...], tuple[int, int]] = {}  # a key → the first row with it, its values' hash
    done = 0
    for window in chunks(rows, WINDOW_ROWS):
        parsed = _parse_and_merge(kind, window, ctx, report, first_of)
        changes = DECIDE[kind](parsed, ctx, report) if parsed else []
        for change in changes:
            setattr(report, change.outcome, getattr(report, change.outcome) + 1)
        batches = list(chunks(changes, BATCH_ROWS)) or [[]]
        for number, batch in enumerate(batches, start=1):
            written = [c for c in batch if c.outcome != "unchanged"]
            if not report.dry_run and written:
                try:
                    report.vehicle_ids |= write_batch(written, ctx)
                    rows_by_table.update(rows_by_table_of(written))
                except DatabaseError as error:
                    _stop(report, kind, ctx, batch, error, [c for b in batches[number - 1:] for c in b])
                    return
            if progress:
                progress(done + round(len(window) * number / len(batches)), report.total)
        done += len(window)
        if ctx.source == "api":
            report.record_ids.update(
                (change.row.ref, record_id) for change in changes if (record_id := id_of_record(change)) is not None
            )
    report.unchanged += len(report.merged)
    if progress and not rows:
        progress(0, 0)


def _stop(report: ImportReport, kind: str, ctx: Context, batch: Sequence[Change], error: DatabaseError,
          unwritten: Sequence[Change]) -> None:
    """A batch failed (another import wrote the same records at the same moment): stop, say which rows."""
    logger.warning("import of %s stopped at %s: %s", kind, batch[0].row.ref, error)
    report.error = _(
        "The rows from %(first)s to %(last)s %(unit)s could not be written (%(error)s); the rows "
        "before them were. Import the file again: rows already written are left as they are."
    ) % {"first": batch[0].row.ref, "last": batch[-1].row.ref, "error": str(error).splitlines()[0][:200],
         "unit": _("in the request") if ctx.source == "api" else _("of the file")}
    for change in unwritten:
        if change.outcome != "unchanged":
            setattr(report, change.outcome, getattr(report, change.outcome) - 1)
    report.unchanged += len(report.merged)


def _parse_and_merge(kind: str, rows: Sequence[tuple[int, dict[str, Any]]], ctx: Context, report: ImportReport,
                     first_of: dict[tuple[Any, ...], tuple[int, int]]) -> list[ParsedRow]:
    """Parse every row; a row repeating an earlier row's key is merged when identical, else refused."""
    parsed: list[ParsedRow] = []
    for ref, raw in rows:
        values, errors = parse_row(kind=kind, raw=raw, today=ctx.today)
        row = ParsedRow(ref=ref, values=values, cells=raw)
        if errors:
            report.refuse(row, errors)
            continue
        key = tuple(values[name] for name in KEYS[kind])
        fingerprint = hash(tuple(values.items()))
        earlier = first_of.get(key)
        if earlier is None:
            first_of[key] = (ref, fingerprint)
            parsed.append(row)
        elif earlier[1] == fingerprint:
            report.merged.append((ref, earlier[0]))
        else:
            report.refuse(row, {"row": [_repeats(ctx, ref, earlier[0])]})
    return parsed


def _repeats(ctx: Context, ref: int, earlier: int) -> str:
    if ctx.source == "api":
        return _("row %(row)s repeats the key of row %(earlier)s with different values") % {"row": ref, "earlier": earlier}
    return _("line %(line)s repeats line %(earlier)s with different values") % {"line": ref, "earlier": earlier}


# ------------------------------------------------------------------------------------ import batches


def run_import_batch(*, batch: ImportBatch) -> ImportReport | None:
    """Run (or dry-run) an uploaded file, recording progress, counts, refusals or the failure on the
    batch. Returns None when the whole file was refused. Called by customers.tasks.run_import and by
    ``manage.py import_data``."""
    from customers import access

    started = timezone.now()
    scope = None
    if batch.uploaded_by is not None:
        scope = frozenset(access.dealerships_of(batch.uploaded_by).values_list("id", flat=True)) | {batch.dealership_id}
    rows = ImportBatch.objects.filter(pk=batch.pk)

    def progress(processed: int, total: int) -> None:
        rows.update(processed_rows=processed, total_rows=total, progressed_at=timezone.now())

    try:
        with trail.acting(actor=batch.uploaded_by, source=trail.Source.IMPORT):
            report = import_file(kind=batch.kind, content=bytes(batch.file_content), dealership=batch.dealership,
                                 dry_run=batch.is_dry_run, vehicle_dealership_ids=scope, now=started, progress=progress)
    except ImportFileError as error:
        rows.update(status=ImportBatch.Status.FAILED, error=str(error), finished_at=timezone.now())
        return None
    rows.update(
        status=ImportBatch.Status.FAILED if report.error else (
            ImportBatch.Status.PREVIEWED if batch.is_dry_run else ImportBatch.Status.DONE),
        error=report.error, total_rows=report.total, processed_rows=report.total, created_count=report.created,
        updated_count=report.updated, unchanged_count=report.unchanged, refused_count=len(report.refused),
        look_alike_count=report.look_alike,
        refused_rows=report.refused_rows(), finished_at=timezone.now(),
    )
    if not batch.is_dry_run:
        _record_applied(batch, report)
    return report


def _record_applied(batch: ImportBatch, report: ImportReport) -> None:
    """The audit entry of an applied batch: who, which file, what it did."""
    counts = {"kind": batch.kind, "file": batch.file_name, "created": report.created, "updated": report.updated,
              "unchanged": report.unchanged, "refused": len(report.refused), "error": report.error or None}
    trail.record(object_type=trail.ObjectType.IMPORT_BATCH, object_id=batch.pk, action=trail.Action.APPLY,
                 changes={name: [None, value] for name, value in counts.items() if value is not None},
                 dealership_id=batch.dealership_id, actor=batch.uploaded_by, source=trail.Source.IMPORT)


def refused_rows_table(*, batch: ImportBatch) -> tuple[list[str], list[list[str]]]:
    """The refused rows of a batch as in the uploaded file (its header, its cells) plus "line" and
    "error" columns: fix them and import this file again."""
    reasons = {item["line"]: item["reason"] for item in batch.refused_rows}
    try:
        table = read_table(content=bytes(batch.file_content), kind=batch.kind)
    except ImportFileError:
        return ["line", "error"], [[str(line), reason] for line, reason in sorted(reasons.items())]
    width = len(table.headers)
    rows = [
        [*(cell_text(cell) for cell in row.cells[:width]), *([""] * (width - len(row.cells))), str(row.line), reasons[row.line]]
        for row in table.rows
        if row.line in reasons
    ]
    return [*table.headers, "line", "error"], rows
