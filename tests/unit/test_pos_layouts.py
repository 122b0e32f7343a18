"""Any POS layout: delimiters sniffed, the mapping guessed from header synonyms (date and time
in one column or two), numbers read by the file's own format, values and dates within limits.
The three layouts the tests already had (export A, export B, the mapped 'till-x') and a fourth,
tab-separated one with the date and the time in separate columns."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from backoffice.db.engine import Database
from backoffice.domain.numbers import NumberFormat, detect_number_format, parse_decimal
from backoffice.errors import ImportFileError, ValidationError
from backoffice.importers.count_sheet_file import parse_keyed_sheet
from backoffice.importers.csv_common import read_csv_table, read_source, sniff_delimiter
from backoffice.importers.manifest_file import parse_manifest_file
from backoffice.importers.pos_layout_guess import guess_columns, guess_layout
from backoffice.importers.pos_sales_file import (
    PosLayout,
    UnknownLayoutError,
    parse_pos_file,
)
from backoffice.services import metrc_packages_import, pos_layouts, sales_import
from backoffice.services.actor import Actor

TZ = "America/Los_Angeles"
LA = ZoneInfo(TZ)
TINCTURE = "1A4060300000000000000009"
FOURTH_HEADERS = ["Ticket No", "Sold On", "At", "METRC ID", "Description", "Units", "UoM", "Ext. Price"]


def _rows(samples: Path, name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO((samples / name).read_text(encoding="utf-8-sig"), newline="")))


def _write(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _fourth(samples: Path, tmp_path: Path, *, comma: bool = False) -> Path:
    """Export B's sales as a tab-separated till with 'Sold On' and 'At' columns."""
    rows = [FOURTH_HEADERS]
    for r in _rows(samples, "pos_sales_export_b.csv")[1:]:
        when = datetime.fromisoformat(r[1])
        amount = f"${Decimal(r[7]):,.2f}"
        quantity = r[5]
        if comma:
            amount, quantity = amount.replace(".", ","), quantity.replace(".", ",")
        rows.append([r[0], when.strftime("%m/%d/%Y"), when.strftime("%I:%M %p"), r[2], r[3], quantity, r[6], amount])
    return _write(tmp_path / "till4.tsv", rows, "\t")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            [
                "Transaction ID",
                "Transaction Date",
                "Package ID",
                "SKU",
                "Product Name",
                "Brand",
                "Category",
                "Quantity",
                "Unit",
                "Net Sales",
                "Budtender",
            ],
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
        ),
        (
            [
                "order_id",
                "completed_at",
                "metrc_tag",
                "product",
                "product_category",
                "qty_sold",
                "unit_of_measure",
                "line_total",
            ],
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
        ),
        (
            ["Ticket", "Closed", "Tag", "Item", "Qty", "UOM", "Total"],
            {
                "receipt_number": "Ticket",
                "sold_at": "Closed",
                "tag": "Tag",
                "product_name": "Item",
                "quantity": "Qty",
                "unit": "UOM",
                "amount": "Total",
            },
        ),
        (
            FOURTH_HEADERS,
            {
                "receipt_number": "Ticket No",
                "sold_at": "Sold On",
                "sold_time": "At",
                "tag": "METRC ID",
                "product_name": "Description",
                "quantity": "Units",
                "unit": "UoM",
                "amount": "Ext. Price",
            },
        ),
        (
            ["Order #", "Date/Time", "Package Label", "Qty", "Line Total"],
            {
                "receipt_number": "Order #",
                "sold_at": "Date/Time",
                "tag": "Package Label",
                "quantity": "Qty",
                "amount": "Line Total",
            },
        ),
    ],
)
def test_the_mapping_is_guessed_from_header_synonyms(headers: list[str], expected: dict[str, str]) -> None:
    assert guess_columns(headers) == expected


@pytest.mark.parametrize(
    ("line", "delimiter"),
    [
        ("a,b,c", ","),
        ("a\tb\tc", "\t"),
        ("a;b;c", ";"),
        ("a|b|c", "|"),
        ('"x;y",b,c', ","),
        ("single", ","),
    ],
)
def test_the_delimiter_is_sniffed(line: str, delimiter: str) -> None:
    assert sniff_delimiter(line + "\r\n1,2,3\r\n") == delimiter


def test_the_fourth_layout_is_guessed_previewed_saved_and_imported(
    db: Database, actors: dict[str, Actor], samples: Path, tmp_path: Path
) -> None:
    metrc_packages_import.import_file(db, actors["admin"], samples / "metrc_packages_active.json")
    alex = actors["alex"]
    path = _fourth(samples, tmp_path)
    with pytest.raises(UnknownLayoutError):
        sales_import.import_pos_file(db, alex, path)
    guess = pos_layouts.guess(db, alex, path)
    assert (guess.columns["sold_at"], guess.columns["sold_time"], guess.date_style) == ("Sold On", "At", "us")
    assert guess.number_format is NumberFormat.POINT and guess.preview is not None
    first = guess.preview.lines[0]
    assert (first.receipt_number, first.sold_at, first.tag, first.quantity, first.amount) == (
        "R1120-0001",
        datetime(2026, 11, 20, 9, 43, tzinfo=LA),
        TINCTURE,
        Decimal(2),
        Decimal("64.00"),
    )
    pos_layouts.save_layout(
        db,
        alex,
        "Till Four",
        guess.headers,
        guess.columns,
        date_formats=guess.layout("x").date_formats,
        number_format=guess.number_format,
    )
    result = sales_import.import_pos_file(db, alex, path)
    assert (result.layout, result.lines_added) == ("Till Four", 76)
    # the same sales from export B are recognised as already imported: the split time reads the same
    again = sales_import.import_pos_file(db, alex, samples / "pos_sales_export_b.csv")
    assert (again.lines_added, again.lines_already_imported) == (0, 76)


def test_cli_pos_layout_guess_add_and_list(
    monkeypatch: pytest.MonkeyPatch,
    samples: Path,
    tmp_path: Path,
    sqlite_db: Database,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from backoffice.cli.main import main
    from tests.conftest import make_users
    from tests.unit.cli_signin import signin

    make_users(sqlite_db)
    url = f"sqlite:///{sqlite_db.sqlite_path}"
    path = _fourth(samples, tmp_path, comma=True)
    assert main(["--db", url, *signin(monkeypatch, "admin"), "pos-layout", "guess", str(path)]) == 0
    out = capsys.readouterr().out
    assert "numbers 1.234,56" in out and "  At                       -> sold_time" in out
    assert "line 2: receipt R1120-0001 · 2026-11-20 09:43 · 1A4060300000000000000009" in out
    assert (
        main(
            [
                "--db",
                url,
                *signin(monkeypatch, "admin"),
                "pos-layout",
                "add",
                "Till Four",
                "--from",
                str(path),
                "--column",
                "product_name=",
                "--numbers",
                "comma",
            ]
        )
        == 0
    )
    assert "saved layout 'Till Four'" in capsys.readouterr().out
    assert main(["--db", url, *signin(monkeypatch, "admin"), "pos-layout", "list"]) == 0
    listed = capsys.readouterr().out
    assert "Till Four (saved; numbers 1.234,56): receipt_number=Ticket No, sold_at=Sold On, sold_time=At" in listed
    assert "product_name" not in listed.split("Till Four")[1]
    assert (
        main(
            [
                "--db",
                url,
                *signin(monkeypatch, "admin"),
                "pos-layout",
                "add",
                "Broken",
                "--from",
                str(path),
                "--column",
                "amount=",
            ]
        )
        == 1
    )
    assert "no column chosen for: amount" in capsys.readouterr().out
    with pytest.raises(SystemExit) as usage:
        main(["--db", url, *signin(monkeypatch, "admin"), "pos-layout", "guess", str(path), "--column", "tip=Units"])
    assert usage.value.code == 2 and "FIELD one of receipt_number" in capsys.readouterr().err


@pytest.mark.parametrize(("delimiter", "numbers"), [(";", "comma"), ("|", "point"), ("\t", "comma")])
def test_any_delimiter_and_number_format(samples: Path, tmp_path: Path, delimiter: str, numbers: str) -> None:
    rows = _rows(samples, "pos_sales_export_b.csv")
    if numbers == "comma":
        rows = [rows[0]] + [[*r[:5], r[5].replace(".", ","), r[6], r[7].replace(".", ",")] for r in rows[1:]]
    path = _write(tmp_path / "sales.txt", rows, delimiter)
    parsed = parse_pos_file(path, store_tz=TZ)
    original = parse_pos_file(samples / "pos_sales_export_b.csv", store_tz=TZ)
    assert parsed.layout_name == "export-b"
    assert [(x.quantity, x.amount) for x in parsed.lines] == [(x.quantity, x.amount) for x in original.lines]


def test_decimal_commas_are_never_read_as_thousands(samples: Path, tmp_path: Path) -> None:
    rows = _rows(samples, "pos_sales_export_a.csv")[:3]
    rows[1][7], rows[1][9] = "1,5", "$7,50"
    rows[2][7], rows[2][9] = "2", "$1.234,50"
    lines = parse_pos_file(_write(tmp_path / "eu.csv", rows), store_tz=TZ).lines
    assert [(x.quantity, x.amount) for x in lines] == [(Decimal("1.5"), Decimal("7.50")), (2, Decimal("1234.50"))]
    layout = PosLayout(
        "forced",
        "sig",
        {
            "receipt_number": "Transaction ID",
            "sold_at": "Transaction Date",
            "tag": "Package ID",
            "quantity": "Quantity",
            "amount": "Net Sales",
        },
        number_format=NumberFormat.POINT,
    )
    with pytest.raises(ImportFileError) as caught:
        parse_pos_file(_write(tmp_path / "eu.csv", rows), store_tz=TZ, layout=layout)
    message = str(caught.value)
    assert (
        "eu.csv, line 2, field 'Quantity': quantity '1,5' is ambiguous: it reads as a number only with a decimal ','"
    ) in message
    assert "line 2, field 'Net Sales': amount '$7,50' is ambiguous" in message


def test_a_value_against_the_files_own_format_is_refused(samples: Path, tmp_path: Path) -> None:
    rows = _rows(samples, "pos_sales_export_a.csv")
    rows[5][9] = "$7,50"  # the rest of the file writes $64.00
    with pytest.raises(ImportFileError) as caught:
        parse_pos_file(_write(tmp_path / "mixed.csv", rows), store_tz=TZ)
    assert [(p.line, p.field) for p in caught.value.problems] == [(6, "Net Sales")]
    assert "this file writes numbers as 1,234.56" in caught.value.problems[0].reason


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        (7, "1e15", "quantity '1e15' is far too large to be a real figure"),
        (7, "1e308", "quantity '1e308' is far too large to be a real figure"),
        (7, "NaN", "quantity 'NaN' is not a number"),
        (7, "inf", "quantity 'inf' is not a number"),
        (7, "-Infinity", "quantity '-Infinity' is not a number"),
        (7, "2000000", "quantity 2,000,000 is out of range: it must be less than 1,000,000 either way"),
        (7, "0.00001", "quantity 0.00001 has more than 4 decimal places"),
        (9, "$5,000,000.00", "amount 5,000,000 is out of range"),
        (1, "12/31/9999 11:59 PM", "sale time 9999-12-31 is far outside this store's records"),
        (1, "01/01/1900 10:00 AM", "sale time 1900-01-01 is far outside this store's records"),
    ],
)
def test_limits_say_line_and_field(samples: Path, tmp_path: Path, column: int, value: str, reason: str) -> None:
    rows = _rows(samples, "pos_sales_export_a.csv")[:3]
    rows[2][column] = value
    with pytest.raises(ImportFileError) as caught:
        parse_pos_file(_write(tmp_path / "limits.csv", rows), store_tz=TZ)
    assert [(p.line, p.field) for p in caught.value.problems] == [(3, rows[0][column])]
    assert reason in caught.value.problems[0].reason


def test_forms_refuse_a_decimal_comma_rather_than_guess() -> None:
    with pytest.raises(ValidationError, match="ambiguous"):
        parse_decimal("1,5", what="quantity")
    assert parse_decimal("1,234.5") == Decimal("1234.5") and parse_decimal("(4.00)") == Decimal("-4.00")
    assert detect_number_format(["1,234", "12", "", "-", "()"]) is None
    for blank in ("", "-", "$", "()"):
        with pytest.raises(ValidationError, match="empty"):
            parse_decimal(blank, what="quantity")
    assert detect_number_format(["7,50", "3,5", "1.5"]) is NumberFormat.COMMA


def test_count_sheets_and_manifests_read_the_files_number_format(samples: Path, tmp_path: Path) -> None:
    sheet = _write(tmp_path / "sheet.csv", [["Tag", "Quantity"], [TINCTURE, "1,5"], [TINCTURE[:-1] + "8", "2"]], ";")
    assert [line.quantity for line in parse_keyed_sheet(sheet).lines] == [Decimal("1.5"), Decimal(2)]
    huge = _write(tmp_path / "huge.csv", [["Tag", "Quantity"], [TINCTURE, "1e308"]])
    with pytest.raises(ImportFileError, match="huge.csv, line 2, field 'quantity': counted quantity '1e308' is far"):
        parse_keyed_sheet(huge)
    rows = _rows(samples, "metrc_incoming_transfer.csv")
    rows = [rows[0]] + [[*r[:7], r[7].replace(".", ","), r[8], r[9].replace(".", ","), *r[10:]] for r in rows[1:]]
    manifest = parse_manifest_file(_write(tmp_path / "manifest.csv", rows, ";"), store_tz=TZ)
    original = parse_manifest_file(samples / "metrc_incoming_transfer.csv", store_tz=TZ)
    assert any(x.shipped_quantity != int(x.shipped_quantity) for x in original.lines)  # 453,59 is 453.59
    assert [(x.shipped_quantity, x.wholesale_price) for x in manifest.lines] == [
        (x.shipped_quantity, x.wholesale_price) for x in original.lines
    ]


def test_a_text_file_with_nul_bytes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes(b"Tag,Quantity\r\n" + b"1\x00A\x004\x00")
    with pytest.raises(ImportFileError, match=r"utf16.csv, line 2: the file holds a NUL character"):
        read_csv_table(read_source(path))


def test_a_saved_layout_keeps_its_number_format() -> None:
    layout = PosLayout(
        "eu",
        "sig",
        {"receipt_number": "A", "sold_at": "B", "tag": "C", "quantity": "D", "amount": "E", "sold_time": "F"},
        number_format=NumberFormat.COMMA,
    )
    assert PosLayout.from_json("eu", "sig", layout.to_json()) == layout
    assert PosLayout.from_json("eu", "sig", replace(layout, number_format=None).to_json()).number_format is None


def test_guess_refuses_an_unknown_column(samples: Path, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="has no column 'Tip'"):
        guess_layout(str(_fourth(samples, tmp_path)), store_tz=TZ, columns={"amount": "Tip"})
