"""The printed count sheet: rendered to PDF and read back with poppler (page count, every tag),
and its CSV twin keyed in and imported."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest

from backoffice.db.engine import Database
from backoffice.errors import UserError
from backoffice.exporters import count_sheet
from backoffice.services import counts, metrc_packages_import
from backoffice.services.actor import Actor
from backoffice.services.counts import LineStatus, Scope

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)")


@pytest.fixture(autouse=True)
def _app(qapp: object) -> None:
    """Painting needs the application pytest-qt makes (not one of its own in the same process)."""


@pytest.fixture
def store(sqlite_db: Database, samples: Path) -> tuple[Database, dict[str, Actor]]:
    from tests.conftest import make_users

    actors = make_users(sqlite_db)
    metrc_packages_import.import_file(sqlite_db, actors["admin"], samples / "metrc_packages_active.json")
    return sqlite_db, actors


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def test_sheet_lists_every_tag_on_the_pages_it_says(store: tuple[Database, dict[str, Actor]], tmp_path: Path) -> None:
    db, actors = store
    info = counts.start_count(db, actors["alex"], "Whole store", Scope(), blind=False)
    result = count_sheet.export_count_sheet(db, actors["alex"], info.id, tmp_path / "sheet.pdf")
    assert result.lines == 120 and result.pages == _pages(tmp_path / "sheet.pdf") == 6
    text = _text(tmp_path / "sheet.pdf")
    _, lines = counts.sheet_lines(db, actors["alex"], info.id)
    assert all(line.tag in text for line in lines)
    assert f"Count #{info.id} · page 6 of 6" in text and "Expected" in text
    assert "Found, not on this sheet" in text
    assert not list(tmp_path.glob(".*part"))  # the temp file was moved into place


def test_blind_sheet_prints_no_expected_quantities(store: tuple[Database, dict[str, Actor]], tmp_path: Path) -> None:
    db, actors = store
    info = counts.start_count(db, actors["alex"], "Gummies", Scope(categories=("Edible (weight - each)",)))
    result = count_sheet.export_count_sheet(db, actors["alex"], info.id, tmp_path / "blind.pdf")
    text = _text(tmp_path / "blind.pdf")
    assert result.pages == 1 and "Blind count" in text and "Expected" not in text
    assert "1A4060300000000000000002" in text and "1A4060300000000000000001" not in text  # tincture: out of scope


def test_sheet_csv_keyed_in_and_imported(store: tuple[Database, dict[str, Actor]], tmp_path: Path) -> None:
    db, actors = store
    info = counts.start_count(db, actors["alex"], "Gummies", Scope(categories=("Edible (weight - each)",)))
    count_sheet.export_count_sheet(db, actors["alex"], info.id, tmp_path / "sheet.csv")
    with (tmp_path / "sheet.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["Quantity"] = "7"
    rows[0]["Quantity"] = ""
    with (tmp_path / "keyed.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    imported = counts.import_sheet(db, actors["alex"], info.id, tmp_path / "keyed.csv")
    assert (imported.recorded, imported.blank) == (len(rows) - 1, 1)
    statuses = {ln.tag: ln.status for ln in counts.variance_lines(db, actors["alex"], info.id)}
    assert statuses[rows[0]["Tag"]] is LineStatus.NOT_COUNTED
    assert all(statuses[r["Tag"]] is LineStatus.COUNTED for r in rows[1:])


def test_missing_folder_is_a_user_error(store: tuple[Database, dict[str, Actor]], tmp_path: Path) -> None:
    db, actors = store
    info = counts.start_count(db, actors["alex"], "Gummies", Scope())
    with pytest.raises(UserError, match="does not exist"):
        count_sheet.export_count_sheet(db, actors["alex"], info.id, tmp_path / "nope" / "sheet.pdf")
