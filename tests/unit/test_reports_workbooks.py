"""The velocity and accuracy workbooks re-read with openpyxl and pandas: sheets, typed cells and
their formats, frozen headers, filters, charts; formula injection through imported names and
notes; cancel and save errors leave no file; and the report CLI."""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from backoffice.cli.main import main
from backoffice.db.engine import Database
from backoffice.errors import UserError, ValidationError
from backoffice.exporters.accuracy_workbook import write_accuracy_workbook
from backoffice.exporters.velocity_workbook import write_velocity_workbook
from backoffice.exporters.xlsx_common import Kind
from backoffice.services.actor import Actor
from backoffice.services.reports import accuracy_report, velocity_report
from backoffice.services.reports.velocity import VelocityReport
from tests.conftest import make_users
from tests.unit import reports_dataset as ds
from tests.unit.cli_signin import signin


@pytest.fixture
def store(sqlite_db: Database) -> tuple[Database, dict[str, Actor]]:
    actors = make_users(sqlite_db)
    ds.build_tiny_store(sqlite_db, actors)
    return sqlite_db, actors


@pytest.fixture
def velocity(store: tuple[Database, dict[str, Actor]]) -> VelocityReport:
    db, actors = store
    return velocity_report(db, actors["pat"], weeks=4, through=ds.THROUGH)


def _header(sheet) -> list[object]:  # type: ignore[no-untyped-def]
    return [c.value for c in sheet[1]]


def _row_of(sheet, sku: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """A data row's cells by header."""
    header = _header(sheet)
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == sku)
    return dict(zip(header, row, strict=True))


def _no_formulas(path: Path) -> None:
    """Not one formula anywhere: every cell holds a value."""
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert not re.search(rb"<f[ >]", z.read(name)), name


def test_velocity_workbook_reads_back_typed_formatted_and_frozen(velocity: VelocityReport, tmp_path: Path) -> None:
    out = tmp_path / "velocity.xlsx"
    result = write_velocity_workbook(velocity, out)
    assert result.path == out and not result.cancelled
    assert result.sheets == ["Cover", "Summary", "Weekly", "Categories", "Brands"]
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == result.sheets

    cover = book["Cover"]
    facts = {r[0].value: r[1] for r in cover.iter_rows(min_row=4, max_row=25) if r[0].value}
    assert facts["Store"].value == "Green Door Dispensary"
    assert facts["Window starts"].value == datetime(2026, 3, 4) and facts["Window starts"].number_format == "yyyy-mm-dd"
    assert facts["Window ends (last business day)"].value == datetime(2026, 3, 31)
    assert isinstance(facts["Generated at"].value, datetime)
    assert facts["Filter: Category"].value == "All" and facts["SKUs in this report"].value == 4
    assert facts["Target days of supply"].value == 21 and facts["SKUs to reorder"].value == 2

    summary = book["Summary"]
    assert summary.freeze_panes == "C2"
    assert summary.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(summary.max_column)}5"
    assert summary.column_dimensions["B"].width == pytest.approx(40, abs=1)
    a = _row_of(summary, "SKU-A")
    assert a["Product"].value == "Kind Gummies 10mg x10" and a["Product"].data_type == "s"
    assert "Units 4 wk" not in _header(summary)  # a 4-week window is the 28-day column
    for header, value in (
        ("Vault", 2),
        ("On hand", 3),
        ("Units 28 days", 8),
        ("Units previous 4 wk", 4),
        ("Suggested reorder", 5),
        ("Rank in category", 2),
        ("Lead time (days)", 5),
    ):
        assert a[header].value == value and a[header].data_type == "n", header
    assert a["Price"].value == 20 and a["Price"].number_format == Kind.MONEY.value
    assert a["Revenue 91 days"].value == 280 and a["Revenue 91 days"].number_format == Kind.MONEY.value
    assert a["Trend vs previous"].value == 1 and a["Trend vs previous"].number_format == Kind.CHANGE.value
    assert a["Share of category units"].value == pytest.approx(0.3636)
    assert a["Share of category units"].number_format == Kind.PERCENT.value
    assert a["Days of supply"].value == 10.5 and a["Days of supply"].number_format == Kind.DEC1.value
    assert a["Last sale"].value == datetime(2026, 3, 31) and a["Last sale"].number_format == "yyyy-mm-dd"
    assert a["Reorder math"].value.endswith("order 5 units.")
    c = _row_of(summary, "SKU-C")
    assert c["Floor"].value == 10.5 and c["Floor"].number_format == Kind.QTY.value
    assert c["Vault"].number_format == Kind.INT.value  # whole quantities without a decimal point
    b = _row_of(summary, "SKU-B")
    assert b["Trend vs previous"].value is None  # blank, not 0 or text: nothing sold before
    d = _row_of(summary, "SKU-D")
    assert d["Days of supply"].value is None and d["Weeks since last sale"].value == pytest.approx(17.1)

    weekly = book["Weekly"]
    assert weekly.freeze_panes == "C2"
    assert _header(weekly)[4:8] == [
        datetime(2026, 3, 4),
        datetime(2026, 3, 11),
        datetime(2026, 3, 18),
        datetime(2026, 3, 25),
    ]
    assert [cell.value for cell in _row_of(weekly, "SKU-A").values()][4:9] == [2, 0, 3, 3, 8]
    assert len(weekly.conditional_formatting) == 2  # a colour scale per category

    categories = book["Categories"]
    assert [r[0].value for r in categories.iter_rows(min_row=2)] == ["Edible", "Flower", "Edible", "Flower"]
    revenue = [cell.value for cell in next(categories.iter_rows(min_row=2, max_row=2))][3:]
    assert revenue == [40, 70, 60, 130, 300] and categories.cell(2, 4).number_format == Kind.MONEY.value
    assert categories.cell(5, 7).value == 3.5 and categories.cell(5, 7).number_format == Kind.QTY.value
    assert len(categories._charts) == 1  # the weekly revenue line chart
    brands = book["Brands"]
    assert brands.freeze_panes == "C2" and brands.auto_filter.ref == "A1:K5"
    _no_formulas(out)
    with zipfile.ZipFile(out) as z:
        chart = z.read("xl/charts/chart1.xml").decode()
    assert "<c:lineChart>" in chart and "Categories!$D$1:$G$1" in chart and "Weekly revenue by category" in chart


def test_pandas_reads_the_same_figures(velocity: VelocityReport, tmp_path: Path) -> None:
    out = tmp_path / "velocity.xlsx"
    write_velocity_workbook(velocity, out)
    frame = pd.read_excel(out, sheet_name="Summary")
    assert list(frame["SKU"]) == [r.sku for r in velocity.rows]
    assert frame["Units 28 days"].tolist() == [float(r.units_window) for r in velocity.rows]
    assert frame["Revenue 28 days"].tolist() == [float(r.revenue_window) for r in velocity.rows]
    assert frame["Suggested reorder"].tolist() == [float(r.reorder_quantity) for r in velocity.rows]
    assert pd.api.types.is_numeric_dtype(frame["On hand"]) and pd.api.types.is_numeric_dtype(frame["Trend vs previous"])
    assert pd.api.types.is_datetime64_any_dtype(frame["Last sale"])
    weekly = pd.read_excel(out, sheet_name="Weekly")
    assert [c for c in weekly.columns if isinstance(c, datetime)] == [pd.Timestamp(d) for d in velocity.week_starts]


def test_a_window_of_other_length_gets_its_own_columns(
    store: tuple[Database, dict[str, Actor]], tmp_path: Path
) -> None:
    db, actors = store
    report = velocity_report(db, actors["pat"], weeks=6, through=ds.THROUGH)
    write_velocity_workbook(report, tmp_path / "six.xlsx")
    frame = pd.read_excel(tmp_path / "six.xlsx", sheet_name="Summary")
    assert frame["Units 6 wk"].tolist() == [float(r.units_window) for r in report.rows]
    assert frame.loc[frame["SKU"] == "SKU-A", "Units previous 6 wk"].item() == 4  # Feb 10


def test_imported_text_never_becomes_a_formula(
    store: tuple[Database, dict[str, Actor]], velocity: VelocityReport, tmp_path: Path
) -> None:
    db, actors = store
    v, a = tmp_path / "velocity.xlsx", tmp_path / "accuracy.xlsx"
    write_velocity_workbook(velocity, v)
    write_accuracy_workbook(accuracy_report(db, actors["pat"], since=ds.SINCE, until=ds.UNTIL), a)
    summary = openpyxl.load_workbook(v)["Summary"]
    b = _row_of(summary, "SKU-B")
    imported = (("Product", ds.INJECTION_NAME), ("Brand", ds.INJECTION_BRAND), ("Vendor", ds.INJECTION_VENDOR))
    for header, text in imported:
        cell = b[header]
        assert (cell.value, cell.data_type) == (text, "s"), header
        assert cell.quotePrefix, header  # editing the cell in Excel keeps it text too
    assert not _row_of(summary, "SKU-A")["Product"].quotePrefix  # ordinary text stays ordinary
    brands = openpyxl.load_workbook(v)["Brands"]
    assert {r[1].value for r in brands.iter_rows(min_row=2)} >= {ds.INJECTION_BRAND}
    notes = [r[12] for r in openpyxl.load_workbook(a)["Adjustments"].iter_rows(min_row=2)]
    assert [(n.value, n.data_type, bool(n.quotePrefix)) for n in notes] == [
        (ds.INJECTION_NOTE, "s", True),
        ("found behind the shelf", "s", False),
        ("-0.5 g scale drift", "s", True),
        ("@dropped jar", "s", True),
        ("late night", "s", False),
    ]
    _no_formulas(v)
    _no_formulas(a)
    values = pd.read_excel(v, sheet_name="Summary")
    assert values.loc[values["SKU"] == "SKU-B", "Brand"].item() == "+1-555"  # not the number -554


def test_accuracy_workbook_reads_back(store: tuple[Database, dict[str, Actor]], tmp_path: Path) -> None:
    db, actors = store
    report = accuracy_report(db, actors["pat"], since=ds.SINCE, until=ds.UNTIL)
    out = tmp_path / "accuracy.xlsx"
    result = write_accuracy_workbook(report, out)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == result.sheets == ["Cover", "Counts", "Categories", "Reasons", "Adjustments"]
    cover = book["Cover"]
    facts = {r[0].value: r[1] for r in cover.iter_rows(min_row=4, max_row=20) if r[0].value}
    assert facts["From"].value == datetime(2026, 3, 1) and facts["Through"].value == datetime(2026, 3, 31)
    assert facts["Accuracy"].value == pytest.approx(3 / 7, abs=1e-4) and facts["Accuracy"].number_format == "0.0%"
    assert facts["Shrinkage value"].value == 96.25 and facts["Net adjustment value"].value == -56.25
    assert len(cover._charts) == 1  # accuracy over time, beside the headline figures
    counts = book["Counts"]
    assert counts.freeze_panes == "C2" and counts.auto_filter.ref == "A1:Q3"
    first = dict(zip(_header(counts), next(counts.iter_rows(min_row=2)), strict=True))
    assert first["Name"].value == "Edibles, week 10" and first["Blind"].value is True
    assert first["Submitted"].value == datetime(2026, 3, 10, 15, 0)  # store time
    assert first["Submitted"].number_format == "yyyy-mm-dd hh:mm"
    assert first["Accuracy"].value == 0.4 and first["Dollar variance"].value == 130
    categories = pd.read_excel(out, sheet_name="Categories")
    assert categories.to_dict("records") == [
        {
            "Category": "Edible",
            "Counts": 1,
            "Lines counted": 4,
            "Lines matching": 1,
            "Accuracy": 0.25,
            "Unit variance": 7,
            "Dollar variance": 130,
            "Net dollar variance": -50,
        },
        {
            "Category": "Flower",
            "Counts": 2,
            "Lines counted": 3,
            "Lines matching": 2,
            "Accuracy": 0.6667,
            "Unit variance": 0.5,
            "Dollar variance": 6.25,
            "Net dollar variance": -6.25,
        },
    ]
    adjustments = pd.read_excel(out, sheet_name="Adjustments")
    assert pd.api.types.is_datetime64_any_dtype(adjustments["When"])
    assert adjustments["Value"].tolist() == [-80, 40, -6.25, -10, 0]
    assert adjustments["Approved by"].fillna("").tolist() == ["Maria", "", "", "", ""]
    with zipfile.ZipFile(out) as z:
        chart = z.read("xl/charts/chart1.xml").decode()
    assert "Counts!$F$2:$F$3" in chart and "Counts!$J$2:$J$3" in chart


def test_an_empty_range_still_makes_a_readable_workbook(
    store: tuple[Database, dict[str, Actor]], tmp_path: Path
) -> None:
    db, actors = store
    report = accuracy_report(db, actors["pat"], since=date(2025, 1, 1), until=date(2025, 1, 31))
    write_accuracy_workbook(report, tmp_path / "empty.xlsx")
    book = openpyxl.load_workbook(tmp_path / "empty.xlsx")
    assert book["Counts"].max_row == 1 and len(book["Cover"]._charts) == 0


def test_cancel_and_errors_leave_no_file(velocity: VelocityReport, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "velocity.xlsx"
    out.write_bytes(b"last week's workbook")
    seen: list[float] = []
    result = write_velocity_workbook(velocity, out, progress=lambda _t, f: seen.append(f), cancelled=lambda: bool(seen))
    assert result.cancelled and result.path is None
    assert out.read_bytes() == b"last week's workbook"  # the old file is untouched
    assert sorted(p.name for p in folder.iterdir()) == ["velocity.xlsx"]  # no half-written part file

    done: list[float] = []
    write_velocity_workbook(velocity, out, progress=lambda _t, f: done.append(f))
    assert done[-1] == 1.0 and done == sorted(done) and zipfile.is_zipfile(out)

    with pytest.raises(ValidationError, match=r"velocity\.xls: an Excel workbook's name must end in \.xlsx"):
        write_velocity_workbook(velocity, folder / "velocity.xls")
    with pytest.raises(ValidationError, match="folder .* does not exist"):
        write_velocity_workbook(velocity, folder / "nowhere" / "v.xlsx")
    (folder / "taken.xlsx").mkdir()
    with pytest.raises(UserError, match="could not save .*taken.xlsx"):
        write_velocity_workbook(velocity, folder / "taken.xlsx")
    assert sorted(p.name for p in folder.iterdir()) == ["taken.xlsx", "velocity.xlsx"]


def test_cli_writes_both_workbooks_and_refuses_clearly(
    monkeypatch: pytest.MonkeyPatch,
    store: tuple[Database, dict[str, Actor]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db, _ = store
    url = db.url.render_as_string(hide_password=False)
    v, a = tmp_path / "v.xlsx", tmp_path / "a.xlsx"
    assert (
        main(
            [
                "--db",
                url,
                *signin(monkeypatch, "pat"),
                "report",
                "velocity",
                "--weeks",
                "4",
                "--through",
                "2026-03-31",
                "--brand",
                "kind",
                "--out",
                str(v),
            ]
        )
        == 0
    )
    assert f"wrote {v}: 2 SKUs over 4 weeks (2026-03-04 to 2026-03-31), 1 to reorder" in capsys.readouterr().out
    assert [r[0].value for r in openpyxl.load_workbook(v)["Summary"].iter_rows(min_row=2)] == ["SKU-A", "SKU-C"]
    assert (
        main(
            [
                "--db",
                url,
                *signin(monkeypatch, "admin"),
                "report",
                "accuracy",
                "--since",
                "2026-03-01",
                "--until",
                "2026-03-31",
                "--out",
                str(a),
            ]
        )
        == 0
    )
    assert "2 counts (42.9%), 5 adjustments, shrinkage $96.25" in capsys.readouterr().out

    assert (
        main(
            [
                "--db",
                url,
                *signin(monkeypatch, "alex"),
                "report",
                "accuracy",
                "--since",
                "2026-03-01",
                "--until",
                "2026-03-31",
                "--out",
                str(tmp_path / "no.xlsx"),
            ]
        )
        == 1
    )
    assert "alex (associate) may not pull reports" in capsys.readouterr().err
    assert (
        main(
            [
                "--db",
                url,
                *signin(monkeypatch, "admin"),
                "report",
                "velocity",
                "--category",
                "Vapes",
                "--out",
                str(tmp_path / "no.xlsx"),
            ]
        )
        == 1
    )
    assert "no item has category 'Vapes'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(
            [
                "--db",
                url,
                *signin(monkeypatch, "admin"),
                "report",
                "accuracy",
                "--since",
                "31/03/2026",
                "--until",
                "2026-03-31",
                "--out",
                str(a),
            ]
        )
    assert usage.value.code == 2 and "write it as YYYY-MM-DD" in capsys.readouterr().err
    assert not (tmp_path / "no.xlsx").exists()
