"""The reconciliation workbook read back (typed cells, frozen filtered header, text from files
never a formula) and the ``backoffice`` commands: import pos-sales / metrc-sales, reconcile."""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from backoffice.cli.main import main
from backoffice.db.engine import Database
from backoffice.exporters.reconciliation_workbook import write_reconciliation_workbook
from backoffice.services import reconciliation, sales_import
from backoffice.services.actor import SYSTEM, Actor
from backoffice.services.reconciliation import Resolution
from tests.unit.cli_signin import new_store, signin
from tests.unit.test_sales_import import DAY, rows_of, store, write_csv  # noqa: F401 — `store` is a fixture


def _no_formulas(path: Path) -> None:
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert not re.search(rb"<f[ >]", z.read(name)), name


def test_workbook_has_the_summary_and_every_finding_typed_and_formula_safe(
    store: tuple[Database, Actor], samples: Path, tmp_path: Path
) -> None:
    db, alex = store
    rows = rows_of(samples, "pos_sales_export_b.csv")
    rows[1][0] = rows[2][0] = '=HYPERLINK("http://x","1")'  # a hostile receipt number METRC never saw
    sales_import.import_pos_file(db, alex, write_csv(tmp_path / "pos.csv", rows))
    sales_import.import_metrc_file(db, alex, samples / "metrc_sales_receipts.json")
    view = reconciliation.reconcile_day(db, alex, DAY)
    hostile = next(f for f in view.findings if f.receipt_number.startswith("="))
    reconciliation.resolve(db, alex, hostile.id, Resolution.EXPLAINED, "-1 tincture: rang up twice, voided")
    view = reconciliation.day_view(db, SYSTEM, DAY)

    result = write_reconciliation_workbook(view, tmp_path / "day.xlsx")

    assert result.sheets == ["Cover", "Findings"] and result.rows == len(view.findings) > 0
    book = openpyxl.load_workbook(tmp_path / "day.xlsx")
    cover = {r[0].value: r[1].value for r in book["Cover"].iter_rows(min_row=4, max_col=2) if r[0].value}
    assert cover["Business day"] == datetime(2026, 11, 20) and cover["POS sale lines"] == 76
    assert cover["Findings this day"] == len(view.findings) and cover["Resolved this day"] == 1
    sheet = book["Findings"]
    assert sheet.freeze_panes == "D2" and sheet.auto_filter.ref == f"A1:R{len(view.findings) + 1}"
    header = [c.value for c in sheet[1]]
    by_receipt = {
        r[header.index("Receipt")].value: {h: c for h, c in zip(header, r, strict=True)}
        for r in sheet.iter_rows(min_row=2)
    }
    row = by_receipt[hostile.receipt_number]
    assert (row["Receipt"].data_type, bool(row["Receipt"].quotePrefix)) == ("s", True)
    assert (row["Note"].value, row["Note"].data_type, bool(row["Note"].quotePrefix)) == (
        "-1 tincture: rang up twice, voided",
        "s",
        True,
    )
    assert row["Business day"].value == datetime(2026, 11, 20) and row["Resolution"].value == "Mark as explained"
    over = by_receipt["R1120-0039"]
    assert (over["POS qty"].value, over["METRC qty"].value, over["POS amount"].value) == (1, 2, 37)
    assert over["POS amount"].number_format.startswith('"$"') and not over["Receipt"].quotePrefix
    _no_formulas(tmp_path / "day.xlsx")


@pytest.fixture
def cli(tmp_path: Path, samples: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    db = ["--db", f"sqlite:///{tmp_path / 'cli.sqlite'}"]
    new_store(monkeypatch, db, "alex")
    assert (
        main(
            [
                *db,
                *signin(monkeypatch, "admin"),
                "import",
                "metrc-packages",
                str(samples / "metrc_packages_active.json"),
            ]
        )
        == 0
    )
    return [*db, *signin(monkeypatch, "alex")]  # alex's PIN stays in the environment for the test


def test_import_and_reconcile_from_the_command_line(
    cli: list[str], samples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main([*cli, "import", "pos-sales", str(samples / "pos_sales_export_a.csv")]) == 0
    assert capsys.readouterr().out == "pos_sales_export_a.csv (export-a): 76 sale lines imported for 2026-11-20.\n"
    assert main([*cli, "import", "pos-sales", str(samples / "pos_sales_export_b.csv"), "--layout", "export-b"]) == 0
    assert "0 sale lines imported, 76 already imported" in capsys.readouterr().out
    assert main([*cli, "import", "metrc-sales", str(samples / "metrc_sales_receipts.json")]) == 0
    assert "39 METRC receipts for 2026-11-20 — 39 new" in capsys.readouterr().out

    assert main([*cli, "reconcile", "--date", "2026-11-20", "--out", str(tmp_path / "day.xlsx")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("2026-11-20: POS 40 receipts / 76 lines ($2,208.00), METRC 39 receipts / 75 lines")
    assert out[1] == "this run: 2 new finding(s), 0 no longer found"
    assert out[2] == "#1 Sale missing in METRC · open · receipt R1120-0019 · 1A4060300000000000000096"
    assert out[4] == "#2 Quantity differs · open · receipt R1120-0039 · 1A4060300000000000000087"
    assert out[-1] == f"wrote {tmp_path / 'day.xlsx'} (2 findings)"
    assert main([*cli, "reconcile", "--date", "2026-11-21"]) == 0  # a later day shows what is still open
    assert "[from 2026-11-20]" in capsys.readouterr().out


def test_command_line_errors_exit_1_with_the_reason(
    cli: list[str], samples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main([*cli, "import", "pos-sales", str(samples / "metrc_incoming_transfer.csv")]) == 1
    assert "is a METRC manifest (incoming transfer), not POS sales" in capsys.readouterr().err
    assert main([*cli, "import", "pos-sales", str(samples / "pos_sales_export_a.csv"), "--layout", "acme"]) == 1
    assert "there is no POS export layout 'acme'" in capsys.readouterr().err
    assert main([*cli, "import", "metrc-sales", str(samples / "pos_sales_export_a.csv")]) == 1
    assert "lacks the column(s)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main([*cli, "reconcile", "--date", "20/11/2026"])
    assert usage.value.code == 2 and "write it as YYYY-MM-DD" in capsys.readouterr().err
