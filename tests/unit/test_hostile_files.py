"""Spreadsheets and JSON that lie or overflow: read by their real content, within limits, and
every refusal names the file and where (the cell, the row, the place in the document)."""

from __future__ import annotations

import json
import time
import tracemalloc
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from backoffice.errors import ImportFileError
from backoffice.importers import json_file
from backoffice.importers.csv_common import read_source
from backoffice.importers.json_file import load_json
from backoffice.importers.manifest_file import parse_manifest_file
from backoffice.importers.pos_sales_file import parse_pos_file
from backoffice.importers.xlsx_table import read_xlsx_table

TZ = "America/Los_Angeles"
HEADERS = [
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
]
SALE = [
    "R1",
    "11/20/2026 09:43 AM",
    "1A4060300000000000000009",
    "SKU-1",
    "Tincture",
    "Kind",
    "Tincture",
    "2",
    "Each",
    "$64.00",
    "KT",
]
_WORKBOOK = (
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sales" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"'
    ' Target="worksheets/sheet1.xml"/></Relationships>'
)
_STYLES = (
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="2">'
    '<xf numFmtId="0"/><xf numFmtId="22"/></cellXfs></styleSheet>'
)


def _column(index: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[index]


def _cell(ref: str, value: object) -> str:
    if isinstance(value, str) and value.startswith("<"):  # raw cell XML
        return value.replace("REF", ref)
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def _xlsx(
    path: Path, rows: dict[int, list[object]], *, dimension: str = "A1:K3", shared: list[str] = (), extra_rows: str = ""
) -> Path:
    """A workbook written part by part, so it can say what a real one never would."""
    body = "".join(
        f'<row r="{n}">'
        + "".join(_cell(f"{_column(i)}{n}", v) for i, v in enumerate(cells) if v is not None)
        + "</row>"
        for n, cells in sorted(rows.items())
    )
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{body}{extra_rows}</sheetData></worksheet>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/workbook.xml", _WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", _RELS)
        book.writestr("xl/styles.xml", _STYLES)
        book.writestr("xl/worksheets/sheet1.xml", sheet)
        if shared:
            items = "".join(f"<si><t>{escape(s)}</t></si>" for s in shared)
            book.writestr(
                "xl/sharedStrings.xml",
                f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{items}</sst>',
            )
    return path


def test_a_sheet_claiming_a_million_rows_is_read_by_its_real_rows(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "claims.xlsx", {1: HEADERS, 2: SALE, 1_048_576: ["", ""]}, dimension="A1:XFD1048576")
    started = time.perf_counter()
    parsed = parse_pos_file(path, store_tz=TZ)
    assert time.perf_counter() - started < 10  # the bound promised for any workbook (it used to run for ever)
    assert [line.line for line in parsed.lines] == [2] and parsed.lines[0].amount == Decimal("64.00")


def test_real_rows_keep_their_row_numbers_and_types(tmp_path: Path) -> None:
    sold = (datetime(2026, 11, 20, 9, 43) - datetime(1899, 12, 30)).total_seconds() / 86_400
    rows = {
        1: HEADERS,
        3: [SALE[0], f'<c r="REF" s="1"><v>{sold}</v></c>', *SALE[2:7], 2, "Each", 64.5, "KT"],
        7: [*SALE[:2], 0, *SALE[3:]],
    }
    table = read_xlsx_table(read_source(_xlsx(tmp_path / "typed.xlsx", rows, shared=["unused"])))
    assert table is not None and [n for n, _ in table.rows] == [3, 7]
    first = table.rows[0][1]
    assert first[1] == datetime(2026, 11, 20, 9, 43) and first[7] == 2 and first[9] == 64.5


def test_an_over_long_cell_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    huge = "x" * 20_000_000
    path = _xlsx(
        tmp_path / "huge.xlsx", {1: HEADERS, 2: [*SALE[:4], '<c r="REF" t="s"><v>0</v></c>', *SALE[5:]]}, shared=[huge]
    )
    del huge
    tracemalloc.start()
    try:
        with pytest.raises(ImportFileError) as caught:
            parse_pos_file(path, store_tz=TZ)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(caught.value).startswith(
        "huge.xlsx, cell E2: 20,000,000 characters of text, more than a cell can hold (32,767)"
    )
    assert peak < 8_000_000  # the 20 MB of text is never held
    inline = _xlsx(tmp_path / "inline.xlsx", {1: HEADERS, 2: [*SALE[:4], "y" * 40_000, *SALE[5:]]})
    with pytest.raises(ImportFileError, match="inline.xlsx, cell E2: 40,000 characters"):
        parse_pos_file(inline, store_tz=TZ)


def test_a_formula_without_a_saved_value_is_refused_naming_the_cell(tmp_path: Path) -> None:
    blank = _xlsx(
        tmp_path / "formula.xlsx", {1: HEADERS, 2: [SALE[0], SALE[1], '<c r="REF"><f>B9&amp;"1"</f></c>', *SALE[3:]]}
    )
    with pytest.raises(
        ImportFileError,
        match=r"formula.xlsx, cell C2: a formula without a saved value; open the file "
        "in Excel and save it again",
    ):
        parse_pos_file(blank, store_tz=TZ)
    saved = _xlsx(tmp_path / "saved.xlsx", {1: HEADERS, 2: [*SALE[:7], '<c r="REF"><f>1+1</f><v>2</v></c>', *SALE[8:]]})
    assert parse_pos_file(saved, store_tz=TZ).lines[0].quantity == 2


def test_any_workbook_is_answered_within_the_time_limit(tmp_path: Path) -> None:
    many = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(2, 20_000))
    path = _xlsx(tmp_path / "slow.xlsx", {1: HEADERS}, extra_rows=many)
    with pytest.raises(ImportFileError, match=r"slow.xlsx: reading stopped at row [\d,]+ after"):
        read_xlsx_table(read_source(path), time_limit=0.0)


@pytest.mark.parametrize(
    ("part", "data", "words"),
    [
        ("xl/worksheets/sheet1.xml", "<worksheet><sheetData><row r='1'><c r='A1'", "not valid XML"),
        ("xl/workbook.xml", "<workbook/>", "without a readable first sheet"),
    ],
)
def test_a_damaged_workbook_says_so(tmp_path: Path, part: str, data: str, words: str) -> None:
    path = _xlsx(tmp_path / "damaged.xlsx", {1: HEADERS, 2: SALE})
    with zipfile.ZipFile(path) as book:
        parts = {name: book.read(name) for name in book.namelist()}
    parts[part] = data.encode()
    with zipfile.ZipFile(path, "w") as book:
        for name, content in parts.items():
            book.writestr(name, content)
    with pytest.raises(ImportFileError, match=f"damaged.xlsx.*{words}"):
        parse_pos_file(path, store_tz=TZ)


def test_json_depth_size_nul_and_length_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path) -> None:
    with pytest.raises(ImportFileError, match="deep.json nests its JSON deeper than 32 levels"):
        load_json("[" * 200_000 + "]" * 200_000, "deep.json")
    nested: object = {"Packages": []}
    for _ in range(40):
        nested = {"x": nested}
    with pytest.raises(ImportFileError, match=r"nested.json, at \$(\.x){32}: nested deeper than 32 levels"):
        load_json(json.dumps(nested), "nested.json")
    with pytest.raises(ImportFileError, match=r"nul.json, at \$\[0\]\.Label: the text holds a NUL character"):
        load_json(json.dumps([{"Label": "1A4\u0000"}]), "nul.json")
    with pytest.raises(ImportFileError, match=r"long.json, at \$\.Note: 40,000 characters of text"):
        load_json(json.dumps({"Note": "n" * 40_000}), "long.json")
    monkeypatch.setattr(json_file, "MAX_BYTES", 1000)
    with pytest.raises(ImportFileError, match="big.json is 0 MB of JSON"):
        load_json(" " * 2000, "big.json")
    monkeypatch.undo()
    deep_file = tmp_path / "manifest.json"
    deep_file.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ImportFileError, match="manifest.json nests its JSON deeper"):
        parse_manifest_file(deep_file, store_tz=TZ)
    assert load_json((samples / "metrc_incoming_transfer.json").read_text(), "ok")["ManifestNumber"]
