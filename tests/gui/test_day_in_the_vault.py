"""A day in the vault, as one test (issue 18): the real main window, built as ui/app.py builds
it, on a demo store, driven by keystrokes and clicks only. Sign in; reconcile yesterday (the
planted differences); start and submit a count by scanning; receive the waiting delivery;
replenish the floor (record, then arrival scans); export both workbooks; print labels to PDF
and read their barcodes back with zbarimg. Services are called only to check the outcome."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QPushButton, QWidget

from backoffice import demo
from backoffice.db.engine import Database
from backoffice.domain.enums import CountStatus, ManifestStatus, TransferStatus
from backoffice.services import counts, inventory, receiving, reconciliation, transfers, users
from ui import app, commands
from ui.login import LoginDialog
from ui.main_window import MainWindow
from ui.tabs.base import Tab

pytestmark = [pytest.mark.gui, pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("zbarimg") is None,
    reason="reading printed labels back needs pdftoppm (poppler-utils) and zbarimg (zbar-tools)")]

# the small demo takes a minute to build; this one keeps every kind of waiting work in seconds
DAY = demo.Scale(skus=40, active_packages=240, days=21, sale_lines=2_500)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory,
               _sqlite_template: Path) -> Iterator[tuple[str, demo.DemoSummary]]:
    path = tmp_path_factory.mktemp("day") / "demo.sqlite"
    shutil.copyfile(_sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(demo.SCALES, "day", DAY)
        summary = demo.build(db, "day")
    db.dispose()
    yield f"sqlite:///{path}", summary


# --- driving the window like a person --------------------------------------------------------

def when_modal(kind: type[QWidget], act: Callable[[QWidget], None]) -> None:
    """Answer the next modal dialog of ``kind`` once it is up (it runs its own event loop)."""
    def attempt() -> None:
        widget = QApplication.activeModalWidget()
        if not isinstance(widget, kind):
            QTimer.singleShot(20, attempt)
            return
        act(widget)

    QTimer.singleShot(20, attempt)


def button(parent: QWidget, text: str) -> QPushButton:
    return next(b for b in parent.findChildren(QPushButton) if b.text() == text and b.isVisible())


def click(qtbot, widget: QWidget) -> None:  # type: ignore[no-untyped-def]
    assert widget.isEnabled(), f"{widget.text() if isinstance(widget, QPushButton) else widget} is disabled"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def open_tab(qtbot, win: MainWindow, kind: type[Tab]) -> Tab:  # type: ignore[no-untyped-def]
    tab = next(t for t in win.tab_widgets if isinstance(t, kind))
    bar = win.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(win.tabs.indexOf(tab)).center())
    assert win.tabs.currentWidget() is tab
    return tab


def scan(qtbot, win: MainWindow, code: str) -> None:  # type: ignore[no-untyped-def]
    """A USB scanner: a fast burst of keystrokes ending in Enter, into whatever has the keyboard."""
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None)
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)
    target = QApplication.focusWidget() or win
    if isinstance(target, QLineEdit):  # a scan lands wherever the cursor is; a field may keep it, a list never
        win.tabs.currentWidget().setFocus()
        target = QApplication.focusWidget() or win
    qtbot.keyClicks(target, code)
    qtbot.keyClick(target, Qt.Key.Key_Return)


def status(win: MainWindow) -> str:
    return win.status_label.text()


# --- the day -----------------------------------------------------------------------------------

def test_a_day_in_the_vault(qtbot, demo_store: tuple[str, demo.DemoSummary], tmp_path: Path,  # type: ignore[no-untyped-def]
                            monkeypatch: pytest.MonkeyPatch) -> None:
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
    finally:
        QApplication.instance().removeEventFilter(win.scanner)
        commands.wait_until_idle()
        db = win.ctx.db
        win.close()
        db.dispose()


def _the_day(qtbot, win: MainWindow, db: Database, summary: demo.DemoSummary, tmp_path: Path,  # type: ignore[no-untyped-def]
             monkeypatch: pytest.MonkeyPatch) -> None:
    from ui.tabs.reconciliation import ReconciliationTab

    maria = users.actor_for(db, "maria")
    # 1. reconcile yesterday: the tab opens on yesterday; the planted differences are found
    recon = open_tab(qtbot, win, ReconciliationTab)
    yesterday = datetime.now(demo.STORE_TZ).date() - timedelta(days=1)
    assert recon.business_day == yesterday
    planted = {(p.kind, p.receipt_number, p.tag) for p in summary.planted if p.day == yesterday}
    assert 2 <= len(planted) <= 4
    click(qtbot, recon.reconcile_button)
    qtbot.waitUntil(lambda: status(win).startswith(f"Reconciled {yesterday}"), timeout=20_000)
    assert {(f.kind, f.receipt_number, f.tag) for f in recon.model.rows} == planted
    assert {(f.kind, f.receipt_number, f.tag) for f in reconciliation.day_view(db, yesterday).findings} == planted
