"""Count lists show each package's bin, so a counter walks to it."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import Package
from backoffice.exporters.count_sheet import write_sheet_csv
from backoffice.services import counts, metrc_packages_import
from backoffice.services.actor import Actor


def test_count_sheet_and_variance_lines_carry_the_bin(
    db: Database, actors: dict[str, Actor], samples: Path, tmp_path: Path
) -> None:
    metrc_packages_import.import_file(db, actors["admin"], samples / "metrc_packages_active.json")
    with db.transaction() as session:
        pkg = session.scalar(select(Package).where(Package.location.has(name="Vault")).order_by(Package.id))
        pkg.bin = "V-TIN-28"
        tag, category = pkg.tag, pkg.item.category
    count = counts.start_count(db, actors["alex"], "bins", counts.Scope(categories=(category,)))
    _, lines = counts.sheet_lines(db, actors["alex"], count.id)
    assert next(ln for ln in lines if ln.tag == tag).bin == "V-TIN-28"
    write_sheet_csv(tmp_path / "sheet.csv", lines)
    with open(tmp_path / "sheet.csv", encoding="utf-8") as handle:
        rows = {row["Tag"]: row for row in csv.DictReader(handle)}
    assert rows[tag]["Location"] == "Vault · V-TIN-28"
    line = next(ln for ln in counts.variance_lines(db, actors["maria"], count.id) if ln.tag == tag)
    assert line.bin == "V-TIN-28" and line.location == "Vault"
