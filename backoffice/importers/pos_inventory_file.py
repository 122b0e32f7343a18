"""POS inventory export (on-hand per package) → what the POS believes, for a count snapshot.

POS vendors name the columns their own way; columns are found by header (any case,
spacing or punctuation). A row needs the package tag and the quantity on hand; SKU, unit,
product and room are read when present. Every row is checked and every problem reported
with file, line and field; a file with problems yields nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from backoffice.domain.tags import validate_tag
from backoffice.domain.units import Unit, parse_unit
from backoffice.errors import ImportFileError
from backoffice.importers.csv_common import (
    Problems,
    cell,
    cell_text,
    extra_cells_problem,
    locate_columns,
    missing_columns_error,
    number_format_of,
    parse_quantity,
    plain,
    read_csv_table,
    read_source,
)

# accepted spellings per field, compared after normalize_header (case, spaces, punctuation)
COLUMNS: dict[str, tuple[str, ...]] = {
    "tag": (
        "Package ID",
        "Package Tag",
        "Package Label",
        "METRC Tag",
        "Metrc Package",
        "Tag",
        "Label",
        "Package",
        "metrc_tag",
        "package_id",
    ),
    "quantity": (
        "Quantity On Hand",
        "On Hand",
        "Qty On Hand",
        "Available",
        "Quantity Available",
        "Quantity",
        "Qty",
        "Inventory",
        "qty_on_hand",
    ),
    "sku": ("SKU", "Product SKU", "Item SKU", "product_sku"),
    "unit": ("Unit", "Unit of Measure", "UOM", "unit_of_measure"),
    "product": ("Product Name", "Product", "Item", "Item Name"),
    "room": ("Room", "Location", "Inventory Room"),
}
REQUIRED = ("tag", "quantity")


@dataclass(frozen=True)
class PosInventoryRecord:
    line: int
    tag: str
    quantity: Decimal
    sku: str | None
    unit: Unit | None
    product: str | None
    room: str | None


def parse(path: Path | str, *, strict_tags: bool = False) -> list[PosInventoryRecord]:
    """Every row of the export, checked; raises ImportFileError naming each bad row."""
    src = read_source(path)
    if src.kind != "text":
        raise ImportFileError(f"{src.name} is not a CSV file ({src.kind}); export the POS inventory as CSV.")
    table = read_csv_table(src)
    if table is None:
        raise ImportFileError(f"{src.name} is empty: expected a header row and one row per package.")
    found = locate_columns(table.headers, COLUMNS)
    missing = [COLUMNS[f][0] for f in REQUIRED if f not in found]
    if missing:
        raise missing_columns_error(src, table, missing, "a POS inventory export")
    problems = Problems(src.name)
    fmt = number_format_of(table.rows, (found["quantity"],))  # 1,5 on hand is 1.5 in a decimal-comma export
    records: list[PosInventoryRecord] = []
    seen: dict[str, int] = {}
    for line, row in table.rows:
        if (why := extra_cells_problem(row, len(table.headers))) is not None:
            problems.add(line, "", why)
            continue
        tag = problems.check(
            line, table.headers[found["tag"]], validate_tag, cell_text(cell(row, found["tag"])), strict=strict_tags
        )
        quantity = problems.check(
            line,
            table.headers[found["quantity"]],
            parse_quantity,
            cell(row, found["quantity"]),
            "quantity on hand",
            fmt,
        )
        if quantity is not None and quantity < 0:
            problems.add(line, table.headers[found["quantity"]], f"quantity on hand {plain(quantity)} is negative")
        unit_text = cell_text(cell(row, found.get("unit")))
        unit = problems.check(line, table.headers[found["unit"]], parse_unit, unit_text) if unit_text else None
        if tag is not None and tag in seen:
            problems.add(line, table.headers[found["tag"]], f"tag {tag} is also on line {seen[tag]}")
            continue
        if tag is None or quantity is None or quantity < 0 or (unit_text and unit is None):
            continue
        seen[tag] = line
        records.append(
            PosInventoryRecord(
                line,
                tag,
                quantity,
                cell_text(cell(row, found.get("sku"))) or None,
                unit,
                cell_text(cell(row, found.get("product"))) or None,
                cell_text(cell(row, found.get("room"))) or None,
            )
        )
    problems.raise_if_any()
    return records
