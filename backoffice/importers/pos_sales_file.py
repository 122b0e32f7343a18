"""POS end-of-day sales exports (CSV or .xlsx) → canonical sale lines.

Each POS vendor names and formats the columns its own way. A ``PosLayout`` is data: which
header holds each canonical field (the date and the time in one column or two), which date
formats and number format the export writes, and its time zone. Files are comma-, tab-,
semicolon- or pipe-separated text, or .xlsx. Layouts are found by the file's headers
(case-, spacing- and order-insensitive); a file no layout fits raises UnknownLayoutError
with the headers, so the UI can ask the user to map the columns once (pos_layout_guess
suggests the mapping) and store it under ``header_signature(headers)``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from backoffice.domain.numbers import NumberFormat
from backoffice.domain.tags import validate_tag
from backoffice.domain.units import Unit, parse_unit
from backoffice.errors import ImportFileError, ValidationError
from backoffice.importers.csv_common import (
    Problems,
    SourceFile,
    Table,
    cell_text,
    extra_cells_problem,
    join_date_time,
    locate_columns,
    missing_columns_error,
    normalize_header,
    number_format_of,
    parse_money,
    parse_quantity,
    parse_timestamp,
    read_csv_table,
    read_source,
    zone,
)
from backoffice.importers.manifest_file import is_manifest_header
from backoffice.importers.metrc_sales_file import is_metrc_sales_header
from backoffice.importers.xlsx_table import read_xlsx_table

_T = TypeVar("_T")

CANONICAL_FIELDS = (
    "receipt_number",
    "sold_at",
    "sold_time",
    "tag",
    "sku",
    "product_name",
    "brand",
    "category",
    "quantity",
    "unit",
    "amount",
    "budtender",
)
REQUIRED_FIELDS = ("receipt_number", "sold_at", "tag", "quantity", "amount")
# Tried after ISO 8601, which is always accepted; %p matches AM/PM in any case.
US_DATE_FORMATS = (
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%y %I:%M %p",
    "%m/%d/%y %H:%M",
    "%m/%d/%Y %I:%M %p %z",
    "%m/%d/%Y %H:%M:%S %z",
)
DAY_FIRST_DATE_FORMATS = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %I:%M %p",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
)
# how a layout's dates are written: name → the formats tried after ISO 8601
DATE_STYLES: dict[str, tuple[str, ...]] = {"us": US_DATE_FORMATS, "iso": (), "day-first": DAY_FIRST_DATE_FORMATS}
DATE_STYLE_LABELS = {
    "us": "US: 11/20/2026 9:43 AM (ISO 8601 too)",
    "iso": "ISO 8601 only: 2026-11-20 09:43",
    "day-first": "Day first: 20/11/2026 09:43",
}


def header_signature(headers: Sequence[str]) -> str:
    """A key for a file's set of headers, whatever their order, case or spacing."""
    names = sorted({normalize_header(h) for h in headers} - {""})
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


@dataclass(frozen=True)
class PosLayout:
    name: str
    signature: str  # header_signature of the export this layout was made for
    columns: Mapping[str, str]  # canonical field → the export's header for it
    date_formats: tuple[str, ...] = US_DATE_FORMATS
    timezone: str | None = None  # zone of naive times when the export is not in the store's zone
    number_format: NumberFormat | None = None  # None: found from each file's values

    def __post_init__(self) -> None:
        unknown = sorted(set(self.columns) - set(CANONICAL_FIELDS))
        if unknown:
            raise ValidationError(f"layout {self.name!r} maps unknown field(s): {', '.join(unknown)}")
        missing = [f for f in REQUIRED_FIELDS if not self.columns.get(f)]
        if missing:
            raise ValidationError(
                f"layout {self.name!r} must say which column holds: {', '.join(f.replace('_', ' ') for f in missing)}"
            )
        if self.timezone:
            zone(self.timezone)

    def to_json(self) -> str:
        """The mapping as stored with a user's saved layout (name and signature stored beside it)."""
        return json.dumps(
            {
                "columns": dict(self.columns),
                "date_formats": list(self.date_formats),
                "timezone": self.timezone,
                "number_format": self.number_format.value if self.number_format else None,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, name: str, signature: str, text: str) -> PosLayout:
        data = json.loads(text)
        number_format = data.get("number_format")
        return cls(
            name,
            signature,
            dict(data["columns"]),
            tuple(data["date_formats"]),
            data.get("timezone"),
            NumberFormat(number_format) if number_format else None,
        )


def _builtin(name: str, columns: dict[str, str], date_formats: tuple[str, ...]) -> PosLayout:
    return PosLayout(name, header_signature(list(columns.values())), columns, date_formats)


# The two exports in tests/samples; both map every column of the file.
LAYOUT_A = _builtin(
    "export-a",
    {
        "receipt_number": "Transaction ID",
        "sold_at": "Transaction Date",
        "tag": "Package ID",
        "sku": "SKU",
        "product_name": "Product Name",
        "brand": "Brand",
        "category": "Category",
        "quantity": "Quantity",
        "unit": "Unit",
        "amount": "Net Sales",
        "budtender": "Budtender",
    },
    US_DATE_FORMATS,
)
LAYOUT_B = _builtin(
    "export-b",
    {
        "receipt_number": "order_id",
        "sold_at": "completed_at",
        "tag": "metrc_tag",
        "product_name": "product",
        "category": "product_category",
        "quantity": "qty_sold",
        "unit": "unit_of_measure",
        "amount": "line_total",
    },
    (),
)
BUILTIN_LAYOUTS = (LAYOUT_A, LAYOUT_B)


class UnknownLayoutError(ImportFileError):
    """No layout fits the file; ``headers`` and ``signature`` feed the column-mapping dialog."""

    def __init__(self, file: str, headers: list[str]) -> None:
        self.headers = headers
        self.signature = header_signature(headers)
        super().__init__(
            f"{file} is a sales export in a layout this store has not seen. Columns found: "
            f"{', '.join(headers)}. Map the columns once (receipt number, date and time, package tag, "
            "quantity, amount) and files with these headers will be read the same way."
        )


@dataclass(frozen=True, slots=True)  # 200,000 of them in a big file
class PosSaleLine:
    line: int  # line in the CSV, row in the worksheet
    receipt_number: str
    sold_at: datetime  # tz-aware
    tag: str | None  # None for items METRC does not track (accessories)
    sku: str | None
    product_name: str
    brand: str | None
    category: str | None
    quantity: Decimal  # negative for a return
    unit: Unit | None  # None when the export has no unit column
    amount: Decimal  # negative for a return
    budtender: str | None


@dataclass(frozen=True)
class ParsedPosFile:
    layout_name: str
    file_sha256: str
    lines: tuple[PosSaleLine, ...]
    headers: Mapping[str, str]  # canonical field → the file's own header for it

    def header(self, name: str) -> str:
        """The file's header for a field, so a problem found after parsing names the column
        as the person sees it in the file."""
        return self.headers.get(name, name.replace("_", " "))


def detect_layout(headers: Sequence[str], layouts: Sequence[PosLayout] = ()) -> PosLayout | None:
    """The caller's saved layouts first, then the built-in ones: an exact header signature
    wins; otherwise the layout that maps the most columns, among those whose columns are all present."""
    candidates = [*layouts, *BUILTIN_LAYOUTS]
    signature = header_signature(headers)
    for layout in candidates:
        if layout.signature == signature:
            return layout
    present = {normalize_header(h) for h in headers}
    fitting = [c for c in candidates if {normalize_header(h) for h in c.columns.values()} <= present]
    return max(fitting, key=lambda c: len(c.columns), default=None)


def read_headers(path: Path | str) -> list[str]:
    """The header row of an export, for the column-mapping dialog."""
    table = read_table(path)[1]
    return table.headers if table else []


def read_table(path: Path | str) -> tuple[SourceFile, Table | None]:
    """The export's cells, whatever its kind (CSV of any delimiter, or .xlsx)."""
    src = read_source(path)
    return src, _table(src)


def parse_table(
    file: str, sha256: str, table: Table, layout: PosLayout, *, store_tz: str, strict_tags: bool = False
) -> ParsedPosFile:
    """``table``'s rows through ``layout`` (the mapping dialog's preview reads a few rows so)."""
    columns = locate_columns(table.headers, {f: (h,) for f, h in layout.columns.items()})
    missing = [h for f, h in layout.columns.items() if f not in columns]
    if missing:
        raise ImportFileError(f"{file} lacks the column(s) {', '.join(missing)}.")
    return _parse_rows(file, sha256, table, layout, columns, store_tz, strict_tags)


def parse_pos_file(
    path: Path | str,
    *,
    store_tz: str,
    layout: PosLayout | None = None,
    layouts: Sequence[PosLayout] = (),
    strict_tags: bool = False,
) -> ParsedPosFile:
    """Parse every line or raise: ImportFileError listing each bad cell, UnknownLayoutError
    when no layout fits. ``layout`` forces one; ``layouts`` are the user's saved mappings."""
    src = read_source(path)
    table = _table(src)
    if table is None:
        raise ImportFileError(f"{src.name} is empty: it has no header row and no sales lines.")
    if layout is None:
        layout = detect_layout(table.headers, layouts)
    if layout is None:
        raise _wrong_kind(src, table) or UnknownLayoutError(src.name, table.headers)
    columns = locate_columns(table.headers, {f: (h,) for f, h in layout.columns.items()})
    missing = [h for f, h in layout.columns.items() if f not in columns]
    if missing:
        raise missing_columns_error(src, table, missing, f"a sales export in layout {layout.name!r}")
    if not table.rows:
        raise ImportFileError(f"{src.name} has column headers but no sales lines.")
    return _parse_rows(src.name, src.sha256, table, layout, columns, store_tz, strict_tags)


def _parse_rows(
    file: str,
    sha256: str,
    table: Table,
    layout: PosLayout,
    columns: Mapping[str, int],
    store_tz: str,
    strict_tags: bool,
) -> ParsedPosFile:
    """Every data row of ``table`` through ``layout``; ``columns`` are the located fields."""
    numbers = number_format_of(table.rows, (columns.get("quantity"), columns.get("amount")), layout.number_format)
    reader = _LineReader(
        names={f: table.headers[position] for f, position in columns.items()},  # as the file spells them
        formats=layout.date_formats,
        tz=zone(layout.timezone or store_tz),
        strict=strict_tags,
        numbers=numbers,
        problems=Problems(file),
    )
    fields = list(columns.items())
    width = len(table.headers)
    lines: list[PosSaleLine] = []
    for line_no, row in table.rows:
        if len(row) > width and (why := extra_cells_problem(row, width)) is not None:
            reader.problems.add(line_no, "", why)
            continue
        values = {f: (row[position] if position < len(row) else None) for f, position in fields}
        if (parsed := reader.line(line_no, values)) is not None:
            lines.append(parsed)
    reader.problems.raise_if_any()
    return ParsedPosFile(layout.name, sha256, tuple(lines), reader.names)


class _LineReader:
    """Reads the rows of one file. Times and tags repeat on every line of a receipt, so each
    distinct text is checked once (a tenth of a 10,000-line import)."""

    def __init__(
        self,
        names: Mapping[str, str],
        formats: Sequence[str],
        tz: ZoneInfo,
        strict: bool,
        numbers: NumberFormat | None,
        problems: Problems,
    ) -> None:
        self.names, self.formats, self.tz, self.strict = names, formats, tz, strict
        self.numbers, self.problems = numbers, problems
        self.time_field = names["sold_at"] + (f" + {names['sold_time']}" if "sold_time" in names else "")
        self._times: dict[object, tuple[datetime | None, str]] = {}  # by the raw cell(s)
        self._validate_tag = partial(validate_tag, strict=strict)
        self._tags: dict[str, tuple[str | None, str]] = {}
        self._units: dict[str, tuple[Unit | None, str]] = {}
        self._numbers: dict[tuple[str, object], tuple[Decimal | None, str]] = {}

    def sold_at(self, n: int, values: Mapping[str, object]) -> datetime | None:
        raw = values["sold_at"]
        key = (raw, values["sold_time"]) if "sold_time" in values else raw
        known = self._times.get(key) if isinstance(raw, str) else None
        if known is None:
            if "sold_time" in values:
                raw = join_date_time(raw, values["sold_time"])
            try:
                known = (parse_timestamp(raw, self.formats, self.tz, "sale time"), "")
            except ValidationError as exc:
                known = (None, str(exc))
            if isinstance(raw, str):
                self._times[key] = known
        if known[1]:
            self.problems.add(n, self.time_field, known[1])
        return known[0]

    def tag(self, n: int, raw: str) -> str | None:
        return self._checked(n, "tag", self._tags, raw, self._validate_tag)

    def unit(self, n: int, raw: str) -> Unit | None:
        return self._checked(n, "unit", self._units, raw, parse_unit)

    def _checked(
        self, n: int, field: str, cache: dict[str, tuple[_T | None, str]], raw: str, parse: Callable[[str], _T]
    ) -> _T | None:
        """``parse`` once per distinct cell text; its problem is named on every line that has it."""
        known = cache.get(raw)
        if known is None:
            try:
                known = cache[raw] = (parse(raw), "")
            except ValidationError as exc:
                known = cache[raw] = (None, str(exc))
        if known[1]:
            self.problems.add(n, self.names[field], known[1])
        return known[0]

    def number(self, n: int, field: str, raw: object) -> Decimal | None:
        """The line's quantity or amount (the same few prices and quantities recur all day)."""
        key = (field, raw)
        known = self._numbers.get(key) if isinstance(raw, str) else None
        if known is None:
            try:
                value = (
                    parse_quantity(raw, "quantity", self.numbers)
                    if field == "quantity"
                    else parse_money(raw, "amount", self.numbers)
                )
                known = (_non_zero(value) if field == "quantity" else value, "")
            except ValidationError as exc:
                known = (None, str(exc))
            if isinstance(raw, str):
                self._numbers[key] = known
        if known[1]:
            self.problems.add(n, self.names[field], known[1])
        return known[0]

    def line(self, n: int, values: Mapping[str, object]) -> PosSaleLine | None:
        """One row keyed by canonical field; problems name the file's own headers."""
        problems, names = self.problems, self.names

        def text(f: str) -> str | None:
            value = values.get(f)
            if value.__class__ is str:  # a CSV cell (the common case, first)
                return value.strip() or None  # type: ignore[union-attr]
            return None if value is None else cell_text(value) or None

        receipt = text("receipt_number")
        if receipt is None:
            problems.add(n, names["receipt_number"], "missing receipt number")
        sold_at = self.sold_at(n, values)
        tag = None
        if (raw_tag := text("tag")) is not None:
            tag = self.tag(n, raw_tag)
        quantity = self.number(n, "quantity", values["quantity"])
        amount = self.number(n, "amount", values["amount"])
        unit = None
        if (raw_unit := text("unit")) is not None:
            unit = self.unit(n, raw_unit)
        if receipt is None or sold_at is None or quantity is None or amount is None:
            return None
        if quantity < 0 or amount < 0:
            # vendors mark a return on the quantity, the amount, or both: a return is negative in both
            quantity, amount = -abs(quantity), -abs(amount)
        return PosSaleLine(
            line=n,
            receipt_number=receipt,
            sold_at=sold_at,
            tag=tag,
            sku=text("sku"),
            product_name=text("product_name") or "",
            brand=text("brand"),
            category=text("category"),
            quantity=quantity,
            unit=unit,
            amount=amount,
            budtender=text("budtender"),
        )


def _non_zero(quantity: Decimal) -> Decimal:
    if quantity == 0:
        raise ValidationError("quantity is zero; a sale line sells something")
    return quantity


def _table(src: SourceFile) -> Table | None:
    if src.kind == "json":
        raise ImportFileError(
            f"{src.name} is a JSON file, not a POS sales export (CSV or Excel). "
            "METRC sales receipts are imported as METRC sales; a manifest under Receiving."
        )
    if src.kind == "xls":
        raise ImportFileError(f"{src.name} is an old-style Excel file (.xls); save it as .xlsx or CSV.")
    return read_xlsx_table(src) if src.kind == "xlsx" else read_csv_table(src)


def _wrong_kind(src: SourceFile, table: Table) -> ImportFileError | None:
    if is_manifest_header(table.headers):
        return ImportFileError(
            f"{src.name} is a METRC manifest (incoming transfer), not POS sales; import it under Receiving."
        )
    if is_metrc_sales_header(table.headers):
        return ImportFileError(f"{src.name} holds METRC sales receipts, not POS sales; import it as METRC sales.")
    return None
