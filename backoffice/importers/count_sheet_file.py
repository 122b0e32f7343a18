"""A printed count sheet keyed in afterwards: CSV of tag, quantity.

With a header row, the columns are found by name (``Tag``/``Package``/``Label`` and
``Quantity``/``Qty``/``Count``); without one, the first column is the tag and the second
the quantity. A blank quantity is a box nobody filled in and is skipped. The delimiter
(comma, tab, semicolon) and the number format (1.5 or 1,5) are found from the sheet. Every
line is checked first; a sheet with problems records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from backoffice.domain.tags import is_tag, validate_tag
from backoffice.errors import ImportFileError
from backoffice.importers.csv_common import (
    Problems,
    cell,
    cell_text,
    locate_columns,
    missing_columns_error,
    number_format_of,
    parse_quantity,
    plain,
    read_csv_table,
    read_source,
)

COLUMNS = {
    "tag": ("Tag", "Package Tag", "Package", "Label", "METRC Tag", "Package ID"),
    "quantity": ("Quantity", "Qty", "Count", "Counted", "Counted Quantity"),
}


@dataclass(frozen=True)
class SheetLine:
    line: int
    tag: str
    quantity: Decimal


@dataclass(frozen=True)
class KeyedSheet:
    file: str
    lines: list[SheetLine]
    blank: int  # lines with a tag and no quantity


def parse_keyed_sheet(path: Path | str, *, strict_tags: bool = False) -> KeyedSheet:
    src = read_source(path)
    if src.kind != "text":
        raise ImportFileError(f"{src.name} is not a CSV file ({src.kind}); save the keyed-in sheet as CSV.")
    table = read_csv_table(src)
    if table is None:
        raise ImportFileError(f"{src.name} is empty: expected one line per package: tag, quantity.")
    if is_tag(table.headers[0] if table.headers else "", strict=strict_tags):
        # no header: the first row is already a package
        rows = [(table.header_line, table.headers), *table.rows]
        tag_col, qty_col = 0, 1
    else:
        found = locate_columns(table.headers, COLUMNS)
        missing = [COLUMNS[f][0] for f in COLUMNS if f not in found]
        if missing:
            raise missing_columns_error(src, table, missing, "a keyed-in count sheet (tag, quantity)")
        rows, tag_col, qty_col = list(table.rows), found["tag"], found["quantity"]
    numbers = number_format_of(rows, (qty_col,))  # 1,5 on a sheet keyed in with a decimal comma is 1.5
    problems = Problems(src.name)
    lines: list[SheetLine] = []
    seen: dict[str, int] = {}
    blank = 0
    for number, row in rows:
        raw_tag, raw_qty = cell_text(cell(row, tag_col)), cell_text(cell(row, qty_col))
        tag = problems.check(number, "tag", validate_tag, raw_tag, strict=strict_tags)
        if tag is not None and tag in seen:
            problems.add(number, "tag", f"tag {tag} is also on line {seen[tag]}; a package is counted on one line")
            continue
        if tag is not None:
            seen[tag] = number
        if not raw_qty:
            blank += 1
            continue
        quantity = problems.check(number, "quantity", parse_quantity, raw_qty, "counted quantity", numbers)
        if quantity is not None and quantity < 0:
            problems.add(number, "quantity", f"counted quantity {plain(quantity)} is negative")
            continue
        if tag is not None and quantity is not None:
            lines.append(SheetLine(number, tag, quantity))
    problems.raise_if_any()
    if not lines:
        raise ImportFileError(f"{src.name} has no filled-in quantities; nothing to record.")
    return KeyedSheet(src.name, lines, blank)
