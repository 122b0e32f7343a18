from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from backoffice.domain.units import Unit
from backoffice.errors import ImportFileError, UserError, ValidationError
from backoffice.importers.pos_sales_file import (
    LAYOUT_A,
    LAYOUT_B,
    ParsedPosFile,
    PosLayout,
    PosSaleLine,
    UnknownLayoutError,
    detect_layout,
    header_signature,
    parse_pos_file,
    read_headers,
)

TZ = "America/Los_Angeles"
LA = ZoneInfo(TZ)


def _parse(path: Path, **kwargs: object) -> ParsedPosFile:
    return parse_pos_file(path, store_tz=TZ, **kwargs)  # type: ignore[arg-type]


def _error(path: Path, **kwargs: object) -> ImportFileError:
    with pytest.raises(ImportFileError) as caught:
        _parse(path, **kwargs)
    return caught.value


def _rows(samples: Path, name: str) -> list[list[str]]:
    text = (samples / name).read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def _write(tmp_path: Path, rows: list[list[str]], name: str = "sales.csv", *, bom: bool = True) -> Path:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode())
    return path


def _canonical(line: PosSaleLine) -> PosSaleLine:
    """The fields both sample layouts carry (B has no SKU, brand or budtender column)."""
    return replace(line, sku=None, brand=None, budtender=None)


def test_both_sample_layouts_give_the_same_canonical_lines(samples: Path) -> None:
    a = _parse(samples / "pos_sales_export_a.csv")
    b = _parse(samples / "pos_sales_export_b.csv")
    assert (a.layout_name, b.layout_name) == ("export-a", "export-b")
    assert len(a.lines) == len(b.lines) == 76
    assert [_canonical(x) for x in a.lines] == [_canonical(x) for x in b.lines]
    first = a.lines[0]
    assert first == PosSaleLine(
        line=2,
        receipt_number="R1120-0001",
        sold_at=datetime(2026, 11, 20, 9, 43, tzinfo=LA),
        tag="1A4060300000000000000009",
        sku="SKU-1019",
        product_name="Kind Harvest Sour Diesel Tincture 30ml 1:1",
        brand="Kind Harvest",
        category="Tincture (volume - each)",
        quantity=Decimal(2),
        unit=Unit.EACH,
        amount=Decimal("64.00"),
        budtender="KT",
    )
    assert a.lines[1].sold_at.hour == 17  # 05:54 PM
    assert a.file_sha256 != b.file_sha256 and len(a.file_sha256) == 64


def test_detection_ignores_header_case_spacing_and_order(samples: Path, tmp_path: Path) -> None:
    rows = _rows(samples, "pos_sales_export_b.csv")
    order = [7, 2, 0, 5, 1, 3, 6, 4]
    rows = [[row[i] for i in order] for row in rows]
    rows[0] = [f"  {h.upper().replace('_', ' ')} " for h in rows[0]]
    parsed = _parse(_write(tmp_path, rows))
    assert parsed.layout_name == "export-b"
    original = _parse(samples / "pos_sales_export_b.csv")
    assert [_canonical(x) for x in parsed.lines] == [_canonical(x) for x in original.lines]


def test_header_signature_is_order_case_and_space_insensitive() -> None:
    assert header_signature(["Transaction ID", "Net Sales"]) == header_signature([" net sales", "TRANSACTION_ID "])
    assert header_signature(["Transaction ID"]) != header_signature(["Transaction ID", "Net Sales"])


def test_extra_columns_still_match_a_known_layout(samples: Path, tmp_path: Path) -> None:
    rows = _rows(samples, "pos_sales_export_a.csv")
    rows = [row + ["Register" if i == 0 else "1"] for i, row in enumerate(rows)]
    assert detect_layout(rows[0]) is LAYOUT_A
    assert len(_parse(_write(tmp_path, rows)).lines) == 76


def test_unknown_layout_lists_headers_and_a_saved_mapping_reads_it(samples: Path, tmp_path: Path) -> None:
    rows = _rows(samples, "pos_sales_export_a.csv")
    headers = ["Ticket", "Closed", "Tag", "Item", "Qty", "UOM", "Total"]
    keep = [0, 1, 2, 4, 7, 8, 9]
    path = _write(tmp_path, [headers] + [[row[i] for i in keep] for row in rows[1:]])
    with pytest.raises(UnknownLayoutError) as caught:
        _parse(path)
    error = caught.value
    assert isinstance(error, UserError)
    assert "Columns found: Ticket, Closed, Tag, Item, Qty, UOM, Total" in str(error)
    assert "Map the columns" in str(error)
    assert error.headers == headers == read_headers(path)
    assert error.signature == header_signature(headers)

    mapping = PosLayout(
        "till-x",
        error.signature,
        {
            "receipt_number": "Ticket",
            "sold_at": "Closed",
            "tag": "Tag",
            "product_name": "Item",
            "quantity": "Qty",
            "unit": "UOM",
            "amount": "Total",
        },
    )
    stored = PosLayout.from_json("till-x", error.signature, mapping.to_json())
    assert stored == mapping
    parsed = _parse(path, layouts=[stored])
    assert parsed.layout_name == "till-x"
    expected = _parse(samples / "pos_sales_export_a.csv").lines
    assert [replace(x, sku=None, brand=None, category=None, budtender=None) for x in expected] == list(parsed.lines)


def test_a_mapping_must_name_the_required_columns() -> None:
    with pytest.raises(ValidationError, match="which column holds: sold at, amount"):
        PosLayout("half", "sig", {"receipt_number": "Ticket", "tag": "Tag", "quantity": "Qty"})
    with pytest.raises(ValidationError, match="unknown field"):
        PosLayout("odd", "sig", {**LAYOUT_B.columns, "tip": "Tip"})


def test_forced_layout_lists_missing_columns(samples: Path, tmp_path: Path) -> None:
    rows = [row[:9] for row in _rows(samples, "pos_sales_export_a.csv")]  # drops Net Sales, Budtender
    error = _error(_write(tmp_path, rows), layout=LAYOUT_A)
    assert "lacks the column(s) Net Sales, Budtender" in str(error)
    assert [(p.line, p.field) for p in error.problems] == [(1, "Net Sales"), (1, "Budtender")]


def test_money_returns_and_quoted_commas(samples: Path, tmp_path: Path) -> None:
    rows = _rows(samples, "pos_sales_export_a.csv")[:4]
    rows[1][9] = "$1,234.56"
    rows[1][4] = "Kind Harvest, Sour Diesel Tincture"
    rows[2][9] = "($8.00)"  # a return, marked on the amount only
    rows[3][7], rows[3][9] = "-3.5", "19.00"  # a return, marked on the quantity only
    lines = _parse(_write(tmp_path, rows)).lines
    assert lines[0].amount == Decimal("1234.56") and lines[0].product_name == "Kind Harvest, Sour Diesel Tincture"
    assert (lines[1].quantity, lines[1].amount) == (Decimal(-1), Decimal("-8.00"))
    assert (lines[2].quantity, lines[2].amount) == (Decimal("-3.5"), Decimal("-19.00"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11/20/2026 09:43 AM", datetime(2026, 11, 20, 9, 43, tzinfo=LA)),
        ("11/20/2026 9:43 pm", datetime(2026, 11, 20, 21, 43, tzinfo=LA)),
        ("11/20/2026 09:43:27 AM", datetime(2026, 11, 20, 9, 43, 27, tzinfo=LA)),
        ("11/20/2026 21:43", datetime(2026, 11, 20, 21, 43, tzinfo=LA)),
        ("2026-11-20 09:43", datetime(2026, 11, 20, 9, 43, tzinfo=LA)),
        ("2026-11-20T09:43:05", datetime(2026, 11, 20, 9, 43, 5, tzinfo=LA)),
        ("2026-11-20T17:43:00Z", datetime(2026, 11, 20, 9, 43, tzinfo=LA)),
        ("2026-11-20T12:43:00-05:00", datetime(2026, 11, 20, 9, 43, tzinfo=LA)),
        ("11/20/2026 12:43 PM -0500", datetime(2026, 11, 20, 9, 43, tzinfo=LA)),
    ],
)
def test_date_formats(text: str, expected: datetime, samples: Path, tmp_path: Path) -> None:
    rows = _rows(samples, "pos_sales_export_a.csv")[:2]
    rows[1][1] = text
    sold_at = _parse(_write(tmp_path, rows)).lines[0].sold_at
    assert sold_at == expected and sold_at.tzinfo is not None
    assert sold_at.utcoffset() == timedelta(hours=-8)  # shown in the store's zone


def test_naive_times_are_in_the_store_zone_unless_the_layout_has_its_own(samples: Path) -> None:
    path = samples / "pos_sales_export_b.csv"
    east = parse_pos_file(path, store_tz="America/New_York").lines[0].sold_at
    assert east.utcoffset() == timedelta(hours=-5) and east.hour == 9
    utc_layout = replace(LAYOUT_B, name="b-utc", timezone="UTC")
    utc = parse_pos_file(path, store_tz=TZ, layout=utc_layout).lines[0].sold_at
    assert utc.utcoffset() == timedelta(0) and utc.hour == 9


def test_bad_rows_are_all_reported_and_nothing_is_returned(samples: Path, tmp_path: Path) -> None:
    rows = _rows(samples, "pos_sales_export_a.csv")
    rows[2][1] = "20/11/2026 09:15"
    rows[3][7] = "three"
    rows[4][2] = "1A406030000000000000003"
    rows[5][8] = "Bushel"
    rows[6][0] = ""
    rows[7][1] = "2026-11-20"
    rows[8][7] = "0"
    error = _error(_write(tmp_path, rows))
    message = str(error)
    assert "sales.csv: 7 problem(s) in 7 line(s); nothing was imported" in message
    assert "sales.csv, line 3, field 'Transaction Date': sale time '20/11/2026 09:15' is not a date and time" in message
    assert "line 4, field 'Quantity': quantity 'three' is not a number" in message
    assert "line 5, field 'Package ID': '1A406030000000000000003' is not a METRC tag" in message
    assert "line 6, field 'Unit': unknown unit of measure 'Bushel'" in message
    assert "line 7, field 'Transaction ID': missing receipt number" in message
    assert "line 8, field 'Transaction Date': sale time '2026-11-20' has a date but no time of day" in message
    assert "line 9, field 'Quantity': quantity is zero" in message


def test_untagged_lines_are_kept_without_a_tag(samples: Path, tmp_path: Path) -> None:
    rows = _rows(samples, "pos_sales_export_a.csv")[:2]
    rows.append(
        ["R1120-0001", "11/20/2026 09:43 AM", "", "ACC-1", "Lighter", "Bic", "Accessories", "1", "", "$2.00", "KT"]
    )
    lines = _parse(_write(tmp_path, rows)).lines
    assert (lines[1].tag, lines[1].unit, lines[1].amount) == (None, None, Decimal("2.00"))


def test_unbalanced_quote_and_unquoted_comma(samples: Path, tmp_path: Path) -> None:
    text = (samples / "pos_sales_export_b.csv").read_text(encoding="utf-8-sig").splitlines()
    broken = text[:5] + [text[5].replace("Verde Labs", '"Verde Labs', 1)] + text[6:8]
    path = tmp_path / "quote.csv"
    path.write_text("\n".join(broken) + "\n")
    assert "quote is probably unbalanced" in str(_error(path))
    comma = text[:3] + [text[3].replace(",Buds,", ",Buds, indica,")]
    path.write_text("\n".join(comma) + "\n")
    assert "quote.csv, line 4: the row has 9 values but the header has 8 columns" in str(_error(path))


def test_empty_header_only_and_wrong_kind_files(samples: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert str(_error(empty)) == "empty.csv is empty: it has no header row and no sales lines."
    blank = tmp_path / "blank.csv"
    blank.write_bytes(b"\xef\xbb\xbf\r\n,,\r\n")
    assert "blank.csv is empty" in str(_error(blank))
    headers = _write(tmp_path, _rows(samples, "pos_sales_export_a.csv")[:1])
    assert str(_error(headers)) == "sales.csv has column headers but no sales lines."
    receipts = tmp_path / "receipts.csv"
    receipts.write_bytes((samples / "metrc_sales_receipts.json").read_bytes())
    assert "is a JSON file, not a POS sales export" in str(_error(receipts))
    manifest = samples / "metrc_incoming_transfer.csv"
    assert "is a METRC manifest (incoming transfer), not POS sales" in str(_error(manifest))
    metrc_csv = _write(
        tmp_path,
        [
            ["ReceiptNumber", "SalesDateTime", "PackageLabel", "Quantity", "UnitOfMeasure", "TotalAmount"],
            ["R1", "2026-11-20T09:43:00", "1A4060300000000000000009", "2", "Each", "64.00"],
        ],
        "metrc.csv",
    )
    assert "holds METRC sales receipts, not POS sales" in str(_error(metrc_csv))
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64)
    assert "old-style Excel file" in str(_error(xls))


def _sample_a_workbook(samples: Path, path: Path, *, typed: bool) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    rows = _rows(samples, "pos_sales_export_a.csv")
    sheet.append(rows[0])
    for row in rows[1:]:
        if typed:  # what a POS writing real Excel cells produces
            sheet.append(
                [
                    row[0],
                    datetime.strptime(row[1], "%m/%d/%Y %I:%M %p"),
                    *row[2:7],
                    float(row[7]),
                    row[8],
                    float(row[9].lstrip("$").replace(",", "")),
                    row[10],
                ]
            )
        else:
            sheet.append(row)
    book.save(path)


@pytest.mark.parametrize("typed", [True, False])
def test_xlsx_round_trip(samples: Path, tmp_path: Path, typed: bool) -> None:
    path = tmp_path / "sales.xlsx"
    _sample_a_workbook(samples, path, typed=typed)
    from_xlsx = _parse(path)
    from_csv = _parse(samples / "pos_sales_export_a.csv")
    assert from_xlsx.layout_name == "export-a"
    assert from_xlsx.lines == from_csv.lines  # same values and the same line (row) numbers


def test_xlsx_bad_cell_reports_its_row(samples: Path, tmp_path: Path) -> None:
    path = tmp_path / "sales.xlsx"
    _sample_a_workbook(samples, path, typed=True)
    from openpyxl import load_workbook

    book = load_workbook(path)
    sheet = book.active
    assert sheet is not None
    sheet["H5"] = "lots"
    book.save(path)
    assert "sales.xlsx, line 5, field 'Quantity': quantity 'lots' is not a number" in str(_error(path))


def test_layouts_serialise_for_storage() -> None:
    data = json.loads(LAYOUT_A.to_json())
    assert data["columns"]["amount"] == "Net Sales" and data["timezone"] is None
    assert PosLayout.from_json(LAYOUT_A.name, LAYOUT_A.signature, LAYOUT_A.to_json()) == LAYOUT_A
