from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from backoffice.domain.units import Unit
from backoffice.errors import ImportFileError
from backoffice.importers.metrc_sales_file import (
    MetrcSaleTransaction,
    ParsedMetrcReceipt,
    parse_metrc_receipts,
    parse_metrc_sales_file,
)

TZ = "America/Los_Angeles"
LA = ZoneInfo(TZ)
CSV_HEADER = ["ReceiptNumber", "SalesDateTime", "PackageLabel", "Quantity", "UnitOfMeasure", "TotalAmount"]


def _parse(path: Path) -> list[ParsedMetrcReceipt]:
    return parse_metrc_sales_file(path, store_tz=TZ)


def _error(path: Path) -> str:
    with pytest.raises(ImportFileError) as caught:
        _parse(path)
    return str(caught.value)


def _receipts(samples: Path) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((samples / "metrc_sales_receipts.json").read_text())
    return data


def _write_json(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "receipts.json"
    path.write_text(json.dumps(data, indent=1))
    return path


def _flat_rows(samples: Path) -> list[list[str]]:
    """The sample receipts as the flat CSV: one row per transaction."""
    rows = [CSV_HEADER]
    for receipt in _receipts(samples):
        for tx in receipt["Transactions"]:
            rows.append(
                [
                    receipt["ReceiptNumber"],
                    receipt["SalesDateTime"],
                    tx["PackageLabel"],
                    str(tx["Quantity"]),
                    tx["UnitOfMeasure"],
                    str(tx["TotalAmount"]),
                ]
            )
    return rows


def _write_csv(tmp_path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path = tmp_path / "receipts.csv"
    path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode())
    return path


def _shape(receipts: list[ParsedMetrcReceipt]) -> list[tuple[object, ...]]:
    return [
        (r.receipt_number, r.sold_at, [(t.tag, t.quantity, t.unit, t.amount) for t in r.transactions]) for r in receipts
    ]


def test_sample_json(samples: Path) -> None:
    receipts = _parse(samples / "metrc_sales_receipts.json")
    assert len(receipts) == 39
    third = receipts[2]
    assert third == ParsedMetrcReceipt(
        line=3,
        receipt_id=30003,
        receipt_number="R1120-0003",
        external_receipt_number=None,
        sold_at=datetime(2026, 11, 20, 9, 15, tzinfo=LA),
        customer_type="Consumer",
        transactions=(
            MetrcSaleTransaction(3, "1A4060300000000000000054", Decimal("3.5"), Unit.GRAMS, Decimal("19.00")),
            MetrcSaleTransaction(3, "1A4060300000000000000045", Decimal(1), Unit.EACH, Decimal("26.00")),
        ),
    )
    assert third.sold_at.utcoffset() == timedelta(hours=-8)


def test_flat_csv_gives_the_same_receipts(samples: Path, tmp_path: Path) -> None:
    from_csv = _parse(_write_csv(tmp_path, _flat_rows(samples)))
    assert _shape(from_csv) == _shape(_parse(samples / "metrc_sales_receipts.json"))
    assert from_csv[2].line == 4 and from_csv[2].receipt_id is None  # R1120-0003 starts on CSV line 4


def test_csv_with_external_numbers_and_us_dates(tmp_path: Path) -> None:
    rows = [
        ["External Receipt Number", "sales date time", "Package Label", "qty", "UoM", "Total Amount"],
        ["R9", "11/20/2026 02:40 PM", "1A4060300000000000000087", "2", "ea", "37.00"],
        ["R9", "11/20/2026 02:40 PM", "1A4060300000000000000054", "3.5", "g", "19.00"],
        ["R10", "11/20/2026 14:41", "1A4060300000000000000054", "1", "g", "6.00"],
    ]
    receipts = _parse(_write_csv(tmp_path, rows))
    assert [(r.external_receipt_number, r.receipt_number, len(r.transactions)) for r in receipts] == [
        ("R9", None, 2),
        ("R10", None, 1),
    ]
    assert receipts[0].sold_at == datetime(2026, 11, 20, 14, 40, tzinfo=LA)
    assert receipts[0].transactions[0].unit is Unit.EACH


def test_times_with_an_offset_keep_their_instant(samples: Path) -> None:
    data = _receipts(samples)[:1]
    data[0]["SalesDateTime"] = "2026-11-20T17:43:00+00:00"
    receipt = parse_metrc_receipts(data, "METRC", store_tz=TZ)[0]
    assert receipt.sold_at == datetime(2026, 11, 20, 9, 43, tzinfo=LA)


def test_no_receipts_is_a_valid_answer(tmp_path: Path) -> None:
    assert _parse(_write_json(tmp_path, [])) == []


def test_bad_json_reports_the_parsers_line(tmp_path: Path) -> None:
    path = tmp_path / "receipts.json"
    path.write_text('[\n {"Id": 1,\n  "ReceiptNumber": "R1"\n  "SalesDateTime": "x"}\n]')
    message = _error(path)
    assert "receipts.json is not valid JSON (line 4" in message


def test_json_problems_name_record_and_transaction_field(samples: Path, tmp_path: Path) -> None:
    data = _receipts(samples)
    data[2]["Transactions"][1]["Quantity"] = "two"
    data[3]["Transactions"][0]["Quantity"] = -1
    data[4]["Transactions"][1]["UnitOfMeasure"] = "Crates"
    data[5]["Transactions"][0]["PackageLabel"] = "1A4060300000000000000-21"
    data[6]["SalesDateTime"] = "yesterday"
    data[7]["Transactions"] = []
    data[8]["Id"] = data[0]["Id"]
    data[9]["Transactions"][0]["TotalAmount"] = "(5.00)"
    with pytest.raises(ImportFileError) as caught:
        _parse(_write_json(tmp_path, data))
    message = str(caught.value)
    assert "nothing was imported" in message
    assert "receipts.json, line 3, field 'Transactions[2].Quantity': quantity 'two' is not a number" in message
    assert "line 4, field 'Transactions[1].Quantity': quantity -1 must be more than zero" in message
    assert "line 5, field 'Transactions[2].UnitOfMeasure': unknown unit of measure 'Crates'" in message
    assert "line 6, field 'Transactions[1].PackageLabel': '1A4060300000000000000-21' is not a METRC tag" in message
    assert "line 7, field 'SalesDateTime': SalesDateTime 'yesterday' is not a date and time" in message
    assert "line 8, field 'Transactions': a receipt must list at least one transaction" in message
    assert "line 9, field 'Id': receipt Id 30001 appears twice: records 1 and 9" in message
    assert "line 10, field 'Transactions[1].TotalAmount': total amount -5 is negative" in message
    assert len(caught.value.problems) == 8


def test_csv_problems_name_line_and_column(samples: Path, tmp_path: Path) -> None:
    rows = _flat_rows(samples)
    rows[3][3] = "lots"  # R1120-0003, line 4
    rows[6][1] = "2026-11-20T16:23:00"  # second row of R1120-0004 (line 7) has another time
    rows[8][4] = "Bags"
    with pytest.raises(ImportFileError) as caught:
        _parse(_write_csv(tmp_path, rows))
    message = str(caught.value)
    assert "receipts.csv, line 4, field 'Quantity': quantity 'lots' is not a number" in message
    assert "line 7, field 'SalesDateTime': receipt R1120-0004 has another time on line 6" in message
    assert "line 9, field 'UnitOfMeasure': unknown unit of measure 'Bags'" in message


def test_csv_missing_columns_are_listed(tmp_path: Path) -> None:
    rows = [
        ["SalesDateTime", "PackageLabel", "Quantity", "TotalAmount"],
        ["2026-11-20T09:43:00", "1A4060300000000000000009", "2", "64.00"],
    ]
    with pytest.raises(ImportFileError) as caught:
        _parse(_write_csv(tmp_path, rows))
    assert "lacks the column(s) UnitOfMeasure, ReceiptNumber or ExternalReceiptNumber" in str(caught.value)
    assert [(p.line, p.field) for p in caught.value.problems] == [
        (1, "UnitOfMeasure"),
        (1, "ReceiptNumber or ExternalReceiptNumber"),
    ]


def test_wrong_kind_and_empty_files(samples: Path, tmp_path: Path) -> None:
    assert "is a METRC manifest (incoming transfer), not sales receipts" in _error(
        samples / "metrc_incoming_transfer.json"
    )
    packages = _write_json(tmp_path, json.loads((samples / "metrc_packages_active.json").read_text())[:2])
    assert "holds METRC packages, not sales receipts" in _error(packages)
    assert "lacks the column(s)" in _error(samples / "pos_sales_export_a.csv")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert _error(empty) == "empty.csv is empty."


def test_csv_with_decimal_commas_reads_1_5_as_one_and_a_half(tmp_path: Path) -> None:
    path = tmp_path / "receipts.csv"
    path.write_text(
        "ReceiptNumber;SalesDateTime;PackageLabel;Quantity;UnitOfMeasure;TotalAmount\n"
        "R1;2026-11-20 14:40;1A4060300000000000000054;1,5;g;7,50\n"
        "R2;2026-11-20 14:41;1A4060300000000000000054;2;g;1.234,00\n",
        encoding="utf-8",
    )
    receipts = _parse(path)
    assert [(t.quantity, t.amount) for r in receipts for t in r.transactions] == [
        (Decimal("1.5"), Decimal("7.50")),
        (Decimal("2"), Decimal("1234.00")),
    ]


def test_csv_value_against_the_file_s_own_format_is_refused_naming_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "receipts.csv"
    path.write_text(
        "ReceiptNumber;SalesDateTime;PackageLabel;Quantity;UnitOfMeasure;TotalAmount\n"
        "R1;2026-11-20 14:40;1A4060300000000000000054;1,5;g;7,50\n"
        "R2;2026-11-20 14:41;1A4060300000000000000054;1;g;1,234.50\n",
        encoding="utf-8",
    )
    message = _error(path)
    assert "line 3" in message and "TotalAmount" in message and "1,234.50" in message
