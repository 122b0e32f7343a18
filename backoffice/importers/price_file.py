"""A shelf price list: a CSV with a SKU column and a price column (any spelling of the headers,
BOM, CRLF, quoted cells, "$" and thousands separators as spreadsheets write them). Parsing
only: the catalogue service checks each SKU and price and applies them all or none."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from backoffice.errors import ImportFileError
from backoffice.importers.csv_common import (
    Problems,
    cell,
    cell_text,
    extra_cells_problem,
    locate_columns,
    missing_columns_error,
    read_csv_table,
    read_source,
)

COLUMNS = {
    "sku": ("SKU", "Item SKU", "Item Code", "Code"),
    "price": ("Price", "Shelf Price", "New Price", "Retail Price"),
}


@dataclass(frozen=True)
class PriceLine:
    line: int
    sku: str
    price: str  # as written; the service checks it


@dataclass(frozen=True)
class PriceFile:
    name: str
    lines: list[PriceLine]
    problems: Problems  # what parsing found; the service adds its own and raises once


def parse_price_file(path: Path | str) -> PriceFile:
    src = read_source(path)
    if src.kind != "text":
        raise ImportFileError(f"{src.name} is not a CSV file; save the price list as CSV (UTF-8) and import that")
    table = read_csv_table(src)
    if table is None or not table.rows:
        raise ImportFileError(f"{src.name} holds no prices: it needs a header (SKU, Price) and one row per item")
    found = locate_columns(table.headers, COLUMNS)
    missing = [names[0] for field, names in COLUMNS.items() if field not in found]
    if missing:
        raise missing_columns_error(src, table, missing, "a price list")
    problems = Problems(src.name)
    lines: list[PriceLine] = []
    first_line: dict[str, int] = {}
    for number, row in table.rows:
        if extra := extra_cells_problem(row, len(table.headers)):
            problems.add(number, "", extra)
            continue
        sku, price = cell_text(cell(row, found["sku"])), cell_text(cell(row, found["price"]))
        if not sku:
            problems.add(number, "SKU", "the SKU is empty")
        elif sku in first_line:
            problems.add(number, "SKU", f"SKU {sku} is listed twice (first on line {first_line[sku]})")
        elif not price:
            problems.add(number, "Price", f"no price for SKU {sku}")
        else:
            first_line[sku] = number
            lines.append(PriceLine(number, sku, price))
    return PriceFile(src.name, lines, problems)
