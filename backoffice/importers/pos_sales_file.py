"""POS end-of-day sales exports (CSV or .xlsx) → canonical sale lines.

Each POS vendor names and formats the columns its own way. A ``PosLayout`` is data: which
header holds each canonical field, which date formats the export writes, and its time
zone. Layouts are found by the file's headers (case-, spacing- and order-insensitive); a
file no layout fits raises UnknownLayoutError with the headers, so the UI can ask the user
to map the columns once and store that mapping under ``header_signature(headers)``.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from backoffice.domain.tags import validate_tag
from backoffice.domain.units import Unit, parse_unit
from backoffice.errors import ImportFileError, ValidationError
from backoffice.importers.csv_common import (
    Problems,
    SourceFile,
    Table,
    cell,
    cell_text,
    extra_cells_problem,
    locate_columns,
    missing_columns_error,
    normalize_header,
    parse_money,
    parse_quantity,
    parse_timestamp,
    read_csv_table,
    read_source,
    zone,
)
from backoffice.importers.manifest_file import is_manifest_header
from backoffice.importers.metrc_sales_file import is_metrc_sales_header

CANONICAL_FIELDS = (
    "receipt_number", "sold_at", "tag", "sku", "product_name", "brand", "category",
    "quantity", "unit", "amount", "budtender",
)
REQUIRED_FIELDS = ("receipt_number", "sold_at", "tag", "quantity", "amount")
# Tried after ISO 8601, which is always accepted; %p matches AM/PM in any case.
US_DATE_FORMATS = (
    "%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S",
    "%m/%d/%y %I:%M %p", "%m/%d/%y %H:%M", "%m/%d/%Y %I:%M %p %z", "%m/%d/%Y %H:%M:%S %z",
)


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
        return json.dumps({"columns": dict(self.columns), "date_formats": list(self.date_formats),
                           "timezone": self.timezone}, sort_keys=True)

    @classmethod
    def from_json(cls, name: str, signature: str, text: str) -> PosLayout:
        data = json.loads(text)
        return cls(name, signature, dict(data["columns"]), tuple(data["date_formats"]), data.get("timezone"))


def _builtin(name: str, columns: dict[str, str], date_formats: tuple[str, ...]) -> PosLayout:
    return PosLayout(name, header_signature(list(columns.values())), columns, date_formats)


# The two exports in tests/samples; both map every column of the file.
LAYOUT_A = _builtin("export-a", {
    "receipt_number": "Transaction ID", "sold_at": "Transaction Date", "tag": "Package ID", "sku": "SKU",
    "product_name": "Product Name", "brand": "Brand", "category": "Category", "quantity": "Quantity",
    "unit": "Unit", "amount": "Net Sales", "budtender": "Budtender",
}, US_DATE_FORMATS)
LAYOUT_B = _builtin("export-b", {
    "receipt_number": "order_id", "sold_at": "completed_at", "tag": "metrc_tag", "product_name": "product",
    "category": "product_category", "quantity": "qty_sold", "unit": "unit_of_measure", "amount": "line_total",
}, ())
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


@dataclass(frozen=True)
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
    src = read_source(path)
    table = _table(src)
    return table.headers if table else []


def parse_pos_file(
    path: Path | str, *, store_tz: str, layout: PosLayout | None = None,
    layouts: Sequence[PosLayout] = (), strict_tags: bool = False,
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
    tz = zone(layout.timezone or store_tz)
    names = {f: table.headers[position] for f, position in columns.items()}  # as the file spells them
    problems = Problems(src.name)
    lines: list[PosSaleLine] = []
    for line_no, row in table.rows:
        if (why := extra_cells_problem(row, len(table.headers))) is not None:
            problems.add(line_no, "", why)
            continue
        values = {f: cell(row, position) for f, position in columns.items()}
        if (parsed := _line(line_no, values, names, layout.date_formats, tz, strict_tags, problems)) is not None:
            lines.append(parsed)
    problems.raise_if_any()
    return ParsedPosFile(layout.name, src.sha256, tuple(lines))


def _line(
    n: int, values: Mapping[str, object], names: Mapping[str, str], formats: Sequence[str], tz: ZoneInfo,
    strict: bool, problems: Problems,
) -> PosSaleLine | None:
    """One row keyed by canonical field; ``names`` are the file's headers, for the problems."""
    def text(f: str) -> str | None:
        return cell_text(values.get(f)) or None

    receipt = text("receipt_number")
    if receipt is None:
        problems.add(n, names["receipt_number"], "missing receipt number")
    sold_at = problems.check(n, names["sold_at"], parse_timestamp, values["sold_at"], formats, tz, "sale time")
    tag = None
    if (raw_tag := text("tag")) is not None:
        tag = problems.check(n, names["tag"], validate_tag, raw_tag, strict=strict)
    quantity = problems.check(n, names["quantity"], lambda: _non_zero(parse_quantity(values["quantity"], "quantity")))
    amount = problems.check(n, names["amount"], parse_money, values["amount"], "amount")
    unit = None
    if (raw_unit := text("unit")) is not None:
        unit = problems.check(n, names["unit"], parse_unit, raw_unit)
    if receipt is None or sold_at is None or quantity is None or amount is None:
        return None
    if quantity < 0 or amount < 0:
        # vendors mark a return on the quantity, the amount, or both: a return is negative in both
        quantity, amount = -abs(quantity), -abs(amount)
    return PosSaleLine(
        line=n, receipt_number=receipt, sold_at=sold_at, tag=tag, sku=text("sku"),
        product_name=text("product_name") or "", brand=text("brand"), category=text("category"),
        quantity=quantity, unit=unit, amount=amount, budtender=text("budtender"),
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
    return _read_xlsx(src) if src.kind == "xlsx" else read_csv_table(src)


def _read_xlsx(src: SourceFile) -> Table | None:
    from openpyxl import load_workbook  # ~0.3 s to import: only when a workbook is opened

    try:
        book = load_workbook(io.BytesIO(src.data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFileError(f"{src.name} is not a readable Excel workbook ({exc}).") from None
    try:
        sheet = book.worksheets[0]  # end-of-day exports put the sales on the first sheet
        headers: list[str] | None = None
        header_line = 0
        rows: list[tuple[int, Sequence[object]]] = []
        # read-only rows start at row 1 (empty rows included), so the count is the sheet's row number
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if not any(cell_text(v) for v in values):
                continue
            if headers is None:
                headers, header_line = [cell_text(v) for v in values], number
            else:
                rows.append((number, values))
    finally:
        book.close()
    return None if headers is None else Table(headers, header_line, rows)


def _wrong_kind(src: SourceFile, table: Table) -> ImportFileError | None:
    if is_manifest_header(table.headers):
        return ImportFileError(
            f"{src.name} is a METRC manifest (incoming transfer), not POS sales; import it under Receiving."
        )
    if is_metrc_sales_header(table.headers):
        return ImportFileError(f"{src.name} holds METRC sales receipts, not POS sales; import it as METRC sales.")
    return None
