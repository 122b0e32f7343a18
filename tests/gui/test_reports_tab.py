"""The Reports tab driven like a person: pick a report and its window, preview the table and
chart, export the workbook off the GUI thread and open its folder, and cancel an export."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import QDate, QSettings, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog, QPushButton

from backoffice.db.engine import Database
from backoffice.services.reports import velocity_report
from tests.conftest import make_users
from tests.unit import reports_dataset as ds
from ui import commands
from ui.context import AppContext
from ui.tabs import reports as reports_tab
from ui.tabs.reports import ReportsTab

pytestmark = pytest.mark.gui


@pytest.fixture
def tab(
    qtbot,
    sqlite_db: Database,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    statuses: list[tuple[str, str]],
) -> Iterator[ReportsTab]:
    actors = make_users(sqlite_db)
    ds.build_tiny_store(sqlite_db, actors)
    ctx = AppContext(sqlite_db, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    ctx.sign_in(actors["pat"])
    widget = ReportsTab(ctx)
    widget.statuses = statuses  # type: ignore[attr-defined]
    ctx.changed.connect(widget.refresh)
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    commands.wait_until_idle()


def _saving_to(monkeypatch: pytest.MonkeyPatch, path: Path) -> list[QUrl]:
    """The save dialog answers ``path``; returns the list of URLs the desktop is asked to open."""
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args, **kwargs: (str(path), "")))
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url) or True))
    return opened


def _velocity_for_march(qtbot, tab: ReportsTab) -> None:  # type: ignore[no-untyped-def]
    tab.weeks.lineEdit().selectAll()
    qtbot.keyClicks(tab.weeks, "4")
    tab.through.setDate(QDate(2026, 3, 31))
    assert tab.weeks.value() == 4


def test_preview_shows_the_skus_and_the_category_chart(qtbot, qtmodeltester, tab: ReportsTab) -> None:  # type: ignore[no-untyped-def]
    assert tab.category.count() == 3 and tab.brand.findText(ds.INJECTION_BRAND) >= 0  # All + the store's values
    _velocity_for_march(qtbot, tab)
    qtbot.mouseClick(tab.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 4)
    qtmodeltester.check(tab.model)
    skus = [tab.proxy.index(r, 0).data() for r in range(tab.proxy.rowCount())]
    assert skus == ["SKU-B", "SKU-A", "SKU-C", "SKU-D"]
    headers = [tab.model.headerData(c, Qt.Orientation.Horizontal) for c in range(tab.model.columnCount())]
    price, trend = headers.index("Price"), headers.index("Trend vs previous")
    assert tab.proxy.index(1, price).data() == "$20.00" and tab.proxy.index(1, trend).data() == "+100.0%"
    assert "4 SKUs" in tab.summary.text() and "2 to reorder" in tab.summary.text()
    assert [s.name() for s in tab.chart.series()] == ["Edible", "Flower"]
    assert [p.y() for p in tab.chart.series()[0].points()] == [0.04, 0.07, 0.06, 0.13]  # $ thousands

    tab.view.sortByColumn(headers.index("Units 28 days"), Qt.SortOrder.AscendingOrder)  # numbers sort as numbers
    assert [tab.proxy.index(r, 0).data() for r in range(4)] == ["SKU-D", "SKU-A", "SKU-C", "SKU-B"]
    qtbot.keyClicks(tab.filter, "gummies")
    assert tab.proxy.rowCount() == 1
    tab.filter.clear()

    tab.table_box.setCurrentText("Brands")
    qtmodeltester.check(tab.model)
    assert tab.model.rowCount() == 4 and tab.model.index(0, 1).data() == ds.INJECTION_BRAND


def test_export_runs_in_the_background_then_opens_the_folder(  # type: ignore[no-untyped-def]
    qtbot, tab: ReportsTab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "exports" / "march.xlsx"
    out.parent.mkdir()
    opened = _saving_to(monkeypatch, out)
    _velocity_for_march(qtbot, tab)
    tab.brand.setCurrentText("Kind")
    qtbot.mouseClick(tab.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.findChild(QMessageBox, "reportSaved") is not None, timeout=10_000)
    box = tab.findChild(QMessageBox, "reportSaved")
    assert "march.xlsx" in box.text() and out.exists()
    assert [r[0].value for r in openpyxl.load_workbook(out)["Summary"].iter_rows(min_row=2)] == ["SKU-A", "SKU-C"]
    assert tab.model.rowCount() == 2  # the exported figures are previewed too
    folder_button = next(b for b in box.buttons() if b.text() == "Open folder")
    qtbot.mouseClick(folder_button, Qt.MouseButton.LeftButton)
    assert opened == [QUrl.fromLocalFile(str(out.parent))]
    assert tab.ctx.settings.value(reports_tab.FOLDER_KEY) == str(out.parent)  # next time it suggests this folder
    assert any(kind == "ok" and "Saved" in text for kind, text in tab.statuses)  # type: ignore[attr-defined]


def test_accuracy_preview_and_export(
    qtbot,
    qtmodeltester,
    tab: ReportsTab,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tab.kind_box.setCurrentIndex(1)
    assert tab.options.currentIndex() == 1
    tab.since.setDate(QDate(2026, 3, 1))
    tab.until.setDate(QDate(2026, 3, 31))
    qtbot.mouseClick(tab.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2)
    qtmodeltester.check(tab.model)
    assert "accuracy <b>42.9%</b>" in tab.summary.text() and "$96.25" in tab.summary.text()
    (series,) = tab.chart.series()
    assert [round(p.y(), 1) for p in series.points()] == [40.0, 50.0]
    tab.table_box.setCurrentText("Adjustments")
    notes = [tab.model.index(r, 12).data() for r in range(tab.model.rowCount())]
    assert notes[0] == ds.INJECTION_NOTE and len(notes) == 5

    out = tmp_path / "accuracy"  # no extension typed: .xlsx is added
    _saving_to(monkeypatch, out)
    qtbot.mouseClick(tab.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.findChild(QMessageBox, "reportSaved") is not None, timeout=10_000)
    assert openpyxl.load_workbook(out.with_suffix(".xlsx")).sheetnames[1] == "Counts"


def test_cancelling_an_export_writes_nothing(
    qtbot,
    tab: ReportsTab,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "cancelled.xlsx"
    _saving_to(monkeypatch, out)
    release = threading.Event()

    def slow_report(*args, **kwargs):  # type: ignore[no-untyped-def]
        release.wait(10)  # long enough for the person to press Cancel
        return velocity_report(*args, **kwargs)

    monkeypatch.setattr(reports_tab, "velocity_report", slow_report)
    _velocity_for_march(qtbot, tab)
    qtbot.mouseClick(tab.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(d.isVisible() for d in tab.findChildren(QProgressDialog)), timeout=5_000)
    dialog = next(d for d in tab.findChildren(QProgressDialog) if d.isVisible())
    cancel = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Cancel")
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    release.set()
    qtbot.waitUntil(
        lambda: ("warn", "Export cancelled: no file was written.") in tab.statuses,  # type: ignore[attr-defined]
        timeout=10_000,
    )
    assert not out.exists() and list(tmp_path.glob("*.part")) == []
    assert tab.findChild(QMessageBox, "reportSaved") is None
    assert date(2026, 3, 31) == tab.through.date().toPython()


def test_the_velocity_filter_does_not_empty_the_accuracy_view(  # type: ignore[no-untyped-def]
    qtbot, tab: ReportsTab
) -> None:
    _velocity_for_march(qtbot, tab)
    qtbot.mouseClick(tab.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 4)
    qtbot.keyClicks(tab.filter, "gummies")
    assert tab.proxy.rowCount() == 1
    tab.kind_box.setCurrentIndex(1)
    tab.since.setDate(QDate(2026, 3, 1))
    tab.until.setDate(QDate(2026, 3, 31))
    qtbot.mouseClick(tab.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2)
    assert tab.filter.text() == "" and tab.proxy.rowCount() == 2


def test_the_accuracy_chart_shows_a_single_count(qtbot, tab: ReportsTab) -> None:  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    tab.kind_box.setCurrentIndex(1)
    tab.since.setDate(QDate(2026, 3, 1))
    tab.until.setDate(QDate(2026, 3, 31))
    qtbot.mouseClick(tab.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2)
    report = tab.report
    first = report.counts[0].submitted_at.astimezone(ZoneInfo(report.timezone)).date()  # type: ignore[union-attr]
    tab.until.setDate(QDate(first.year, first.month, first.day))
    qtbot.mouseClick(tab.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1)
    (series,) = tab.chart.series()
    (point,) = series.points()
    x_axis = tab.chart.axes(Qt.Orientation.Horizontal)[0]
    # the axis spans the report's window, so the one point sits inside a visible range
    assert x_axis.min().toMSecsSinceEpoch() < point.x() < x_axis.max().toMSecsSinceEpoch()
    assert x_axis.min().date() == QDate(2026, 3, 1)
