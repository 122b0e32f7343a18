"""A day in the vault, as one test (issue 18): the real main window, built as ui/app.py builds
it, on the small demo store, driven by keystrokes and clicks only. Sign in; reconcile yesterday (the
planted differences); start and submit a count by scanning; receive the waiting delivery;
replenish the floor (record, then arrival scans); export both workbooks; print labels to PDF
and read their barcodes back with zbarimg. Services are called only to check the outcome."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)
from pytestqt.exceptions import TimeoutError

from backoffice import demo
from backoffice.db.engine import Database
from backoffice.domain.enums import (
    CountStatus,
    ManifestLineState,
    ManifestStatus,
    TransferStatus,
)
from backoffice.services import (
    counts,
    inventory,
    receiving,
    reconciliation,
    transfers,
    users,
)
from backoffice.services.actor import SYSTEM
from tests.gui.conftest import no_failure_in_dialogs, open_tab, when_modal
from ui import app, commands
from ui.login import LoginDialog
from ui.main_window import MainWindow

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(
        shutil.which("pdftoppm") is None or shutil.which("zbarimg") is None,
        reason="reading printed labels back needs pdftoppm (poppler-utils) and zbarimg (zbar-tools)",
    ),
]


@pytest.fixture(scope="module")
def demo_store(
    tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path
) -> Iterator[tuple[str, demo.DemoSummary]]:
    path = tmp_path_factory.mktemp("day") / "demo.sqlite"
    shutil.copyfile(_sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    summary = demo.build(db, "small")  # what `backoffice demo --scale small` builds, with what it planted
    db.dispose()
    yield f"sqlite:///{path}", summary


# --- driving the window like a person --------------------------------------------------------


def button(parent: QWidget, text: str) -> QPushButton:
    return next(b for b in parent.findChildren(QPushButton) if b.text() == text and b.isVisible())


def click(qtbot, widget: QWidget) -> None:  # type: ignore[no-untyped-def]
    assert widget.isEnabled(), f"{widget.text() if isinstance(widget, QPushButton) else widget} is disabled"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def choose(qtbot, box: QComboBox, text: str) -> None:  # type: ignore[no-untyped-def]
    """Pick a combo box entry with the arrow keys."""
    target = box.findText(text)
    assert target >= 0, f"{text} is not a choice"
    qtbot.waitUntil(box.isEnabled, timeout=10_000)  # e.g. until the count has loaded
    for _ in range(box.count()):
        if box.currentIndex() == target:
            return
        qtbot.keyClick(box, Qt.Key.Key_Down if box.currentIndex() < target else Qt.Key.Key_Up)
    assert box.currentText() == text, f"{box.objectName()}: arrow keys reached {box.currentText()!r}, not {text!r}"


def scan(qtbot, win: MainWindow, code: str) -> None:  # type: ignore[no-untyped-def]
    """A USB scanner: a fast burst of keystrokes ending in Enter, into whatever has the keyboard."""
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None)
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)
    target = QApplication.focusWidget() or win  # wherever the cursor is: the window takes a scan back from a field
    qtbot.keyClicks(target, code)
    qtbot.keyClick(target, Qt.Key.Key_Return)


def status(win: MainWindow) -> str:
    return win.status_label.text()


# --- the day -----------------------------------------------------------------------------------


def test_a_day_in_the_vault(
    qtbot,
    demo_store: tuple[str, demo.DemoSummary],
    tmp_path: Path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, summary = demo_store
    monkeypatch.setattr(app, "_start_daily_backup", lambda db: None)  # the copy is ui/app.py's, not the day's
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)

    # sign in: user name, Enter, PIN, Enter
    def sign_in(dialog: QWidget) -> None:
        assert isinstance(dialog, LoginDialog)
        qtbot.keyClicks(dialog.username, "maria")
        qtbot.keyClick(dialog.username, Qt.Key.Key_Return)  # on to the PIN
        qtbot.keyClicks(dialog.pin, "222222")
        qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)

    when_modal(LoginDialog, sign_in)
    win = app.open_window(url, settings)
    assert win is not None
    qtbot.addWidget(win)
    try:
        win.show()
        qtbot.waitExposed(win)
        db = win.ctx.db
        assert win.ctx.actor.username == "maria" and "maria" in win.user_label.text()
        _the_day(qtbot, win, db, summary, tmp_path, monkeypatch)
        no_failure_in_dialogs()
    finally:
        QApplication.instance().removeEventFilter(win.scanner)
        commands.wait_until_idle()
        db = win.ctx.db
        win.close()
        db.dispose()


def _the_day(
    qtbot,
    win: MainWindow,
    db: Database,
    summary: demo.DemoSummary,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ui.tabs.reconciliation import ReconciliationTab

    # 1. reconcile yesterday: the tab opens on yesterday; the planted differences are found
    recon = open_tab(qtbot, win, ReconciliationTab)
    yesterday = datetime.now(demo.STORE_TZ).date() - timedelta(days=1)
    assert recon.business_day == yesterday
    planted = {(p.kind, p.receipt_number, p.tag) for p in summary.planted if p.day == yesterday}
    assert 2 <= len(planted) <= 4
    click(qtbot, recon.reconcile_button)
    qtbot.waitUntil(lambda: status(win).startswith(f"Reconciled {yesterday}"), timeout=20_000)
    assert {(f.kind, f.receipt_number, f.tag) for f in recon.model.rows} == planted
    assert {
        (f.kind, f.receipt_number, f.tag) for f in reconciliation.day_view(db, SYSTEM, yesterday).findings
    } == planted

    # 2. a cycle count of one item, counted by scanning, then submitted
    counted = _count_an_item(qtbot, win, db, summary)
    # 3. the waiting deliveries: scan the packages, create the new item, accept, finish into the vault
    received = _receive_the_deliveries(qtbot, win, db)
    # 4. replenish the floor: the recorded transfer arrives; a new one is recorded, then moved
    moved = _replenish_the_floor(qtbot, win, db, summary, received)
    # 5. both workbooks
    _export_the_workbooks(qtbot, win, tmp_path, monkeypatch, "Morning spot count", counted)
    # 6. shelf-ready package labels for what went to the floor, read back from the PDF
    _print_labels(qtbot, win, moved[:4], tmp_path, monkeypatch)


def _vault_item(db: Database, summary: demo.DemoSummary) -> tuple[str, dict[str, Decimal]]:
    """An item whose active packages (one to four) all sit in the vault, none in this morning's transfer."""
    from sqlalchemy import select

    from backoffice.db.models import Item, Location, Package
    from backoffice.domain.enums import LocationKind, PackageStatus

    moving = {line.tag for line in transfers.get_transfer(db, SYSTEM, summary.transfer_id).lines}  # type: ignore[arg-type]
    with db.read() as session:
        rows = session.execute(
            select(Item.sku, Package.tag, Package.quantity, Location.kind)
            .join(Package, Package.item_id == Item.id)
            .join(Location)
            .where(Package.status == PackageStatus.ACTIVE)
            .order_by(Item.sku, Package.tag)
        ).all()
    by_sku: dict[str, list[tuple[str, Decimal, LocationKind]]] = {}
    for sku, tag, quantity, kind in rows:
        by_sku.setdefault(sku, []).append((tag, quantity, kind))
    sku, packages = next(
        (sku, packages)
        for sku, packages in by_sku.items()
        if 1 <= len(packages) <= 4
        and all(kind is LocationKind.VAULT and tag not in moving and quantity > 0 for tag, quantity, kind in packages)
    )
    return sku, {tag: quantity for tag, quantity, _ in packages}


def _count_an_item(qtbot, win: MainWindow, db: Database, summary: demo.DemoSummary) -> int:  # type: ignore[no-untyped-def]
    from ui.tabs.cycle_count import CycleCountTab
    from ui.tabs.cycle_count_dialogs import StartCountDialog

    sku, packages = _vault_item(db, summary)
    tab = open_tab(qtbot, win, CycleCountTab)

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, StartCountDialog)
        qtbot.keyClick(dialog.name, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(dialog.name, "Morning spot count")
        qtbot.keyClicks(dialog.skus, sku)
        click(qtbot, button(dialog, "Start count"))

    when_modal(StartCountDialog, fill)
    click(qtbot, tab.new_button)
    no_failure_in_dialogs()
    qtbot.waitUntil(lambda: tab.current is not None and tab.current.name == "Morning spot count", timeout=20_000)
    assert tab.current.expected_lines == len(packages)
    assert tab.location_box.currentData() is None  # not the floor of the last count viewed (a false STOP)
    choose(qtbot, tab.location_box, "Vault")  # counting at: the vault
    for tag, quantity in packages.items():
        scan(qtbot, win, tag)
        qtbot.waitUntil(lambda t=tag: tab.pending is not None and tab.pending.tag == t)
        qtbot.keyClicks(tab.quantity, f"{quantity.normalize():f}")
        qtbot.keyClick(tab.quantity, Qt.Key.Key_Return)
        _wait_status(qtbot, win, f"Counted {tag}")
    qtbot.waitUntil(lambda: tab.current is not None and tab.current.counted_lines == len(packages), timeout=10_000)

    when_modal(QMessageBox, lambda box: click(qtbot, button(box, "Submit")))
    click(qtbot, tab.submit_button)
    count_id = tab.current.id
    qtbot.waitUntil(lambda: counts.get_count(db, SYSTEM, count_id).status is CountStatus.SUBMITTED, timeout=10_000)
    done = counts.get_count(db, SYSTEM, count_id)
    assert (done.lines_counted, done.lines_matching, done.accuracy) == (len(packages), len(packages), Decimal(100))
    return len(packages)


def _wait_status(qtbot, win: MainWindow, start: str) -> None:  # type: ignore[no-untyped-def]
    try:
        qtbot.waitUntil(lambda: status(win).startswith(start), timeout=10_000)
    except TimeoutError:
        raise AssertionError(f"waited for {start!r}; the status line says {status(win)!r}") from None


def click_row(qtbot, view, row: int) -> None:  # type: ignore[no-untyped-def]
    centre = view.visualRect(view.proxy.index(row, 0)).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)


def _receive_the_deliveries(qtbot, win: MainWindow, db: Database) -> list[str]:  # type: ignore[no-untyped-def]
    """Both waiting manifests, the one with a product new to the store last; returns the first's tags."""
    maria = users.actor_for(db, "maria")
    waiting = [receiving.get_manifest(db, maria, m.id) for m in receiving.list_manifests(db, maria, open_only=True)]
    waiting.sort(key=lambda v: any(line.item_id is None for line in v.lines))
    assert len(waiting) == 2 and any(line.item_id is None for line in waiting[1].lines)
    received = _receive_the_delivery(qtbot, win, db, waiting[0])
    _receive_the_delivery(qtbot, win, db, waiting[1])
    return received


def _create_the_new_item(qtbot, tab) -> None:  # type: ignore[no-untyped-def]
    """Create items…: type the shelf price into the new item's row, then Create items."""
    from ui.tabs.receiving_items import _PRICE, CreateItemsDialog

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, CreateItemsDialog)
        table = dialog.table
        for row in range(table.rowCount()):
            centre = table.visualItemRect(table.item(row, _PRICE)).center()
            qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
            qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
            editor = next(e for e in table.viewport().findChildren(QLineEdit) if e.isVisible())  # the cell's editor
            qtbot.keyClicks(editor, "24.99")
            qtbot.keyClick(editor, Qt.Key.Key_Return)
            qtbot.waitUntil(lambda r=row: table.item(r, _PRICE).text() == "24.99")  # the delegate commits it queued
        click(qtbot, button(dialog, "Create items"))

    when_modal(CreateItemsDialog, fill)
    click(qtbot, button(tab, "Create items…"))
    no_failure_in_dialogs()


def _receive_the_delivery(qtbot, win: MainWindow, db: Database, view) -> list[str]:  # type: ignore[no-untyped-def]
    from ui.tabs.receiving import ReceivingTab

    maria = users.actor_for(db, "maria")
    tags = [line.tag for line in view.lines]
    tab = open_tab(qtbot, win, ReceivingTab)
    qtbot.waitUntil(lambda: any(r.id == view.id for r in tab.list_model.rows))  # read as the tab is first shown
    row = next(r for r in range(tab.list_model.rowCount()) if tab.list_model.rows[r].id == view.id)
    click_row(qtbot, tab.list_view, tab.list_view.proxy.mapFromSource(tab.list_model.index(row, 0)).row())
    qtbot.waitUntil(lambda: tab.current is not None and tab.current.id == view.id)
    for tag in tags:
        scan(qtbot, win, tag)
        qtbot.waitUntil(lambda t=tag: t in status(win) and "working…" not in status(win), timeout=10_000)
    commands.wait_until_idle()
    lines = receiving.get_manifest(db, maria, view.id).lines
    assert all(line.state is ManifestLineState.SCANNED for line in lines), [(ln.tag, ln.state) for ln in lines]
    if any(line.item_id is None for line in lines):
        _create_the_new_item(qtbot, tab)
        qtbot.waitUntil(
            lambda: all(line.item_id is not None for line in receiving.get_manifest(db, maria, view.id).lines),
            timeout=10_000,
        )
    click(qtbot, tab.accept_scanned_button)
    qtbot.waitUntil(lambda: "accepted" in status(win), timeout=10_000)
    assert status(win).startswith(f"{len(tags)} package(s) accepted"), status(win)

    from ui.tabs.receiving_dialogs import FinishDialog, ReceivedDialog

    when_modal(FinishDialog, lambda dialog: click(qtbot, button(dialog, "Receive")))
    when_modal(ReceivedDialog, lambda dialog: click(qtbot, button(dialog, "Close")))
    click(qtbot, tab.finish_button)
    qtbot.waitUntil(lambda: status(win).startswith(f"Manifest {view.manifest_number} received"), timeout=20_000)
    commands.wait_until_idle()
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None, timeout=10_000)
    no_failure_in_dialogs()
    assert receiving.get_manifest(db, maria, view.id).status is ManifestStatus.RECEIVED
    for tag in tags:
        package = inventory.find_by_tag(db, SYSTEM, tag)
        assert package is not None and package.location == "Vault"
    return tags


def _replenish_the_floor(
    qtbot,
    win: MainWindow,
    db: Database,
    summary: demo.DemoSummary,  # type: ignore[no-untyped-def]
    received: list[str],
) -> list[str]:
    from ui.tabs.transfers import TransfersTab

    tab = open_tab(qtbot, win, TransfersTab)
    # this morning's transfer was recorded yesterday: the product arrives, each package scanned on the floor
    waiting = transfers.get_transfer(db, SYSTEM, summary.transfer_id)  # type: ignore[arg-type]
    row = next(r for r in range(tab.transfer_model.rowCount()) if tab.transfer_model.rows[r].id == waiting.id)
    click_row(qtbot, tab.transfer_view, tab.transfer_view.proxy.mapFromSource(tab.transfer_model.index(row, 0)).row())
    assert tab.current is not None and tab.current.id == waiting.id
    moved = [line.tag for line in waiting.lines]
    for tag in moved:
        scan(qtbot, win, tag)
        _wait_status(qtbot, win, f"{tag} arrived")
    assert transfers.get_transfer(db, SYSTEM, waiting.id).status is TransferStatus.MOVED

    # then a new one: draft, scan what was received, record (METRC first), then move and scan on arrival
    click(qtbot, button(tab, "New draft"))
    qtbot.waitUntil(lambda: status(win).startswith("Draft transfer #"), timeout=10_000)
    draft = tab.current
    assert draft is not None and draft.status is TransferStatus.DRAFT
    for tag in received[:2]:
        scan(qtbot, win, tag)
        _wait_status(qtbot, win, f"Added {tag}")
    click(qtbot, tab.record_button)
    qtbot.waitUntil(lambda: status(win).startswith(f"Transfer #{draft.id} recorded"), timeout=10_000)
    assert transfers.get_transfer(db, SYSTEM, draft.id).status is TransferStatus.RECORDED
    qtbot.wait(1_300)  # carrying the product out: the same tag again at once would be a scanner's double read
    for tag in received[:2]:
        scan(qtbot, win, tag)
        _wait_status(qtbot, win, f"{tag} arrived")
    done = transfers.get_transfer(db, SYSTEM, draft.id)
    assert done.status is TransferStatus.MOVED and all(line.moved for line in done.lines)
    return moved


def _export_the_workbooks(
    qtbot,
    win: MainWindow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
    count_name: str,
    lines: int,
) -> None:
    """Velocity, then accuracy, which now ends with this morning's count."""
    from ui.tabs.reports import ReportKind, ReportsTab

    tab = open_tab(qtbot, win, ReportsTab)
    sheets: dict[ReportKind, dict[str, list[tuple[object, ...]]]] = {}

    def saved_box() -> QMessageBox | None:
        return next(
            (
                w
                for w in QApplication.topLevelWidgets()
                if isinstance(w, QMessageBox) and w.objectName() == "reportSaved" and w.isVisible()
            ),
            None,
        )

    for kind, name in ((ReportKind.VELOCITY, "velocity.xlsx"), (ReportKind.ACCURACY, "accuracy.xlsx")):
        choose(qtbot, tab.kind_box, kind.value)
        path = tmp_path / name
        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, p=path, **k: (str(p), "")))
        click(qtbot, tab.export_button)
        qtbot.waitUntil(lambda: saved_box() is not None, timeout=30_000)
        box = saved_box()
        click(qtbot, box.button(QMessageBox.StandardButton.Close))
        book = openpyxl.load_workbook(path, read_only=True)
        sheets[kind] = {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}
        book.close()
    summary = sheets[ReportKind.VELOCITY]["Summary"]
    assert summary[0][0] == "SKU" and len(summary) > 1
    last_count = sheets[ReportKind.ACCURACY]["Counts"][-1]
    assert (last_count[1], last_count[7], last_count[8], last_count[9]) == (count_name, lines, lines, 1)


def _print_labels(
    qtbot,
    win: MainWindow,
    tags: list[str],
    tmp_path: Path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ui.tabs.labels import LabelsTab

    tab = open_tab(qtbot, win, LabelsTab)
    for tag in tags:
        scan(qtbot, win, tag)
        qtbot.waitUntil(lambda t=tag: t in tab.tags)
    pdf = tmp_path / "labels.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(pdf), "")))
    click(qtbot, tab.pdf_button)
    qtbot.waitUntil(lambda: f"to {pdf}" in status(win), timeout=30_000)
    subprocess.run(["pdftoppm", "-r", "300", "-png", str(pdf), str(tmp_path / "labels")], check=True)
    pages = sorted(tmp_path.glob("labels-*.png"))
    done = subprocess.run(["zbarimg", "--xml", "-q", *map(str, pages)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    namespace = "{http://zbar.sourceforge.net/2008/barcode}"
    decoded = [data.text for data in ET.fromstring(done.stdout).iter(f"{namespace}data")]
    assert sorted(decoded) == sorted(tags)
