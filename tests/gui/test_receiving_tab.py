"""Receiving tab driven like a person: import the sample manifest, scan every package (and a
few wrong ones), fix what the scans flag through the dialogs, accept, finish into the vault
and save bin labels; a receiving in progress reopens where it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget
from sqlalchemy import select

from backoffice.db.models import Package
from backoffice.domain.enums import ManifestLineState, ManifestStatus
from backoffice.services import locations, receiving
from backoffice.services.actor import SYSTEM
from tests.gui.conftest import scan, when_modal
from tests.unit.receiving_store import SAMPLE_NUMBER, line, manifest, sample_tag
from ui.main_window import MainWindow
from ui.tabs.receiving import ReceivingTab
from ui.tabs.receiving_dialogs import FinishDialog, QuantityDialog, ReceivedDialog, RejectDialog, TagEndDelegate
from ui.tabs.receiving_items import CreateItemsDialog

pytestmark = pytest.mark.gui

UNKNOWN = (1, 2, 5)  # sample packages whose items the store does not carry
FLOWER = 4


@pytest.fixture
def tab(qtbot, main_window: MainWindow, samples: Path) -> ReceivingTab:  # type: ignore[no-untyped-def]
    locations.add_location(main_window.ctx.db, SYSTEM, "Quarantine", "quarantine")  # listed before the vault
    found = main_window.tab(ReceivingTab)
    main_window.tabs.setCurrentWidget(found)
    found.import_file(samples / "metrc_incoming_transfer.json")
    qtbot.waitUntil(
        lambda: found.current is not None and found.current.manifest_number == SAMPLE_NUMBER, timeout=10_000
    )
    found.line_view.setFocus()
    return found


def _scan(qtbot, window: MainWindow, tab: ReceivingTab, code: str) -> str:  # type: ignore[no-untyped-def]
    window.activateWindow()
    tab.line_view.setFocus()
    window.scanner._last_scan = ("", 0.0)  # the next package, not a double scan
    scan(qtbot, tab.line_view, code)
    qtbot.waitUntil(lambda: not window.status_label.text().endswith("working…"), timeout=10_000)  # a command
    return window.status_label.text()


def _select(tab: ReceivingTab, code: str) -> None:
    row = tab.line_model.row_of_tag(code)
    assert row is not None
    tab.line_view.setCurrentIndex(tab.line_view.proxy.mapFromSource(tab.line_model.index(row, 0)))


def _line(tab: ReceivingTab, code: str) -> receiving.LineView:
    return next(ln for ln in tab.line_model.rows if ln.tag == code)


def _click(dialog: QWidget, text: str) -> None:
    next(b for b in dialog.findChildren(QPushButton) if b.text() == text).click()


def test_a_whole_receiving_by_scans(
    qtbot,
    main_window: MainWindow,
    tab: ReceivingTab,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = main_window
    assert "Manifest 0004412217" in tab.header.text() and "Verde Labs Distribution" in tab.header.text()
    assert "Driver J. Alvarez" in tab.header.text() and "0/14 scanned" in tab.header.text()

    for n in range(1, 15):
        message = _scan(qtbot, window, tab, sample_tag(n))
        if n in UNKNOWN:
            assert "is not in this store's catalogue" in message and window.status_kind == "error"
            assert tab.panel.text().endswith("then accept the package, or reject it.")  # in full, not cut off
        else:
            assert message.startswith(f"{sample_tag(n)} ticked:") and window.status_kind == "ok"
        assert tab.line_view.current_row() == _line(tab, sample_tag(n))  # the scanned line is in front
    assert "14/14 scanned" in tab.header.text() and "⚠ 3 cannot be accepted yet: see Problem" in tab.header.text()
    assert "is not on manifest 0004412217" in _scan(qtbot, window, tab, "1A4060300000000000009999")
    assert "was already scanned" in _scan(qtbot, window, tab, sample_tag(7))
    assert window.status_kind == "error"

    _select(tab, sample_tag(1))  # the associate adds the new cartridge to the catalogue, unpriced
    offered: list[tuple[str, str]] = []

    def create(dialog: QWidget) -> None:
        assert isinstance(dialog, CreateItemsDialog)
        offered.extend((p.item_name, p.brand) for p in dialog.proposals)
        assert dialog.no_price.isChecked() and not dialog.no_price.isEnabled()  # an associate sets no price
        _click(dialog, "Create items")

    when_modal(CreateItemsDialog, create)
    tab.item_button.click()
    assert offered == [("Kind Harvest GMO Cookies Live Resin Cart 1g", "")]  # the store knows no brands yet
    qtbot.waitUntil(lambda: _line(tab, sample_tag(1)).problem is None)
    assert window.status_label.text() == "1 item(s) created (1 with no price yet); 1 manifest line(s) now use them."

    for n in (2, 5):  # the others were not ordered: refused
        _select(tab, sample_tag(n))

        def refuse(dialog: QWidget) -> None:
            assert isinstance(dialog, RejectDialog)
            dialog.reason.setCurrentText("Not ordered")
            qtbot.keyClicks(dialog.note, "not on our purchase order; driver took it back")
            _click(dialog, "Reject package")

        when_modal(RejectDialog, refuse)
        tab.reject_button.click()
        assert _line(tab, sample_tag(n)).state is ManifestLineState.REJECTED

    _select(tab, sample_tag(FLOWER))
    errors: list[str] = []

    def weigh(dialog: QWidget) -> None:
        assert isinstance(dialog, QuantityDialog)
        dialog.quantity.clear()
        qtbot.keyClicks(dialog.quantity, "452.8")
        _click(dialog, "Save")
        qtbot.waitUntil(dialog.error.isVisible)
        errors.append(dialog.error.text())  # a difference without a note is refused in the dialog
        qtbot.keyClicks(dialog.note, "scale shows 452.8 g")
        _click(dialog, "Save")

    when_modal(QuantityDialog, weigh)
    tab.quantity_button.click()
    assert "Say why in a note" in errors[0]
    assert str(_line(tab, sample_tag(FLOWER)).received_quantity) == "452.8000"

    tab.accept_scanned_button.click()
    qtbot.waitUntil(lambda: "12 package(s) accepted." in window.status_label.text())
    qtbot.waitUntil(
        lambda: all(ln.state in (ManifestLineState.ACCEPTED, ManifestLineState.REJECTED) for ln in tab.line_model.rows)
    )

    bins: dict[str, str] = {}

    def receive(dialog: QWidget) -> None:
        assert isinstance(dialog, FinishDialog)
        assert dialog.location.currentText() == "Vault"  # not Quarantine, which comes first by name
        assert isinstance(dialog.bin_view.itemDelegateForColumn(0), TagEndDelegate)  # "…0000005004", not "1A40…"
        bins.update({ln.tag: dialog.bins.data(dialog.bins.index(row, 4)) for row, ln in enumerate(dialog.bins.rows)})
        _click(dialog, "Receive")

    labels_pdf, sheet_pdf = tmp_path / "bins.pdf", tmp_path / "sheet.pdf"
    monkeypatch.setattr(
        "ui.tabs.receiving_finish.QFileDialog.getSaveFileName",
        lambda parent, title, *a, **k: (str(labels_pdf if "bin" in title else sheet_pdf), ""),
    )

    def save_both(dialog: QWidget) -> None:  # the choice stays open after the first save
        assert isinstance(dialog, ReceivedDialog)
        dialog.labels_button.click()
        qtbot.waitUntil(lambda: "bin label(s) saved" in window.status_label.text(), timeout=20_000)
        assert dialog.isVisible()
        dialog.sheet_button.click()
        qtbot.waitUntil(lambda: "Receiving report saved" in window.status_label.text(), timeout=20_000)
        _click(dialog, "Close")

    when_modal(FinishDialog, receive)
    when_modal(ReceivedDialog, save_both)
    tab.finish_button.click()
    qtbot.waitUntil(lambda: "Receiving report saved" in window.status_label.text(), timeout=30_000)
    assert bins[sample_tag(FLOWER)] == "V-BUD-01" and len(bins) == 12
    assert labels_pdf.read_bytes().startswith(b"%PDF") and sheet_pdf.read_bytes().startswith(b"%PDF")
    qtbot.waitUntil(lambda: tab.current is not None and tab.current.status is ManifestStatus.RECEIVED)
    assert "received into Vault by alex" in tab.header.text()
    with tab.ctx.db.read() as session:
        flower = session.scalar(select(Package).where(Package.tag == sample_tag(FLOWER)))
        assert flower is not None and (str(flower.quantity), flower.bin) == ("452.8000", "V-BUD-01")
    assert _scan(qtbot, window, tab, sample_tag(3)).startswith("Choose the open manifest of this delivery")


def test_a_receiving_in_progress_reopens_where_the_scans_left_off(
    qtbot,
    main_window: MainWindow,  # type: ignore[no-untyped-def]
    tab: ReceivingTab,
) -> None:
    for n in (3, 4):
        _scan(qtbot, main_window, tab, sample_tag(n))
    main_window.tabs.setCurrentIndex(0)  # the app closes; a new window opens on the same database
    reopened = ReceivingTab(tab.ctx)
    qtbot.addWidget(reopened)
    qtbot.waitUntil(lambda: reopened.current is not None)  # read off the GUI thread
    assert reopened.current is not None and reopened.current.manifest_number == SAMPLE_NUMBER
    assert "2/14 scanned" in reopened.header.text()
    states = {ln.tag: ln.state for ln in reopened.line_model.rows}
    assert states[sample_tag(3)] is ManifestLineState.SCANNED and states[sample_tag(6)] is ManifestLineState.PENDING


def test_a_hidden_tab_catches_up_when_shown(qtbot, main_window: MainWindow, tab: ReceivingTab) -> None:  # type: ignore[no-untyped-def]
    main_window.tabs.setCurrentIndex(0)
    result = receiving.import_manifest(tab.ctx.db, tab.ctx.actor, manifest("0009990001", line(1)))
    tab.ctx.notify(result.changes)
    assert [m.manifest_number for m in tab.list_model.rows] == [SAMPLE_NUMBER]  # no work while out of sight
    main_window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: [m.manifest_number for m in tab.list_model.rows] == ["0009990001", SAMPLE_NUMBER])


def test_receiving_report_is_saved_off_the_gui_thread(
    qtbot,
    main_window: MainWindow,
    tab: ReceivingTab,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _scan(qtbot, main_window, tab, sample_tag(3))
    out = tmp_path / "report.pdf"
    monkeypatch.setattr("ui.tabs.receiving_finish.QFileDialog.getSaveFileName", lambda *a, **k: (str(out), ""))
    tab.report_button.click()
    qtbot.waitUntil(lambda: "Receiving report saved" in main_window.status_label.text(), timeout=20_000)
    QThreadPool.globalInstance().waitForDone(5_000)
    assert out.read_bytes().startswith(b"%PDF")


def test_check_that_metrc_agrees_from_its_export(
    qtbot,
    main_window: MainWindow,
    tab: ReceivingTab,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db, actor = tab.ctx.db, tab.ctx.actor
    assert tab.current is not None
    for n in UNKNOWN:
        receiving.reject(db, actor, tab.current.id, sample_tag(n), "Not ordered", "not ours")
    received = receiving.accept_all(db, actor, tab.current.id)  # checked on paper at another workstation
    tab.ctx.notify(received.changes)
    qtbot.waitUntil(lambda: not tab.check_button.isEnabled())  # the received manifest left the list of open ones
    tab.show_received.setChecked(True)
    qtbot.waitUntil(lambda: any(m.id == received.manifest_id for m in tab.list_model.rows))
    tab.select_manifest(received.manifest_id)
    qtbot.waitUntil(lambda: tab.check_button.isEnabled())
    assert "Key the receive sheet into METRC" in tab.panel.text()
    export = tmp_path / "active.json"
    export.write_text(
        json.dumps(
            [
                {
                    "Label": p.tag,
                    "Quantity": str(p.quantity),
                    "UnitOfMeasureName": p.unit.value,
                    "ReceivedFromManifestNumber": SAMPLE_NUMBER,
                    "Item": {"Name": p.item_name},
                }
                for p in received.received
            ]
        )
    )
    monkeypatch.setattr("ui.tabs.receiving_finish.QFileDialog.getOpenFileName", lambda *a, **k: (str(export), ""))
    said: list[str] = []

    def read(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        said.append(box.text())
        box.accept()

    when_modal(QMessageBox, read)
    tab.check_button.click()
    qtbot.waitUntil(lambda: bool(said), timeout=10_000)
    assert said[0] == (
        f"METRC shows manifest {SAMPLE_NUMBER} as received here: 11 accepted, 3 rejected. The "
        "receive sheet is closed in the METRC outbox."
    )


def test_models_pass_the_model_tester(qtmodeltester, tab: ReceivingTab) -> None:  # type: ignore[no-untyped-def]
    qtmodeltester.check(tab.list_model)
    qtmodeltester.check(tab.line_model)
