"""A day in the vault on the demo store, driven through the real main window by keystrokes
and clicks: sign in, reconcile yesterday (the planted differences are found), replenish the
floor (draft by scans, record, arrival scans), receive the waiting delivery (scans, the new
product added to the catalogue, accept, finish), count a category and submit, export both
workbooks, save labels as a PDF and decode its barcodes."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QPushButton, QWidget
from sqlalchemy import select

from backoffice import demo
from backoffice.db.engine import Database
from backoffice.db.models import Location, Package
from backoffice.domain.enums import CountStatus, LocationKind, ManifestStatus, PackageStatus, TransferStatus
from backoffice.services import receiving
from tests.gui.conftest import type_keys
from tests.unit.test_labels_render import decode, needs_tools, rasterize
from ui import commands
from ui.context import AppContext
from ui.login import LoginDialog
from ui.main_window import MainWindow
from ui.tabs.cycle_count import CycleCountTab
from ui.tabs.cycle_count_dialogs import StartCountDialog
from ui.tabs.labels import LabelsTab
from ui.tabs.receiving import ReceivingTab
from ui.tabs.receiving_dialogs import FinishDialog, ReceivedDialog
from ui.tabs.receiving_items import CreateItemsDialog
from ui.tabs.reconciliation import ReconciliationTab
from ui.tabs.reports import ReportsTab
from ui.tabs.transfers import TransfersTab

pytestmark = pytest.mark.gui
SCANNER_MS, PERSON_MS = 10, 60
MARIA_PIN = next(pin for name, _, _, pin in demo.DEMO_USERS if name == "maria")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> Iterator[tuple[Path, demo.DemoSummary]]:
    path = tmp_path_factory.mktemp("day") / "demo.sqlite"
    shutil.copyfile(_sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    summary = demo.build(db, "small")
    db.dispose()
    yield path, summary


@pytest.fixture
def window(qtbot, demo_store: tuple[Path, demo.DemoSummary], tmp_path: Path) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    copy = tmp_path / "store.sqlite"
    shutil.copyfile(demo_store[0], copy)
    ctx = AppContext(Database(f"sqlite:///{copy}"), QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.scanner.install(QApplication.instance())  # type: ignore[arg-type]
    yield win
    QApplication.instance().removeEventFilter(win.scanner)  # type: ignore[union-attr]
    commands.wait_until_idle()
    ctx.db.dispose()


def _when_modal(kind: type[QWidget], act: Callable[[QWidget], None]) -> None:
    def poll() -> None:
        widget = QApplication.activeModalWidget()
        if not isinstance(widget, kind):
            QTimer.singleShot(20, poll)
            return
        act(widget)

    QTimer.singleShot(20, poll)


def _scan(window: MainWindow, focus: QWidget, code: str, at: list[float]) -> None:
    focus.setFocus()
    window.scanner._last_scan = ("", 0.0)  # the next package, not a double scan
    at[0] = type_keys(code, SCANNER_MS, widget=focus, start_ms=at[0] + 2_000)


def _click_tab(qtbot, window: MainWindow, tab: QWidget) -> None:  # type: ignore[no-untyped-def]
    bar = window.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(window.tabs.indexOf(tab)).center())
    assert window.tabs.currentWidget() is tab


def _click(dialog: QWidget, text: str) -> None:
    next(b for b in dialog.findChildren(QPushButton) if b.text() == text).click()


def _saving_to(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """The Save dialog answers with ``path`` (the person types it)."""
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))


@needs_tools
def test_a_day_in_the_vault(qtbot, window: MainWindow, demo_store: tuple[Path, demo.DemoSummary],  # type: ignore[no-untyped-def]
                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = demo_store[1]
    at = [1_000_000.0]
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: True))

    # morning: maria signs in by keyboard
    def sign_in(dialog: QWidget) -> None:
        assert isinstance(dialog, LoginDialog)
        type_keys("maria", PERSON_MS, widget=dialog.username)
        type_keys(MARIA_PIN, PERSON_MS, widget=dialog.pin, start_ms=2_000_000)

    _when_modal(LoginDialog, sign_in)
    assert window.prompt_login()
    window.show()
    qtbot.waitExposed(window)
    assert window.ctx.actor.username == "maria"

    # reconcile yesterday: exactly the differences the demo planted
    recon = next(t for t in window.tab_widgets if isinstance(t, ReconciliationTab))
    _click_tab(qtbot, window, recon)
    yesterday = datetime.now(demo.STORE_TZ).date() - timedelta(days=1)
    assert recon.business_day == yesterday
    qtbot.mouseClick(recon.reconcile_button, Qt.MouseButton.LeftButton)
    planted = {(p.kind, p.receipt_number, p.tag) for p in summary.planted if p.day == yesterday}
    qtbot.waitUntil(lambda: recon.model.rowCount() == len(planted), timeout=20_000)
    assert {(f.kind, f.receipt_number, f.tag) for f in recon.model.rows} == planted

    # replenish the floor: a draft by scans, record it, then scan each package on arrival
    moves = next(t for t in window.tab_widgets if isinstance(t, TransfersTab))
    _click_tab(qtbot, window, moves)
    with window.ctx.db.read() as session:
        vault = session.scalar(select(Location.id).where(Location.kind == LocationKind.VAULT))
        tags = list(session.scalars(select(Package.tag).where(
            Package.location_id == vault, Package.status == PackageStatus.ACTIVE,
            Package.lab_state == "TestPassed").order_by(Package.id).limit(2)))
    qtbot.mouseClick(moves.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: moves.current is not None and moves.current.status is TransferStatus.DRAFT)
    for tag in tags:
        _scan(window, moves.transfer_view, tag, at)
    qtbot.waitUntil(lambda: [ln.tag for ln in moves.current.lines] == tags, timeout=10_000)
    qtbot.mouseClick(moves.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: moves.current.status is TransferStatus.RECORDED, timeout=10_000)
    for tag in tags:
        _scan(window, moves.transfer_view, tag, at)
    qtbot.waitUntil(lambda: "Transfer complete" in moves.panel.text(), timeout=10_000)
    assert moves.current.status is TransferStatus.MOVED

    # the delivery waiting since yesterday: scan every package, add the new product, accept, receive
    desk = next(t for t in window.tab_widgets if isinstance(t, ReceivingTab))
    _click_tab(qtbot, window, desk)
    actor = window.ctx.actor
    waiting = [receiving.get_manifest(window.ctx.db, actor, m.id)
               for m in receiving.list_manifests(window.ctx.db, actor, open_only=True)]
    delivery = next(v for v in waiting if any(ln.item_id is None for ln in v.lines))
    row = next(i for i, m in enumerate(desk.list_model.rows) if m.id == delivery.id)
    desk.list_view.setCurrentIndex(desk.list_view.proxy.mapFromSource(desk.list_model.index(row, 0)))
    qtbot.waitUntil(lambda: desk.current is not None and desk.current.id == delivery.id, timeout=10_000)
    for line in delivery.lines:
        _scan(window, desk.line_view, line.tag, at)
    qtbot.waitUntil(lambda: all(ln.scanned_at for ln in desk.line_model.rows), timeout=20_000)
    new = next(ln for ln in desk.line_model.rows if ln.item_id is None)
    new_row = desk.line_model.rows.index(new)
    desk.line_view.setCurrentIndex(desk.line_view.proxy.mapFromSource(desk.line_model.index(new_row, 0)))

    def create(dialog: QWidget) -> None:
        assert isinstance(dialog, CreateItemsDialog)
        dialog.no_price.setChecked(True)  # maria prices it later in the Catalogue tab
        _click(dialog, "Create items")

    _when_modal(CreateItemsDialog, create)
    qtbot.mouseClick(desk.item_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: all(ln.problem is None for ln in desk.line_model.rows), timeout=10_000)
    qtbot.mouseClick(desk.accept_scanned_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "accepted" in window.status_label.text(), timeout=10_000)
    _when_modal(FinishDialog, lambda dialog: _click(dialog, "Receive"))
    _when_modal(ReceivedDialog, lambda dialog: _click(dialog, "Close"))
    qtbot.mouseClick(desk.finish_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: f"Manifest {delivery.manifest_number} received into Vault" in window.status_label.text(),
                    timeout=30_000)
    assert receiving.get_manifest(window.ctx.db, actor, delivery.id).status is ManifestStatus.RECEIVED

    # a cycle count of one category in the vault: scan, type the units, submit
    counting = next(t for t in window.tab_widgets if isinstance(t, CycleCountTab))
    _click_tab(qtbot, window, counting)

    def start(dialog: QWidget) -> None:
        assert isinstance(dialog, StartCountDialog)
        dialog.name.selectAll()  # typing replaces the suggested name
        type_keys("Morning count", PERSON_MS, widget=dialog.name, enter=False, start_ms=at[0] + 5_000)
        dialog.categories.item(0).setCheckState(Qt.CheckState.Checked)
        dialog.locations.findItems("Vault", Qt.MatchFlag.MatchExactly)[0].setCheckState(Qt.CheckState.Checked)
        dialog.blind.setChecked(False)
        next(b for b in dialog.findChildren(QPushButton) if b.text() == "Start count").click()

    _when_modal(StartCountDialog, start)
    qtbot.mouseClick(counting.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: counting.current is not None and counting.current.name == "Morning count"
                    and bool(counting.model.lines), timeout=20_000)
    first = counting.model.lines[0].tag
    _scan(window, counting.view, first, at)
    qtbot.waitUntil(lambda: counting.pending is not None and counting.pending.tag == first, timeout=10_000)
    type_keys("1", PERSON_MS, widget=counting.quantity, start_ms=at[0] + 2_000)
    qtbot.waitUntil(lambda: f"Counted {first}: total 1" in window.status_label.text(), timeout=10_000)
    _when_modal(QMessageBox, lambda box: next(b for b in box.buttons() if "not found (0)" in b.text()).click())
    qtbot.mouseClick(counting.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: counting.current.status is CountStatus.SUBMITTED, timeout=20_000)

    # both workbooks: velocity, then accuracy over the eight weeks of counts
    reports = next(t for t in window.tab_widgets if isinstance(t, ReportsTab))
    _click_tab(qtbot, window, reports)
    for kind, name in ((0, "velocity.xlsx"), (1, "accuracy.xlsx")):
        reports.kind_box.setCurrentIndex(kind)
        _saving_to(monkeypatch, tmp_path / name)
        qtbot.mouseClick(reports.export_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: reports.findChild(QMessageBox, "reportSaved") is not None, timeout=60_000)
        box = reports.findChild(QMessageBox, "reportSaved")
        box.close()
        qtbot.waitUntil(lambda: reports.findChild(QMessageBox, "reportSaved") is None)
        assert len(openpyxl.load_workbook(tmp_path / name, read_only=True).sheetnames) >= 2

    # bin labels for the two packages just moved, saved as a PDF whose barcodes decode
    labels = next(t for t in window.tab_widgets if isinstance(t, LabelsTab))
    _click_tab(qtbot, window, labels)
    for tag in tags:
        _scan(window, labels.view, tag, at)
    qtbot.waitUntil(lambda: [line.label.tag for line in labels.model.rows] == tags, timeout=10_000)
    out = tmp_path / "labels.pdf"
    _saving_to(monkeypatch, out)
    qtbot.mouseClick(labels.pdf_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "page(s)" in window.status_label.text(), timeout=20_000)
    assert decode(rasterize(out)) == [[tag] for tag in tags]
