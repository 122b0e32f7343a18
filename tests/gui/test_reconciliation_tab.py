"""The Reconciliation tab driven like an associate: import yesterday's POS export and METRC's
receipts, reconcile, read a finding's package history, queue the missing receipt and explain
the other; an unknown export layout is mapped once; the day exports to a workbook."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressDialog,
    QPushButton,
)
from sqlalchemy import func, select

from backoffice.db.engine import Database
from backoffice.db.models import PosSaleLine
from backoffice.domain.enums import FindingKind, FindingStatus
from backoffice.services import pos_layouts, sales_import
from backoffice.services.actor import Actor
from backoffice.services.reconciliation import Resolution
from tests.gui.conftest import when_modal
from ui import commands
from ui.context import AppContext
from ui.main_window import MainWindow
from ui.tabs.reconciliation import ReconciliationTab
from ui.tabs.reconciliation_dialogs import ColumnMappingDialog, ResolveDialog

pytestmark = pytest.mark.gui

MISSING_TAG = "1A4060300000000000000096"


@pytest.fixture
def tab(
    qtbot,
    ctx: AppContext,
    store: tuple[Database, dict[str, Actor]],  # type: ignore[no-untyped-def]
    statuses: list[tuple[str, str]],
) -> Iterator[ReconciliationTab]:
    ctx.sign_in(store[1]["alex"])
    widget = ReconciliationTab(ctx)
    widget.statuses = statuses  # type: ignore[attr-defined]
    ctx.changed.connect(widget.refresh)
    qtbot.addWidget(widget)
    widget.resize(1400, 900)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    commands.wait_until_idle()


def _opening(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "")))


def _last_status(tab: ReconciliationTab) -> tuple[str, str]:
    statuses = tab.statuses  # type: ignore[attr-defined]
    return statuses[-1] if statuses else ("", "")  # type: ignore[no-any-return]


def _select(tab: ReconciliationTab, tag: str) -> None:
    for row in range(tab.view.proxy.rowCount()):
        if tab.view.proxy.index(row, 4).data() == tag:
            tab.view.setCurrentIndex(tab.view.proxy.index(row, 0))
            return
    raise AssertionError(f"{tag} is not in the findings table")


def _import_day(qtbot, tab: ReconciliationTab, monkeypatch: pytest.MonkeyPatch, samples: Path) -> None:  # type: ignore[no-untyped-def]
    _opening(monkeypatch, samples / "pos_sales_export_a.csv")
    qtbot.mouseClick(tab.pos_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "76 sale lines imported" in _last_status(tab)[1], timeout=10_000)
    assert tab.business_day.isoformat() == "2026-11-20"  # the tab moved to the file's day
    _opening(monkeypatch, samples / "metrc_sales_receipts.json")
    qtbot.mouseClick(tab.metrc_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "39 METRC receipts" in _last_status(tab)[1], timeout=10_000)
    assert "not reconciled yet" in tab.summary.text()


def test_import_reconcile_and_resolve(
    qtbot,
    qtmodeltester,
    tab: ReconciliationTab,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    samples: Path,
) -> None:
    _import_day(qtbot, tab, monkeypatch, samples)
    qtbot.mouseClick(tab.reconcile_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2, timeout=10_000)
    assert _last_status(tab) == ("warn", "Reconciled 2026-11-20: 2 finding(s), 2 new, 0 no longer found, 2 open.")
    assert [f.kind for f in tab.model.rows] == [FindingKind.MISSING_IN_METRC, FindingKind.QUANTITY_MISMATCH]
    assert "POS 40 receipts / 76 lines" in tab.summary.text()
    qtmodeltester.check(tab.model)

    _select(tab, MISSING_TAG)  # the finding shows its package's history: the sale it never synced
    qtbot.waitUntil(lambda: tab.detail.model.rowCount() >= 2)
    assert MISSING_TAG in tab.detail.summary.text()

    def queue(dialog: QDialog) -> None:
        action = dialog.findChild(QComboBox, "resolveAction")
        assert [action.itemData(i) for i in range(action.count())] == [Resolution.QUEUE_RECEIPT, Resolution.EXPLAINED]
        qtbot.keyClicks(dialog.findChild(QPlainTextEdit, "resolveNote"), "POS did not sync at 11:17")
        dialog.accept()

    when_modal(ResolveDialog, queue)
    qtbot.mouseClick(tab.resolve_button, Qt.MouseButton.LeftButton)
    kind, text = _last_status(tab)
    assert kind == "ok" and text.startswith("Resolved 1 finding(s); receipt queued for METRC (outbox #")
    assert [f.kind for f in tab.model.rows] == [FindingKind.QUANTITY_MISMATCH]  # the view shows open findings

    tab.filter.setText("R1120-0039")  # type in the filter; then explain the other one by double-click
    assert tab.view.proxy.rowCount() == 1

    def explain_without_then_with_note(dialog: QDialog) -> None:
        when_modal(QMessageBox, lambda box: box.accept())  # "write a note…": the dialog stays open
        dialog.accept()
        qtbot.waitUntil(dialog.isEnabled)
        assert dialog.isVisible()
        qtbot.keyClicks(dialog.findChild(QPlainTextEdit, "resolveNote"), "Counted: POS right; METRC fixed by hand")
        dialog.accept()

    when_modal(ResolveDialog, explain_without_then_with_note)
    centre = tab.view.visualRect(tab.view.proxy.index(0, 1)).center()
    qtbot.mouseClick(tab.view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseDClick(tab.view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert tab.model.rowCount() == 0 and "0 open" in tab.summary.text()
    tab.show_box.setCurrentText("All")
    tab.filter.clear()
    assert {(f.resolution, f.status) for f in tab.model.rows} == {
        (Resolution.QUEUE_RECEIPT, FindingStatus.RESOLVED),
        (Resolution.EXPLAINED, FindingStatus.RESOLVED),
    }
    qtmodeltester.check(tab.model)


def test_open_findings_stay_in_view_on_the_next_day(
    qtbot,
    tab: ReconciliationTab,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    samples: Path,
) -> None:
    _import_day(qtbot, tab, monkeypatch, samples)
    qtbot.mouseClick(tab.reconcile_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2, timeout=10_000)
    tab.day.setDate(QDate(2026, 11, 21))
    assert tab.model.rowCount() == 2 and all(f.carried for f in tab.model.rows)
    assert "2 open from earlier days" in tab.summary.text()
    _select(tab, "1A4060300000000000000087")
    assert tab.resolve_button.isEnabled()


def test_an_unknown_layout_is_mapped_once_then_recognised(
    qtbot,
    tab: ReconciliationTab,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    samples: Path,
    tmp_path: Path,
) -> None:
    rows = list(csv.reader(io.StringIO((samples / "pos_sales_export_b.csv").read_text(), newline="")))
    out = io.StringIO()
    csv.writer(out).writerows(
        [["Ticket", "Closed At", "METRC Label", "Qty", "Line Total"]]
        + [[r[0], r[1], r[2], r[5], r[7]] for r in rows[1:]]
    )
    (tmp_path / "acme.csv").write_text(out.getvalue())
    _opening(monkeypatch, tmp_path / "acme.csv")

    def map_columns(dialog: QDialog) -> None:
        # the guesses already name every required column; the associate names the layout
        assert {f: b.currentData() for f, b in dialog.boxes.items() if b.currentData()} == {  # type: ignore[attr-defined]
            "receipt_number": "Ticket",
            "sold_at": "Closed At",
            "tag": "METRC Label",
            "quantity": "Qty",
            "amount": "Line Total",
        }
        qtbot.keyClicks(dialog.findChild(QLineEdit, "layoutName"), "Acme POS")
        dialog.accept()

    when_modal(ColumnMappingDialog, map_columns)
    qtbot.mouseClick(tab.pos_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "acme.csv (Acme POS): 76 sale lines imported" in _last_status(tab)[1], timeout=10_000)
    assert ("ok", "Layout 'Acme POS' saved; files with these columns are read this way.") in tab.statuses  # type: ignore[attr-defined]
    assert [layout.name for layout in pos_layouts.saved_layouts(tab.ctx.db)] == ["Acme POS"]


def test_a_tab_separated_till_with_split_date_and_time_is_mapped_from_the_guess(  # type: ignore[no-untyped-def]
    qtbot, tab: ReconciliationTab, monkeypatch: pytest.MonkeyPatch, samples: Path, tmp_path: Path
) -> None:
    rows = list(csv.reader(io.StringIO((samples / "pos_sales_export_b.csv").read_text(), newline="")))
    out = io.StringIO()
    csv.writer(out, delimiter="\t").writerows(
        [["Ticket No", "Sold On", "At", "METRC ID", "Description", "Units", "UoM", "Ext. Price"]]
        + [
            [r[0], r[1][:10], r[1][11:16], r[2], r[3], r[5].replace(".", ","), r[6], r[7].replace(".", ",")]
            for r in rows[1:]
        ]
    )
    (tmp_path / "till4.tsv").write_text(out.getvalue())
    _opening(monkeypatch, tmp_path / "till4.tsv")
    seen: dict[str, object] = {}

    def map_columns(dialog: QDialog) -> None:
        seen["columns"] = dialog.columns()  # type: ignore[attr-defined]
        seen["numbers"] = dialog.findChild(QComboBox, "numberFormat").currentText()
        seen["preview"] = dialog.findChild(QLabel, "mappingPreview").text()
        dialog.boxes["amount"].setCurrentIndex(0)  # type: ignore[attr-defined]
        seen["without_amount"] = dialog.findChild(QLabel, "mappingPreview").text()
        dialog.boxes["amount"].setCurrentIndex(dialog.boxes["amount"].findData("Ext. Price"))  # type: ignore[attr-defined]
        qtbot.keyClicks(dialog.findChild(QLineEdit, "layoutName"), "Till Four")
        dialog.accept()

    when_modal(ColumnMappingDialog, map_columns)
    qtbot.mouseClick(tab.pos_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "till4.tsv (Till Four): 76 sale lines imported" in _last_status(tab)[1], timeout=10_000)
    assert seen["columns"] == {
        "receipt_number": "Ticket No",
        "sold_at": "Sold On",
        "sold_time": "At",
        "tag": "METRC ID",
        "product_name": "Description",
        "quantity": "Units",
        "unit": "UoM",
        "amount": "Ext. Price",
    }
    assert seen["numbers"] == "1.234,56 (decimal comma)"
    assert str(seen["preview"]).startswith(
        "line 2: receipt R1120-0001 · 2026-11-20 09:43 · 1A4060300000000000000009 · 2 Each · $64.00"
    )
    assert "no column chosen for: amount" in str(seen["without_amount"])


def test_export_the_day(
    qtbot,
    tab: ReconciliationTab,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
    samples: Path,
    tmp_path: Path,
) -> None:
    _import_day(qtbot, tab, monkeypatch, samples)
    qtbot.mouseClick(tab.reconcile_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2, timeout=10_000)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(tmp_path / "day"), "")))
    qtbot.mouseClick(tab.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _last_status(tab) == ("ok", f"Saved {tmp_path / 'day.xlsx'}"), timeout=10_000)
    findings = openpyxl.load_workbook(tmp_path / "day.xlsx")["Findings"]
    assert [r[2].value for r in findings.iter_rows(min_row=2)] == ["R1120-0019", "R1120-0039"]


def test_the_window_has_the_tab_for_associates(main_window: MainWindow) -> None:
    tab = main_window.tab(ReconciliationTab)
    assert main_window.tabs.isTabEnabled(main_window.tabs.indexOf(tab))


def test_amounts_show_in_cents() -> None:
    from decimal import Decimal

    from ui.models.simple_table import Col, RowTableModel

    model: RowTableModel[Decimal] = RowTableModel([Col("$", lambda v: v, money=True), Col("qty", lambda v: v)])
    model.set_rows([Decimal("12.5"), Decimal("-1234")])
    assert [model.index(r, 0).data() for r in range(2)] == ["12.50", "-1,234.00"]
    assert [model.index(r, 1).data() for r in range(2)] == ["12.5", "-1234"]  # quantities stay as written


def test_cancelling_an_import_stores_nothing(  # type: ignore[no-untyped-def]
    qtbot,
    tab: ReconciliationTab,
    store: tuple[Database, dict[str, Actor]],
    monkeypatch: pytest.MonkeyPatch,
    samples: Path,
) -> None:
    release = threading.Event()
    reading = sales_import.parse_pos_file

    def slow_read(*args, **kwargs):  # type: ignore[no-untyped-def]
        release.wait(10)  # a month's export: long enough for the person to press Cancel
        return reading(*args, **kwargs)

    monkeypatch.setattr(sales_import, "parse_pos_file", slow_read)
    _opening(monkeypatch, samples / "pos_sales_export_a.csv")
    qtbot.mouseClick(tab.pos_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(d.isVisible() for d in tab.findChildren(QProgressDialog)), timeout=5_000)
    dialog = next(d for d in tab.findChildren(QProgressDialog) if d.isVisible())
    qtbot.waitUntil(lambda: dialog.labelText() == "Reading the export", timeout=5_000)
    cancel = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Cancel")
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    release.set()
    said = "pos_sales_export_a.csv was not imported: the import was cancelled, and nothing was stored."
    qtbot.waitUntil(lambda: ("warn", said) in tab.statuses, timeout=10_000)  # type: ignore[attr-defined]
    with store[0].read() as session:
        assert session.scalar(select(func.count()).select_from(PosSaleLine)) == 0
    assert not any(box.isVisible() for box in tab.findChildren(QMessageBox))  # a warning, not a problem box
