"""The POS inventory export parser: columns by header, every bad row named, nothing half-read."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from backoffice.domain.units import Unit
from backoffice.errors import ImportFileError
from backoffice.importers import pos_inventory_file

TAG = "1A4060300000000000000002"


def _write(tmp_path: Path, text: str, name: str = "inventory.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_headers_in_any_spelling_bom_crlf_and_quoted_thousands(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '\ufeffMETRC Tag,Product Name,"Qty On Hand",UOM,Room\r\n'
        f'{TAG},"Gummies, 10 mg","1,200",ea,Vault\r\n'
        "1A4060300000000000000008,Flower,113.4,g,Vault\r\n\r\n",
    )
    records = pos_inventory_file.parse(path)
    assert [(r.line, r.tag, r.quantity, r.unit, r.product, r.room) for r in records] == [
        (2, TAG, Decimal(1200), Unit.EACH, "Gummies, 10 mg", "Vault"),
        (3, "1A4060300000000000000008", Decimal("113.4"), Unit.GRAMS, "Flower", "Vault"),
    ]


def test_every_bad_row_is_reported_with_line_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, f"package_id,available,unit\n{TAG},-1,ea\nshort,2,ea\n{TAG},3,bushels\n{TAG},4,ea,extra\n")
    with pytest.raises(ImportFileError) as error:
        pos_inventory_file.parse(path)
    text = str(error.value)
    assert "inventory.csv, line 2, field 'available': quantity on hand -1 is negative" in text
    assert "line 3, field 'package_id'" in text and "line 4, field 'unit': unknown unit" in text
    assert "line 5: the row has 4 values but the header has 3 columns" in text
    assert "nothing was imported" in text


def test_duplicate_tags_and_missing_columns(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match=f"line 3, field 'Tag': tag {TAG} is also on line 2"):
        pos_inventory_file.parse(_write(tmp_path, f"Tag,Quantity\n{TAG},1\n{TAG},2\n"))
    with pytest.raises(ImportFileError, match="lacks the column.*Quantity On Hand"):
        pos_inventory_file.parse(_write(tmp_path, f"Tag,Price\n{TAG},1\n"))
    with pytest.raises(ImportFileError, match="is empty"):
        pos_inventory_file.parse(_write(tmp_path, ""))
    with pytest.raises(ImportFileError, match="not a CSV file"):
        pos_inventory_file.parse(_write(tmp_path, "PK\x03\x04rest", "inventory.xlsx"))


def test_a_decimal_comma_export_reads_1_5_as_one_and_a_half(tmp_path: Path) -> None:
    path = _write(tmp_path, f"Tag;Quantity;Unit\n{TAG};1,5;g\n1A4060300000000000000008;1.234,5;g\n")
    assert [r.quantity for r in pos_inventory_file.parse(path)] == [Decimal("1.5"), Decimal("1234.5")]
