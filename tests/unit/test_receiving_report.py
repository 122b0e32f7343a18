"""The receiving report PDF, read back with pdftotext: header, every package with what was
shipped, received or rejected, who scanned and decided it and when, and the totals."""

from __future__ import annotations

import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from backoffice.db.engine import Database
from backoffice.domain.units import Unit
from backoffice.errors import UserError
from backoffice.exporters.receiving_report import export_receiving_report, totals
from backoffice.services import receiving
from backoffice.services.actor import Actor
from tests.conftest import make_users
from tests.unit.receiving_store import FLOWER, line, manifest, stock_store, tag

ROW = re.compile(r"^\s*\d+\s+(1A4[0-9A-Z]{21})\s")
pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is needed")


@pytest.fixture
def people(sqlite_db: Database) -> dict[str, Actor]:
    return make_users(sqlite_db)


@pytest.fixture(autouse=True)
def _app(qapp: object) -> None:
    """Painting needs the application pytest-qt makes (not one of its own in the same process)."""


def _text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _received(db: Database, actors: dict[str, Actor], samples: Path, *, extra: int = 0) -> int:
    stock_store(db, actors["admin"], samples)
    alex, maria = actors["alex"], actors["maria"]
    lines = [
        line(1),
        line(2, item=FLOWER, quantity="453.59", unit=Unit.GRAMS),
        line(3),
        *(line(10 + n) for n in range(extra)),
    ]
    manifest_id = receiving.import_manifest(db, alex, manifest("0009990001", *lines)).manifest_id
    receiving.scan(db, alex, manifest_id, tag(1))
    receiving.scan(db, alex, manifest_id, tag(2))
    receiving.set_received_quantity(db, alex, manifest_id, tag(2), "452.8", "scale shows 452.8 g")
    receiving.accept_scanned(db, alex, manifest_id)
    receiving.reject(db, maria, manifest_id, tag(3), "Damaged", "box crushed, driver told")
    for n in range(extra):
        receiving.reject(db, maria, manifest_id, tag(10 + n), "Not in the delivery", "missing")
    return manifest_id


def test_report_lists_every_package_with_who_and_when(
    sqlite_db: Database, people: dict[str, Actor], samples: Path, tmp_path: Path
) -> None:
    db = sqlite_db
    manifest_id = _received(db, people, samples)
    receiving.finish(db, people["alex"], manifest_id)
    result = export_receiving_report(db, people["alex"], manifest_id, tmp_path / "report.pdf")
    assert (result.pages, result.packages) == (1, 3)
    text = _text(result.path)
    assert "Receiving report — manifest 0009990001" in text and "RECEIVED" in text
    assert "Shipper: Kind Harvest Manufacturing LLC (license C11-0000123-LIC)" in text
    assert "Driver: R. Diaz" in text and "Received into Vault" in text
    lines = text.splitlines()  # a row is its line and the wrapped line below it
    rows = {found[1]: " ".join(lines[n : n + 2]) for n, ln in enumerate(lines) if (found := ROW.match(ln))}
    assert set(rows) == {tag(1), tag(2), tag(3)}
    assert "10" in rows[tag(1)].split() and "Accept" in rows[tag(1)] and "alex" in rows[tag(1)]
    assert "453.59" in rows[tag(2)] and "452.8" in rows[tag(2)] and "scale shows 452.8 g" in rows[tag(2)]
    assert "Reject" in rows[tag(3)] and "maria" in rows[tag(3)]
    assert "Damaged — box crushed," in rows[tag(3)] and "driver told" in rows[tag(3)]
    assert "Each: shipped 20, received 10, rejected 10 (as shipped)" in text
    assert "Grams: shipped 453.59, received 452.8, rejected 0 (as shipped)" in text
    assert "Key each into METRC" in text


def test_report_of_a_receiving_in_progress_runs_over_pages(
    sqlite_db: Database, people: dict[str, Actor], samples: Path, tmp_path: Path
) -> None:
    manifest_id = _received(sqlite_db, people, samples, extra=40)
    result = export_receiving_report(sqlite_db, people["alex"], manifest_id, tmp_path / "r.pdf")
    text = _text(result.path)
    assert result.pages > 1 and f"page {result.pages} of {result.pages}" in text
    assert "IN PROGRESS" in text and "0 of 43 packages not decided yet" in text
    assert text.count("Not in the delivery") == 40


def test_report_into_a_missing_folder_says_so(
    sqlite_db: Database, people: dict[str, Actor], samples: Path, tmp_path: Path
) -> None:
    manifest_id = _received(sqlite_db, people, samples)
    with pytest.raises(UserError, match="folder .*nowhere does not exist"):
        export_receiving_report(sqlite_db, people["alex"], manifest_id, tmp_path / "nowhere" / "r.pdf")
    assert not (tmp_path / "nowhere").exists()


def test_totals_per_unit(sqlite_db: Database, people: dict[str, Actor], samples: Path) -> None:
    view = receiving.get_manifest(sqlite_db, people["alex"], _received(sqlite_db, people, samples))
    assert totals(view) == [
        "Each: shipped 20, received 10, rejected 10 (as shipped)",
        "Grams: shipped 453.59, received 452.8, rejected 0 (as shipped)",
    ]
    assert view.lines[1].difference == Decimal("-0.79")
