"""What every file importer needs: reading files as stores have them, and collecting problems.

Exports arrive with a BOM, CRLF line ends, quoted commas, headers in any case and spacing,
and blank trailing rows. Parsers check every row, collect every Problem and raise one
ImportFileError at the end, so a person fixes the whole file in one go and nothing
half-imports.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from backoffice.domain.numbers import (
    NumberFormat,
    check_range,
    detect_number_format,
    parse_decimal,
    to_money,
    to_quantity,
)
from backoffice.domain.store_calendar import StoreCalendar
from backoffice.errors import ImportFileError, Problem, ValidationError

T = TypeVar("T")
P = ParamSpec("P")
_NOT_ALNUM = re.compile(r"[^0-9a-z]")
DELIMITERS = (",", "\t", ";", "|")
MAX_CELL = 32_767  # Excel's own limit for a cell's text; nothing a store exports is longer
# a line or an amount beyond these is a typo or a hostile file, not a sale, a count or a shipment
QUANTITY_LIMIT = Decimal(1_000_000)
MONEY_LIMIT = Decimal(1_000_000)
EARLIEST_YEAR = 2000  # no store's records reach further back; later than next year is a typo too


@dataclass(frozen=True)
class SourceFile:
    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def kind(self) -> str:
        """'xlsx', 'xls', 'json' or 'text', from the content: extensions get renamed."""
        if self.data.startswith(b"PK\x03\x04"):
            return "xlsx"
        if self.data.startswith(b"\xd0\xcf\x11\xe0"):
            return "xls"
        head = self.data[:64].removeprefix(b"\xef\xbb\xbf").lstrip()
        return "json" if head[:1] in (b"{", b"[") else "text"

    def text(self) -> str:
        try:
            text = self.data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                f"{self.name} is not UTF-8 text (unreadable byte at position {exc.start}); "
                "save it again as 'CSV UTF-8'."
            ) from None
        if (at := text.find("\x00")) >= 0:  # UTF-16 saved by mistake, or not text at all
            raise ImportFileError(
                f"{self.name}, line {text.count(chr(10), 0, at) + 1}: the file holds a NUL "
                "character, so it is not plain text; save it again as 'CSV UTF-8'."
            )
        return text


@dataclass(frozen=True)
class Table:
    """A sheet of cells: the header row and each data row with its line number in the file."""

    headers: list[str]
    header_line: int
    rows: list[tuple[int, Sequence[object]]]


def read_source(path: Path | str) -> SourceFile:
    path = Path(path)
    try:
        return SourceFile(path.name, path.read_bytes())
    except OSError as exc:
        raise ImportFileError(f"cannot read {path.name}: {exc.strerror or exc}") from None


def zone(name: str) -> ZoneInfo:
    return StoreCalendar.named(name).zone


def normalize_header(header: str) -> str:
    """'Shipped Qty', 'shipped_qty' and ' SHIPPED QTY ' are the same column."""
    return _NOT_ALNUM.sub("", header.casefold())


def sniff_delimiter(text: str) -> str:
    """The delimiter of a delimited text file: the one of comma, tab, semicolon and pipe that
    splits its first non-blank line (outside quotes) most often; comma when none does."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    outside = re.sub(r'"[^"]*"', "", first)
    counts = {d: outside.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties go to the earlier, more common one
    return best if counts[best] else ","


def read_csv_table(src: SourceFile) -> Table | None:
    """The file's header and data rows, or None when it holds no rows at all. The delimiter
    (comma, tab, semicolon or pipe) is found from the header line."""
    text = src.text()
    # newline="" keeps CR/LF inside quoted cells and lets csv handle CRLF line ends
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text), strict=True)
    headers: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, Sequence[object]]] = []
    start = 1  # a quoted cell can span lines: a row starts one line after the previous ended
    try:
        for cells in reader:
            joined = "".join(cells)  # one string per row: a 200,000-row export is read quickly
            if len(joined) > MAX_CELL and max(map(len, cells)) > MAX_CELL:
                raise ImportFileError(
                    f"{src.name}, line {start}: a value is longer than {MAX_CELL:,} characters "
                    "(Excel's limit for a cell); this is not an export a store's system writes."
                )
            if not joined.isspace() and joined:
                if headers is None:
                    headers, header_line = [cell.strip() for cell in cells], start
                else:
                    rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        if "field limit" in str(exc):
            raise ImportFileError(
                f"{src.name}, line {start}: a value is longer than {MAX_CELL:,} characters "
                "(Excel's limit for a cell), or a quote is unbalanced."
            ) from None
        raise ImportFileError(
            f"{src.name} is not a readable CSV file.",
            [Problem(src.name, reader.line_num, "", f"{exc}; a quote is probably unbalanced")],
        ) from None
    return None if headers is None else Table(headers, header_line, rows)


def locate_columns(headers: Sequence[str], wanted: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Map each wanted field to its column index; a field's names are the spellings accepted."""
    index: dict[str, int] = {}
    for position, header in enumerate(headers):
        index.setdefault(normalize_header(header), position)
    found: dict[str, int] = {}
    for field_name, names in wanted.items():
        for name in names:
            if (at := index.get(normalize_header(name))) is not None:
                found[field_name] = at
                break
    return found


def missing_columns_error(src: SourceFile, table: Table, missing: Iterable[str], what: str) -> ImportFileError:
    missing = list(missing)
    return ImportFileError(
        f"{src.name} is not {what}: it lacks the column(s) {', '.join(missing)}. "
        f"Columns found: {', '.join(table.headers)}.",
        [Problem(src.name, table.header_line, name, "column missing") for name in missing],
    )


def cell(row: Sequence[object], position: int | None) -> object:
    """The raw cell (None when the column is absent or the row is short)."""
    return row[position] if position is not None and position < len(row) else None


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():  # Excel stores 1001 as 1001.0
        return str(int(value))
    return str(value).strip()


def extra_cells_problem(row: Sequence[object], width: int) -> str | None:
    """More filled cells than headers usually means a value with a comma lost its quotes."""
    if any(cell_text(value) for value in row[width:]):
        return (
            f"the row has {len(row)} values but the header has {width} columns; "
            "a value containing a comma is probably missing its quotes"
        )
    return None


def plain(value: Decimal) -> str:
    """A Decimal as a person writes it: 5, not 5.0000 or 5E+0."""
    return format(value.normalize(), "f")


def number_format_of(
    rows: Iterable[tuple[int, Sequence[object]]], positions: Iterable[int | None], fmt: NumberFormat | None = None
) -> NumberFormat | None:
    """The file's number format: ``fmt`` when its layout sets one, else what the numeric
    columns at ``positions`` show (None when no value tells; the decimal point is assumed)."""
    if fmt is not None:
        return fmt
    wanted = [p for p in positions if p is not None]
    # each distinct value votes once: a day's export repeats the same few prices thousands of times
    return detect_number_format({row[p] for _, row in rows for p in wanted if p < len(row) and isinstance(row[p], str)})


def parse_quantity(value: object, what: str, fmt: NumberFormat | None = None) -> Decimal:
    return to_quantity(check_range(parse_decimal(value, what=what, fmt=fmt), QUANTITY_LIMIT, what), what=what)


def parse_money(value: object, what: str, fmt: NumberFormat | None = None) -> Decimal:
    return to_money(check_range(parse_decimal(value, what=what, fmt=fmt), MONEY_LIMIT, what))


def parse_timestamp(value: object, formats: Sequence[str], tz: ZoneInfo, what: str) -> datetime:
    """ISO 8601 (with or without seconds or offset), then ``formats``; naive times are in ``tz``.

    Times that carry an offset keep their instant and are shown in ``tz``.
    """
    if isinstance(value, datetime):  # a typed Excel cell
        parsed = value
    else:
        text = " ".join(cell_text(value).split())
        if not text:
            raise ValidationError(f"{what} is empty")
        parsed = _parse_text_time(text, formats, what)
    check_year(parsed, what)
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed.astimezone(tz)


def check_year(value: date, what: str) -> None:
    """Refuse a date far outside any store's life (9999-12-31, 1900-01-01): a typo or a placeholder."""
    latest = datetime.now(UTC).year + 1
    if not EARLIEST_YEAR <= value.year <= latest:
        raise ValidationError(
            f"{what} {value:%Y-%m-%d} is far outside this store's records "
            f"({EARLIEST_YEAR} to {latest}); correct the date"
        )


def join_date_time(day: object, clock: object) -> object:
    """A date and a time from two columns as one value ``parse_timestamp`` reads: typed Excel
    cells are combined, text is joined with a space."""
    if isinstance(day, datetime) and isinstance(clock, time):
        return datetime.combine(day.date(), clock)
    if isinstance(day, datetime) and isinstance(clock, datetime):  # a time cell typed as 1899-12-30 09:43
        return datetime.combine(day.date(), clock.time())
    day_text = day.strftime("%Y-%m-%d") if isinstance(day, date) else cell_text(day)
    clock_text = clock.strftime("%H:%M:%S") if isinstance(clock, time | datetime) else cell_text(clock)
    return f"{day_text} {clock_text}".strip()


def _parse_text_time(text: str, formats: Sequence[str], what: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        pass
    else:
        if ":" not in text:  # fromisoformat reads a bare date as midnight; a sale has a time
            raise ValidationError(f"{what} {text!r} has a date but no time of day")
        return parsed
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValidationError(f"{what} {text!r} is not a date and time this file's layout understands")


class Problems:
    """Collects the problems of one file; ``check`` turns a ValidationError into a Problem."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[Problem] = []

    def add(self, line: int, field_name: str, reason: str) -> None:
        self.items.append(Problem(self.file, line, field_name, reason))

    def check(self, line: int, field_name: str, parse: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        try:
            return parse(*args, **kwargs)
        except ValidationError as exc:
            self.add(line, field_name, str(exc))
            return None

    def raise_if_any(self, unit: str = "line") -> None:
        if self.items:
            lines = len({p.line for p in self.items})
            raise ImportFileError(
                f"{self.file}: {len(self.items)} problem(s) in {lines} {unit}(s); nothing was imported. "
                "Fix the file and import it again.",
                self.items,
            )
