"""Manual mode: METRC upload CSVs for location changes and adjustments, read back exactly."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from backoffice.domain.units import Unit
from backoffice.errors import ImportFileError, ValidationError
from backoffice.metrc.csv_export import (
    read_adjustments,
    read_location_changes,
    write_adjustments,
    write_location_changes,
)
from backoffice.metrc.payloads import LocationChange, PackageAdjustment

TAG_A = "1A4060300000000000000001"
TAG_B = "1A4060300000000000000054"
DAY = date(2026, 11, 21)

MOVES = [LocationChange(TAG_A, "Sales Floor", DAY), LocationChange(TAG_B, "Vault, Shelf 3", DAY)]
ADJUSTMENTS = [
    PackageAdjustment(TAG_A, Decimal("-2"), Unit.EACH, "Damage", DAY),
    PackageAdjustment(TAG_B, Decimal("-0.1250"), Unit.GRAMS, "Theft", DAY, 'Case 44, "back door"\nsee report'),
    PackageAdjustment(TAG_B, Decimal("1.5"), Unit.GRAMS, "Scale Variance", DAY),
]


def test_location_changes_file_is_exactly_this(tmp_path: Path) -> None:
    path = tmp_path / "locations.csv"
    assert write_location_changes(path, MOVES) == 2
    assert path.read_bytes() == (
        b"Label,Location,MoveDate\r\n"
        b"1A4060300000000000000001,Sales Floor,2026-11-21\r\n"
        b'1A4060300000000000000054,"Vault, Shelf 3",2026-11-21\r\n'
    )
    assert read_location_changes(path) == MOVES


def test_adjustments_round_trip_with_exact_quantities(tmp_path: Path) -> None:
    path = tmp_path / "adjustments.csv"
    assert write_adjustments(path, ADJUSTMENTS) == 3
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    assert lines[0] == "Label,Quantity,UnitOfMeasure,AdjustmentReason,AdjustmentDate,ReasonNote"
    assert lines[1] == "1A4060300000000000000001,-2,Each,Damage,2026-11-21,"
    back = read_adjustments(path)
    assert back == ADJUSTMENTS
    assert str(back[1].quantity) == "-0.1250"  # trailing zero kept: the file says what was counted


def test_outbox_payload_dicts_and_no_header(tmp_path: Path) -> None:
    # Outbox payloads are canonical JSON: Decimals and dates as strings.
    payload = [{"Label": TAG_A, "Location": "Sales Floor", "MoveDate": "2026-11-21"}]
    stream = io.StringIO(newline="")
    write_location_changes(stream, payload, header=False)
    assert stream.getvalue() == "1A4060300000000000000001,Sales Floor,2026-11-21\r\n"
    stream.seek(0)
    assert read_location_changes(stream) == [MOVES[0]]

    adjust = [
        {
            "Label": TAG_B,
            "Quantity": "-0.50",
            "UnitOfMeasure": "Grams",
            "AdjustmentReason": "Waste",
            "AdjustmentDate": "2026-11-21",
            "ReasonNote": None,
        }
    ]
    path = tmp_path / "adjust.csv"
    write_adjustments(path, adjust, header=False)
    assert path.read_bytes() == b"1A4060300000000000000054,-0.50,Grams,Waste,2026-11-21,\r\n"


def test_a_bad_element_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "adjust.csv"
    bad = {
        "Label": "1A40603",
        "Quantity": "-1",
        "UnitOfMeasure": "Each",
        "AdjustmentReason": "Damage",
        "AdjustmentDate": "2026-11-21",
    }
    with pytest.raises(ValidationError, match="not a METRC tag"):
        write_adjustments(path, [ADJUSTMENTS[0], bad])
    assert not path.exists()
    with pytest.raises(ValidationError, match="METRC allows 200"):
        write_adjustments(path, [PackageAdjustment(TAG_A, Decimal(-1), Unit.EACH, "Other", DAY, "x" * 201)])


def test_reading_a_broken_file_says_where(tmp_path: Path) -> None:
    path = tmp_path / "adjust.csv"
    path.write_text(
        "Label,Quantity,UnitOfMeasure,AdjustmentReason,AdjustmentDate,ReasonNote\r\n"
        "1A4060300000000000000001,-1,Each,Damage,2026-11-21,\r\n"
        "1A4060300000000000000001,lots,Each,Damage,2026-11-21,\r\n"
        "1A4060300000000000000001,-1,Each\r\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportFileError) as caught:
        read_adjustments(path)
    message = str(caught.value)
    assert "adjust.csv, line 3: Quantity 'lots' is not a number" in message
    assert "adjust.csv, line 4: expected 6 columns, found 3" in message
