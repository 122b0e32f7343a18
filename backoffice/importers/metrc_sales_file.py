"""METRC sales receipts (API JSON, or a flat CSV with one row per transaction) → receipts.

``SalesDateTime`` is the facility's local time without an offset, so naive times are read
in the store's time zone. A file with no receipts is valid: it says METRC has no sales.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from backoffice.domain.numbers import NumberFormat
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
    number_format_of,
    parse_money,
    parse_quantity,
    parse_timestamp,
    plain,
    read_csv_table,
    read_source,
    zone,
)
from backoffice.importers.json_file import load_json

# METRC's web exports write US dates; the API writes ISO 8601 (always accepted)
_DATE_FORMATS = ("%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S")
_CSV_REQUIRED = {
    "sold_at": ("SalesDateTime", "Sales Date Time", "Sales Date"),
    "tag": ("PackageLabel", "Package Label", "Package", "Tag"),
    "quantity": ("Quantity", "Qty"),
    "unit": ("UnitOfMeasure", "Unit of Measure", "UnitOfMeasureName", "UoM"),
    "amount": ("TotalAmount", "Total Amount"),
}
_CSV_RECEIPT = {
    "receipt_number": ("ReceiptNumber", "Receipt Number", "Receipt #"),
    "external_receipt_number": ("ExternalReceiptNumber", "External Receipt Number"),
}
_CSV_OPTIONAL = {"receipt_id": ("Id", "Receipt Id"), "customer_type": ("SalesCustomerType", "Customer Type")}
_TX_KEYS = {"tag": "PackageLabel", "quantity": "Quantity", "unit": "UnitOfMeasure", "amount": "TotalAmount"}


@dataclass(frozen=True)
class MetrcSaleTransaction:
    line: int  # CSV line; in JSON, the receipt's record number
    tag: str
    quantity: Decimal
    unit: Unit
    amount: Decimal


@dataclass(frozen=True)
class ParsedMetrcReceipt:
    line: int  # CSV line of its first transaction, or its record number (1-based) in the JSON list
    receipt_id: int | None  # METRC's Id
    receipt_number: str | None
    external_receipt_number: str | None  # the POS receipt number, when the POS sent it
    sold_at: datetime  # tz-aware, in the store's zone
    customer_type: str | None
    transactions: tuple[MetrcSaleTransaction, ...]


def is_metrc_sales_header(headers: Sequence[str]) -> bool:
    """True when ``headers`` are a METRC sales CSV's (lets other importers name the mix-up)."""
    found = locate_columns(headers, {**_CSV_REQUIRED, **_CSV_RECEIPT})
    return not set(_CSV_REQUIRED) - set(found) and bool(set(_CSV_RECEIPT) & set(found))


def parse_metrc_sales_file(path: Path | str, *, store_tz: str, strict_tags: bool = False) -> list[ParsedMetrcReceipt]:
    """Read receipts JSON or CSV; raise ImportFileError listing every problem found."""
    src = read_source(path)
    if src.kind in ("xlsx", "xls"):
        raise ImportFileError(f"{src.name} is an Excel workbook; export METRC sales receipts as CSV or JSON.")
    if src.kind == "json":
        data = load_json(src.text(), src.name)
        return parse_metrc_receipts(data, src.name, store_tz=store_tz, strict_tags=strict_tags)
    table = read_csv_table(src)
    if table is None:
        raise ImportFileError(f"{src.name} is empty.")
    return _from_csv(src, table, zone(store_tz), strict_tags)


def parse_metrc_receipts(
    data: Any, source: str, *, store_tz: str, strict_tags: bool = False
) -> list[ParsedMetrcReceipt]:
    """Build from the API's JSON (a list of receipts, or one), as a file holds it or the connector fetched it."""
    records = data if isinstance(data, list) else [data]
    first = records[0] if records else None
    if isinstance(first, dict) and "Packages" in first:
        raise ImportFileError(f"{source} is a METRC manifest (incoming transfer), not sales receipts.")
    if isinstance(first, dict) and "Label" in first and "Transactions" not in first:
        raise ImportFileError(f"{source} holds METRC packages, not sales receipts.")
    tz = zone(store_tz)
    problems = Problems(source)
    receipts: list[ParsedMetrcReceipt] = []
    ids: dict[int, int] = {}
    for n, raw in enumerate(records, start=1):
        if not isinstance(raw, dict):
            problems.add(n, "", "a receipt must be a JSON object")
            continue
        receipt_id = _int(raw.get("Id"))
        if receipt_id is not None and receipt_id in ids:
            problems.add(n, "Id", f"receipt Id {receipt_id} appears twice: records {ids[receipt_id]} and {n}")
        elif receipt_id is not None:
            ids[receipt_id] = n
        sold_at = problems.check(n, "SalesDateTime", _sold_at, raw.get("SalesDateTime"), tz)
        transactions = raw.get("Transactions")
        if not isinstance(transactions, list) or not transactions:
            problems.add(n, "Transactions", "a receipt must list at least one transaction")
            continue
        checked = []
        for i, tx in enumerate(transactions, start=1):
            names = {key: f"Transactions[{i}].{name}" for key, name in _TX_KEYS.items()}
            if not isinstance(tx, dict):
                problems.add(n, f"Transactions[{i}]", "a transaction must be a JSON object")
            elif t := _transaction(n, {k: tx.get(v) for k, v in _TX_KEYS.items()}, names, strict_tags, problems):
                checked.append(t)
        if sold_at is not None:
            receipts.append(
                ParsedMetrcReceipt(
                    line=n,
                    receipt_id=receipt_id,
                    receipt_number=cell_text(raw.get("ReceiptNumber")) or None,
                    external_receipt_number=cell_text(raw.get("ExternalReceiptNumber")) or None,
                    sold_at=sold_at,
                    customer_type=cell_text(raw.get("SalesCustomerType")) or None,
                    transactions=tuple(checked),
                )
            )
    problems.raise_if_any("record")
    return receipts


def _from_csv(src: SourceFile, table: Table, tz: ZoneInfo, strict: bool) -> list[ParsedMetrcReceipt]:
    columns = locate_columns(table.headers, {**_CSV_REQUIRED, **_CSV_RECEIPT, **_CSV_OPTIONAL})
    missing = [names[0] for key, names in _CSV_REQUIRED.items() if key not in columns]
    if not set(_CSV_RECEIPT) & set(columns):
        missing.append("ReceiptNumber or ExternalReceiptNumber")
    if missing:
        raise missing_columns_error(src, table, missing, "a METRC sales receipts CSV")
    names = {key: table.headers[position] for key, position in columns.items()}
    problems = Problems(src.name)
    fmt = number_format_of(table.rows, (columns.get("quantity"), columns.get("amount")))  # 1,5 or 1.5
    # one row per transaction: rows with the same receipt numbers make one receipt
    groups: dict[tuple[str, str] | int, list[tuple[int, datetime, MetrcSaleTransaction, Sequence[object]]]] = {}
    for line_no, row in table.rows:
        if (why := extra_cells_problem(row, len(table.headers))) is not None:
            problems.add(line_no, "", why)
            continue
        numbers = (
            cell_text(cell(row, columns.get("receipt_number"))),
            cell_text(cell(row, columns.get("external_receipt_number"))),
        )
        sold_at = problems.check(line_no, names["sold_at"], _sold_at, cell(row, columns["sold_at"]), tz)
        tx = _transaction(line_no, {k: cell(row, columns[k]) for k in _TX_KEYS}, names, strict, problems, fmt)
        if sold_at is None or tx is None:
            continue
        group = groups.setdefault(numbers if any(numbers) else line_no, [])  # no number: a receipt of its own
        if group and sold_at != group[0][1]:
            problems.add(
                line_no,
                names["sold_at"],
                f"receipt {' / '.join(filter(None, numbers))} has another time on line {group[0][0]}",
            )
        group.append((line_no, sold_at, tx, row))
    problems.raise_if_any()
    receipts = []
    for group in groups.values():
        first_line, sold_at, _, head = group[0]
        receipt_id = cell_text(cell(head, columns.get("receipt_id")))
        receipts.append(
            ParsedMetrcReceipt(
                line=first_line,
                receipt_id=int(receipt_id) if receipt_id.isdigit() else None,
                receipt_number=cell_text(cell(head, columns.get("receipt_number"))) or None,
                external_receipt_number=cell_text(cell(head, columns.get("external_receipt_number"))) or None,
                sold_at=sold_at,
                customer_type=cell_text(cell(head, columns.get("customer_type"))) or None,
                transactions=tuple(tx for _, _, tx, _ in group),
            )
        )
    return receipts


def _transaction(
    n: int,
    values: Mapping[str, object],
    names: Mapping[str, str],
    strict: bool,
    problems: Problems,
    fmt: NumberFormat | None = None,
) -> MetrcSaleTransaction | None:
    tag = problems.check(n, names["tag"], lambda: validate_tag(cell_text(values["tag"]), strict=strict))
    quantity = problems.check(
        n, names["quantity"], lambda: _positive(parse_quantity(values["quantity"], "quantity", fmt))
    )
    unit = problems.check(n, names["unit"], lambda: parse_unit(cell_text(values["unit"])))
    amount = problems.check(
        n, names["amount"], lambda: _not_negative(parse_money(values["amount"], "total amount", fmt))
    )
    if tag is None or quantity is None or unit is None or amount is None:
        return None
    return MetrcSaleTransaction(line=n, tag=tag, quantity=quantity, unit=unit, amount=amount)


def _sold_at(value: object, tz: ZoneInfo) -> datetime:
    return parse_timestamp(value, _DATE_FORMATS, tz, "SalesDateTime")


def _positive(quantity: Decimal) -> Decimal:
    if quantity <= 0:
        raise ValidationError(f"quantity {plain(quantity)} must be more than zero")
    return quantity


def _not_negative(amount: Decimal) -> Decimal:
    if amount < 0:
        raise ValidationError(f"total amount {plain(amount)} is negative")
    return amount


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
