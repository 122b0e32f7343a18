from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from backoffice.domain.enums import LabState
from backoffice.domain.units import Unit
from backoffice.errors import ImportFileError
from backoffice.importers.manifest_file import ParsedManifest, parse_manifest_file, parse_manifest_json

TZ = "America/Los_Angeles"


def _parse(path: Path) -> ParsedManifest:
    return parse_manifest_file(path, store_tz=TZ)


def _error(path: Path) -> str:
    with pytest.raises(ImportFileError) as caught:
        _parse(path)
    return str(caught.value)


def _csv_lines(samples: Path) -> list[str]:
    return (samples / "metrc_incoming_transfer.csv").read_text(encoding="utf-8-sig").splitlines()


def _write_csv(tmp_path: Path, lines: list[str], *, bom: bool = False, crlf: bool = False) -> Path:
    text = ("\r\n" if crlf else "\n").join(lines) + "\n"
    path = tmp_path / "manifest.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def _transfer(samples: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((samples / "metrc_incoming_transfer.json").read_text())
    return data


def _write_json(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data, indent=1))
    return path


def test_sample_json_gives_manifest_and_every_package(samples: Path) -> None:
    manifest = _parse(samples / "metrc_incoming_transfer.json")
    raw = _transfer(samples)
    assert manifest.manifest_number == "0004412217"
    assert (manifest.transfer_id, manifest.delivery_id) == (88001, 99001)
    assert (manifest.shipper_name, manifest.shipper_license) == ("Verde Labs Distribution", "C11-0000456-LIC")
    assert manifest.transporter_license == "C11-0000456-LIC"
    assert manifest.driver_name == "J. Alvarez"
    assert manifest.vehicle == "Ford Transit (plate 8ABC123)"
    assert (manifest.recipient_name, manifest.recipient_license) == ("Green Door Dispensary", "C10-0000789-LIC")
    assert manifest.estimated_arrival is not None and manifest.estimated_departure is not None
    assert manifest.estimated_arrival.utcoffset() == timedelta(hours=-8)
    assert manifest.estimated_arrival - manifest.estimated_departure == timedelta(hours=4, minutes=30)
    assert len(manifest.lines) == len(raw["Packages"]) == 14
    assert manifest.source_sha256 and len(manifest.source_sha256) == 64
    flower = manifest.lines[3]
    assert flower.line == 4
    assert flower.tag == "1A4060300000000000005004"
    assert flower.shipped_quantity == Decimal("453.59") and flower.unit is Unit.GRAMS
    assert flower.wholesale_price == Decimal("3265.85")
    assert flower.lab_state is LabState.TEST_PASSED
    assert (flower.production_batch, flower.package_state) == ("PB-8467", "Shipped")
    assert (flower.item_name, flower.category, flower.strain) == (
        "Verde Labs Granddaddy Purple Flower",
        "Buds",
        "Granddaddy Purple",
    )


def test_sample_csv_gives_the_same_packages_as_the_json(samples: Path) -> None:
    from_json = _parse(samples / "metrc_incoming_transfer.json")
    from_csv = _parse(samples / "metrc_incoming_transfer.csv")
    assert from_csv.manifest_number == from_json.manifest_number
    assert (from_csv.shipper_name, from_csv.shipper_license) == (from_json.shipper_name, from_json.shipper_license)
    assert [line.line for line in from_csv.lines] == list(range(2, 16))  # line 1 is the header

    def comparable(m: ParsedManifest) -> list[object]:  # the CSV has no batch or package-state column
        return [replace(x, line=0, production_batch=None, package_state=None) for x in m.lines]

    assert comparable(from_csv) == comparable(from_json)


def test_json_list_of_one_transfer_is_accepted(samples: Path, tmp_path: Path) -> None:
    manifest = _parse(_write_json(tmp_path, [_transfer(samples)]))
    assert manifest.manifest_number == "0004412217" and len(manifest.lines) == 14


def test_json_payload_from_the_connector_has_no_file_hash(samples: Path) -> None:
    manifest = parse_manifest_json(_transfer(samples), "METRC", store_tz=TZ)
    assert manifest.source_sha256 is None and len(manifest.lines) == 14


def test_json_list_of_two_transfers_is_refused(samples: Path, tmp_path: Path) -> None:
    assert "holds 2 transfers" in _error(_write_json(tmp_path, [_transfer(samples)] * 2))


def test_bad_json_reports_the_parsers_line(samples: Path, tmp_path: Path) -> None:
    text = json.dumps(_transfer(samples), indent=1).splitlines()
    text[6] = text[6].rstrip(",")  # drop a comma on line 7
    path = tmp_path / "broken.json"
    path.write_text("\n".join(text))
    message = _error(path)
    assert "broken.json is not valid JSON" in message and "line 8" in message


def test_json_package_problems_name_the_package_and_field(samples: Path, tmp_path: Path) -> None:
    data = _transfer(samples)
    data["Packages"][1]["ShippedQuantity"] = -5
    data["Packages"][2]["PackageLabel"] = "1A40603000000000005003"  # 22 characters
    data["Packages"][4]["ShippedUnitOfMeasureName"] = "Bushels"
    data["Packages"][6]["PackageLabel"] = data["Packages"][5]["PackageLabel"]
    with pytest.raises(ImportFileError) as caught:
        _parse(_write_json(tmp_path, data))
    message = str(caught.value)
    assert "manifest.json, line 2, field 'ShippedQuantity': shipped quantity -5 must be more than zero" in message
    assert (
        "line 3, field 'PackageLabel': '1A40603000000000005003' is not a METRC tag: a METRC tag has 24 characters"
    ) in message
    assert "line 5, field 'ShippedUnitOfMeasureName': unknown unit of measure 'Bushels'" in message
    assert "line 7, field 'PackageLabel': tag 1A4060300000000000005006 appears twice: packages 6 and 7" in message
    assert len(caught.value.problems) == 4


def test_json_transfer_fields_are_checked(samples: Path, tmp_path: Path) -> None:
    data = _transfer(samples)
    del data["ManifestNumber"]
    data["EstimatedArrivalDateTime"] = "tomorrow afternoon"
    message = _error(_write_json(tmp_path, data))
    assert "field 'ManifestNumber': missing" in message
    assert "field 'EstimatedArrivalDateTime'" in message


def test_naive_json_times_are_read_in_the_store_zone(samples: Path, tmp_path: Path) -> None:
    data = _transfer(samples)
    data["EstimatedArrivalDateTime"] = "2026-11-20T13:30:00"
    manifest = parse_manifest_file(_write_json(tmp_path, data), store_tz="America/New_York")
    assert manifest.estimated_arrival is not None
    assert manifest.estimated_arrival.utcoffset() == timedelta(hours=-5)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ([{"Id": 1, "ReceiptNumber": "R1", "Transactions": []}], "holds METRC sales receipts"),
        ([{"Label": "1A4060300000000000000001", "Quantity": 1}], "holds METRC packages"),
        ({"ManifestNumber": "0004412217"}, "without its delivery's package list"),
    ],
)
def test_json_of_another_kind_is_named(payload: object, expected: str, tmp_path: Path) -> None:
    assert expected in _error(_write_json(tmp_path, payload))


def test_csv_missing_columns_are_listed(samples: Path, tmp_path: Path) -> None:
    rows = [line.split(",") for line in _csv_lines(samples)]
    keep = [i for i, name in enumerate(rows[0]) if name not in ("Shipped Qty", "UoM")]
    with pytest.raises(ImportFileError) as caught:
        _parse(_write_csv(tmp_path, [",".join(row[i] for i in keep) for row in rows]))
    assert "lacks the column(s) Shipped Qty, UoM" in str(caught.value)
    assert [(p.line, p.field) for p in caught.value.problems] == [(1, "Shipped Qty"), (1, "UoM")]


def test_csv_bad_cells_are_all_reported_with_line_and_column(samples: Path, tmp_path: Path) -> None:
    lines = _csv_lines(samples)
    lines[2] = lines[2].replace("1A4060300000000000005002", "1a4060300000000000005002")
    lines[3] = lines[3].replace(",10,Each,", ",ten,Each,")
    lines[4] = lines[4].replace(",453.59,Grams,", ",-453.59,Grams,")
    lines[5] = lines[5].replace(",20,Each,", ",20,Bales,")
    lines[9] = lines[9].replace("1A4060300000000000005009", "1A4060300000000000005001")
    with pytest.raises(ImportFileError) as caught:
        _parse(_write_csv(tmp_path, lines))
    message = str(caught.value)
    assert "nothing was imported" in message
    assert (
        "manifest.csv, line 3, field 'Package': '1a4060300000000000005002' is not a METRC tag: "
        "a METRC tag is upper-case"
    ) in message
    assert "line 4, field 'Shipped Qty': shipped quantity 'ten' is not a number" in message
    assert "line 5, field 'Shipped Qty': shipped quantity -453.59 must be more than zero" in message
    assert "line 6, field 'UoM': unknown unit of measure 'Bales'" in message
    assert "line 10, field 'Package': tag 1A4060300000000000005001 appears twice: lines 2 and 10" in message


def test_csv_mixed_manifest_numbers_are_refused(samples: Path, tmp_path: Path) -> None:
    lines = _csv_lines(samples)
    lines[7] = lines[7].replace("0004412217", "0004412299", 1)
    message = _error(_write_csv(tmp_path, lines))
    assert (
        "line 8, field 'Manifest': manifest 0004412299 differs from manifest 0004412217 on line 2; "
        "a file must hold one manifest"
    ) in message


def test_csv_with_bom_crlf_quoted_commas_and_loose_headers(samples: Path, tmp_path: Path) -> None:
    lines = _csv_lines(samples)
    lines[0] = (
        "MANIFEST, shipper_license ,Shipper,package label,Item,CATEGORY,strain,Shipped  Quantity,uom,"
        "wholesale price,Lab Testing"
    )
    lines[1] = lines[1].replace(
        "Kind Harvest GMO Cookies Live Resin Cart 1g", '"Kind Harvest, GMO Cookies ""Live"" Cart 1g"'
    )
    manifest = _parse(_write_csv(tmp_path, lines, bom=True, crlf=True))
    assert len(manifest.lines) == 14
    assert manifest.lines[0].item_name == 'Kind Harvest, GMO Cookies "Live" Cart 1g'
    assert manifest.lines[0].tag == "1A4060300000000000005001"  # no BOM or CR left on any cell
    assert manifest.lines[-1].lab_state is LabState.TEST_PASSED


def test_csv_quoted_cell_spanning_lines_keeps_later_line_numbers(samples: Path, tmp_path: Path) -> None:
    lines = _csv_lines(samples)
    lines[1] = lines[1].replace("Kind Harvest GMO Cookies Live Resin Cart 1g", '"Kind Harvest\nGMO Cookies Cart"')
    lines[2] = lines[2].replace(",24,Each,", ",x,Each,")
    message = _error(_write_csv(tmp_path, lines))
    assert "line 4, field 'Shipped Qty'" in message  # the header is line 1, the two-line row lines 2-3


def test_csv_unquoted_comma_is_caught(samples: Path, tmp_path: Path) -> None:
    lines = _csv_lines(samples)
    lines[4] = lines[4].replace("Verde Labs Granddaddy Purple Flower", "Verde Labs, Granddaddy Purple Flower")
    message = _error(_write_csv(tmp_path, lines))
    assert "line 5: the row has 12 values but the header has 11 columns" in message


def test_csv_manifest_number_gets_back_leading_zeros(samples: Path, tmp_path: Path) -> None:
    lines = [line.replace("0004412217,", "4412217,", 1) for line in _csv_lines(samples)]
    assert _parse(_write_csv(tmp_path, lines)).manifest_number == "0004412217"


def test_empty_and_header_only_csv(samples: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\xef\xbb\xbf\r\n")
    assert _error(empty) == "empty.csv is empty."
    assert "no package lines" in _error(_write_csv(tmp_path, _csv_lines(samples)[:1]))
