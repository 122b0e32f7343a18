"""Scans and dialogs, driven by keystrokes with the keyboard's own timestamps: a scanner's
burst (5–20 ms apart) is a scan, a person's typing (60 ms apart) is text, even when the busy
window gets the keys all at once; a dialog's fields keep what is typed in them; while a box
is open, scans wait for it instead of stacking a second box; Enter picks the safe choice."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QInputDialog, QLineEdit, QMessageBox, QWidget

from backoffice.services import counts, transfers
from backoffice.services.actor import SYSTEM
from backoffice.services.counts import Scope
from tests.gui.conftest import type_keys, when_modal
from ui import commands
from ui.main_window import MainWindow
from ui.tabs.cycle_count import CycleCountTab
from ui.tabs.inventory import InventoryTab
from ui.tabs.transfers import TransfersTab

pytestmark = pytest.mark.gui

SCANNER_MS, PERSON_MS = 10, 60
UNKNOWN_TAG = "1A40603000000000000009ZZ"


def _vault_tags(samples: Path) -> list[str]:
    return [
        r["Label"]
        for r in json.loads((samples / "metrc_packages_active.json").read_text())
        if r["LocationName"] == "Vault" and r["LabTestingState"] == "TestPassed" and not r["IsOnHold"]
    ]


def _tab(window: MainWindow, kind: type[QWidget]) -> QWidget:
    return window.tab(kind)


def _open_boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def test_a_word_typed_at_a_persons_pace_stays_in_the_filter(qtbot, main_window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    inventory = _tab(main_window, InventoryTab)
    assert isinstance(inventory, InventoryTab)
    scans: list[str] = []
    main_window.scanner.scanned.connect(scans.append)
    inventory.filter.setFocus()
    type_keys("gummies", PERSON_MS)  # arrives in one go, as it does when the window was busy
    assert inventory.filter.text() == "gummies" and scans == []
    assert "not a METRC tag" not in main_window.status_label.text()


def test_a_scanners_burst_into_the_filter_is_a_scan(qtbot, main_window: MainWindow, samples: Path) -> None:  # type: ignore[no-untyped-def]
    inventory = _tab(main_window, InventoryTab)
    assert isinstance(inventory, InventoryTab)
    tag = _vault_tags(samples)[0]
    inventory.filter.setFocus()
    type_keys(tag, SCANNER_MS)
    assert inventory.filter.text() == ""  # taken back out of the field
    qtbot.waitUntil(lambda: not inventory.showing_scan)  # its row follows the answer
    assert inventory.model.rows[inventory.view.currentIndex().row()].tag == tag


def test_a_dialogs_own_field_keeps_even_a_fast_burst(qtbot, main_window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    scans: list[str] = []
    main_window.scanner.scanned.connect(scans.append)
    dialog = QInputDialog(main_window)
    dialog.setLabelText("Save as")
    dialog.open()
    qtbot.waitUntil(dialog.isVisible)
    field = dialog.findChild(QLineEdit)
    dialog.activateWindow()
    field.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is field)
    type_keys("1A4060300000000000000001", SCANNER_MS, enter=False)
    type_keys("report", PERSON_MS, enter=False, start_ms=2_000_000)
    assert field.text() == "1A4060300000000000000001report" and scans == []
    dialog.reject()


def test_a_scan_while_the_stop_box_is_open_waits_and_enter_puts_it_back(  # type: ignore[no-untyped-def]
    qtbot, main_window: MainWindow, samples: Path
) -> None:
    tab = _tab(main_window, TransfersTab)
    assert isinstance(tab, TransfersTab)
    main_window.tabs.setCurrentWidget(tab)
    tab.transfer_view.setFocus()
    first, second = _vault_tags(samples)[:2]
    most_boxes: list[int] = []
    watch = QTimer()
    watch.timeout.connect(lambda: most_boxes.append(len(_open_boxes())))
    watch.start(10)
    seen: dict[str, object] = {}

    # a box runs its own event loop: the associate's next moves are timers inside it
    def on_first_box(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        seen["default"], seen["first"] = box.defaultButton().text(), box.text()
        type_keys(second, SCANNER_MS, start_ms=2_000_000)  # scans the next package meanwhile
        QTimer.singleShot(200, lambda: read_then_enter(box))

    def read_then_enter(box: QMessageBox) -> None:
        seen["boxes_while_open"] = len(_open_boxes())
        seen["waiting"] = main_window.scan_router.waiting
        seen["status"] = main_window.status_label.text()
        _when_box(lambda b: b is not box, on_second_box)
        type_keys("", 0, start_ms=3_000_000)  # Enter: the safe choice

    def on_second_box(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        seen["second"] = box.text()
        type_keys("", 0, start_ms=4_000_000)
        seen["done"] = True

    _when_box(lambda b: True, on_first_box)
    type_keys(first, SCANNER_MS)
    qtbot.waitUntil(lambda: seen.get("done") is True and not _open_boxes(), timeout=10_000)
    commands.wait_until_idle()
    watch.stop()
    assert seen["default"] == "Put it back" and first in str(seen["first"])
    assert seen["boxes_while_open"] == 1 and seen["waiting"] == [second]
    assert "when this dialog is closed" in str(seen["status"])
    assert second in str(seen["second"])  # the held scan, handled once the first box closed
    assert max(most_boxes) == 1  # never two boxes at once
    assert transfers.list_transfers(main_window.ctx.db, SYSTEM) == []  # nothing was recorded by a stray Enter
    assert "Refused" in main_window.status_label.text() and "Product stays where it was" in tab.panel.text()


def _when_box(wanted: Callable[[QMessageBox], bool], act: Callable[[QWidget], None]) -> None:
    def attempt() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.isVisible() and wanted(box):
            act(box)
            return
        QTimer.singleShot(20, attempt)

    QTimer.singleShot(20, attempt)


def test_a_dialog_that_takes_scans_gets_them(qtbot, main_window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    class ScanningDialog(QDialog):
        def __init__(self, parent: QWidget) -> None:
            super().__init__(parent)
            self.codes: list[str] = []

        def handle_scan(self, code: str) -> None:
            self.codes.append(code)

    dialog = ScanningDialog(main_window)
    dialog.setModal(True)
    dialog.open()
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is dialog)
    dialog.setFocus()
    type_keys("1A4060300000000000000001", SCANNER_MS)
    assert dialog.codes == ["1A4060300000000000000001"] and main_window.scan_router.waiting == []
    dialog.reject()


def test_enter_on_the_submit_warning_keeps_counting(qtbot, main_window: MainWindow, store) -> None:  # type: ignore[no-untyped-def]
    db, actors = store
    started = counts.start_count(db, actors["alex"], "Vault shelf A", Scope(locations=("Vault",)), blind=False)
    tab = _tab(main_window, CycleCountTab)
    assert isinstance(tab, CycleCountTab)
    main_window.tabs.setCurrentWidget(tab)
    tab.reload_counts(select_id=started.id)
    qtbot.waitUntil(lambda: tab.current is not None and tab.current.id == started.id and tab.submit_button.isEnabled())
    seen: list[str] = []

    def press_enter(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        seen.append(box.defaultButton().text())
        type_keys("", 0, widget=box.focusWidget() or box)

    when_modal(QMessageBox, press_enter)
    qtbot.mouseClick(tab.submit_button, Qt.MouseButton.LeftButton)
    assert seen == ["Keep counting"]
    assert counts.get_count(db, SYSTEM, started.id).is_open


def test_the_panel_shows_a_long_problem_in_full(qtbot, main_window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    inventory = _tab(main_window, InventoryTab)
    assert isinstance(inventory, InventoryTab) and inventory.panel is not None
    inventory.view.setFocus()
    type_keys(UNKNOWN_TAG, SCANNER_MS)
    text = inventory.panel.text()
    assert text.startswith(f"Tag {UNKNOWN_TAG} is not in this store's inventory") and text.endswith("first.")
    assert inventory.panel.kind == "error" and inventory.panel.label.wordWrap()
    label = inventory.panel.label
    assert label.isVisible() and label.height() >= label.heightForWidth(label.width())  # every line of it shows
    assert label.mapTo(inventory, label.rect().bottomLeft()).y() < inventory.view.mapTo(inventory, QPoint(0, 0)).y()
