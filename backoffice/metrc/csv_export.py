"""CSV files for METRC's manual upload, for stores without API access (manual mode).

Column order: METRC's per-state CSV import templates for location changes and package
adjustments were not found in the public documentation available to us, so the columns
are the REST API's fields in the API's order (the same data METRC's import pages ask
for), under one header row of those field names:

- location changes: Label, Location, MoveDate
- adjustments: Label, Quantity, UnitOfMeasure, AdjustmentReason, AdjustmentDate, ReasonNote

Pass ``header=False`` where a state's import page wants data rows only. Dates are ISO
(YYYY-MM-DD), quantities are written digit for digit from Decimals, UTF-8 without BOM,
CRLF line ends. Every element is checked before the file is opened, so a bad element
leaves no half-written file. METRC must receive text as typed, so text that spreadsheets
would run as a formula cannot be neutralised here: it is refused (and, before that, where
it is typed: notes, reasons, location names).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO, TypeVar

from backoffice.domain.text import check_metrc_text
from backoffice.errors import ImportFileError, Problem, ValidationError
from backoffice.files import write_text_atomic
from backoffice.metrc.payloads import LocationChange, PackageAdjustment, coerce

LOCATION_COLUMNS = ("Label", "Location", "MoveDate")
ADJUSTMENT_COLUMNS = ("Label", "Quantity", "UnitOfMeasure", "AdjustmentReason", "AdjustmentDate", "ReasonNote")

E = TypeVar("E", LocationChange, PackageAdjustment)


def write_location_changes(
    target: Path | TextIO, changes: Iterable[LocationChange | Mapping[str, Any]], *, header: bool = True
) -> int:
    """Write the file; returns the number of data rows."""
    rows = [coerce(LocationChange, c).to_metrc() for c in changes]
    return _write(target, LOCATION_COLUMNS, rows, header)


def write_adjustments(
    target: Path | TextIO, adjustments: Iterable[PackageAdjustment | Mapping[str, Any]], *, header: bool = True
) -> int:
    rows = [coerce(PackageAdjustment, a).to_metrc() for a in adjustments]
    return _write(target, ADJUSTMENT_COLUMNS, rows, header)


def read_location_changes(source: Path | TextIO) -> list[LocationChange]:
    """Read a file written above (with or without its header), e.g. to check it before upload."""
    return _read(source, LOCATION_COLUMNS, LocationChange.from_metrc)


def read_adjustments(source: Path | TextIO) -> list[PackageAdjustment]:
    return _read(source, ADJUSTMENT_COLUMNS, PackageAdjustment.from_metrc)


# text columns (the others are tags, numbers and dates, checked where they are made)
_TEXT_COLUMNS = ("Location", "UnitOfMeasure", "AdjustmentReason", "ReasonNote")


def _refusal(text: str, column: str) -> list[ValidationError]:
    try:
        check_metrc_text(text, column)
    except ValidationError as exc:
        return [exc]
    return []


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _write(target: Path | TextIO, columns: Sequence[str], rows: list[dict[str, Any]], header: bool) -> int:
    problems = [
        Problem("METRC upload file", number, column, str(exc))
        for number, row in enumerate(rows, start=2 if header else 1)
        for column in _TEXT_COLUMNS
        if isinstance(row.get(column), str)
        for exc in _refusal(row[column], column)
    ]
    if problems:
        raise ImportFileError(
            "The METRC upload file was not written: some text would run as a spreadsheet formula.", problems
        )
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(columns)
    writer.writerows([_cell(row[c]) for c in columns] for row in rows)
    if isinstance(target, Path):
        write_text_atomic(target, buffer.getvalue(), newline="")
    else:
        target.write(buffer.getvalue())
    return len(rows)


def _read(source: Path | TextIO, columns: Sequence[str], parse: Callable[[Mapping[str, Any]], E]) -> list[E]:
    name = source.name if isinstance(source, Path) else "CSV"
    text = source.read_text(encoding="utf-8-sig") if isinstance(source, Path) else source.read()
    records = list(csv.reader(io.StringIO(text, newline="")))
    start = 1 if records and tuple(records[0]) == tuple(columns) else 0
    result, problems = [], []
    for line, record in enumerate(records[start:], start=start + 1):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(columns):
            problems.append(Problem(name, line, "", f"expected {len(columns)} columns, found {len(record)}"))
            continue
        try:
            result.append(parse(dict(zip(columns, record, strict=True))))
        except ValidationError as exc:
            problems.append(Problem(name, line, "", str(exc)))
    if problems:
        raise ImportFileError(f"{name} is not a METRC upload file this app can read; nothing was read.", problems)
    return result
