"""Transfers tab driven by scans: build, record, confirm; and the refusal when a scan comes first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from backoffice.domain.enums import TransferStatus
from backoffice.services import users
from tests.conftest import PINS
from tests.gui.conftest import scan, when_modal
from ui import commands
from ui.main_window import MainWindow
from ui.tabs.transfers import TransfersTab

pytestmark = pytest.mark.gui


@pytest.fixture
def window(main_window: MainWindow) -> MainWindow:
    tab = main_window.tab(TransfersTab)
    main_window.tabs.setCurrentWidget(tab)
    tab.transfer_view.setFocus()
    return main_window


def _vault_tags(samples: Path) -> list[str]:
    return [
        r["Label"]
        for r in json.loads((samples / "metrc_packages_active.json").read_text())
        if r["LocationName"] == "Vault" and r["LabTestingState"] == "TestPassed" and not r["IsOnHold"]
    ]


def _tab(window: MainWindow) -> TransfersTab:
    return window.tab(TransfersTab)


def _answer_message_box(button_text: str) -> None:
    def click(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        next(b for b in box.buttons() if button_text in b.text()).click()

    when_modal(QMessageBox, click)


def test_build_record_and_confirm_by_scans(qtbot, window: MainWindow, samples: Path) -> None:  # type: ignore[no-untyped-def]
    tab = _tab(window)
    tags = _vault_tags(samples)[:2]
    qtbot.mouseClick(tab.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.current is not None and tab.current.status is TransferStatus.DRAFT)
    tab.transfer_view.setFocus()
    for tag in tags:
        scan(qtbot, tab.transfer_view, tag)
    # the second scan's own answer, not the first's: a refresh may show both lines before it lands
    qtbot.waitUntil(lambda: f"Added {tags[1]}" in window.status_label.text())
    assert [line.tag for line in tab.current.lines] == tags
    tab.record_button.click()
    qtbot.waitUntil(lambda: "recorded and queued for METRC" in window.status_label.text())
    assert tab.current.status is TransferStatus.RECORDED
    assert "Move the product now" in tab.panel.text()
    tab.transfer_view.setFocus()
    for tag in tags:
        scan(qtbot, tab.transfer_view, tag)
    qtbot.waitUntil(lambda: "Transfer complete" in window.status_label.text())  # the last scan's answer
    assert tab.current.status is TransferStatus.MOVED


def test_scan_before_record_is_refused_and_offers_to_record(qtbot, window: MainWindow, samples: Path) -> None:  # type: ignore[no-untyped-def]
    tab = _tab(window)
    tag = _vault_tags(samples)[0]
    _answer_message_box("Put it back")
    scan(qtbot, tab.transfer_view, tag)
    qtbot.waitUntil(lambda: "Refused" in window.status_label.text())
    assert window.status_kind == "error"
    commands.wait_until_idle()
    _answer_message_box("Create and record")
    tab.transfer_view.setFocus()
    window.scanner._last_scan = ("", 0.0)  # the associate scans again after reading the message
    scan(qtbot, tab.transfer_view, tag)
    qtbot.waitUntil(lambda: "recorded. Now move" in window.status_label.text())
    assert tab.current is not None and tab.current.status is TransferStatus.RECORDED
    tab.transfer_view.setFocus()
    window.scanner._last_scan = ("", 0.0)  # a real associate walks to the floor before scanning again
    scan(qtbot, tab.transfer_view, tag)
    qtbot.waitUntil(lambda: tab.current.status is TransferStatus.MOVED)


def test_models_pass_the_model_tester(qtmodeltester, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    qtmodeltester.check(_tab(window).transfer_model)
    qtmodeltester.check(_tab(window).line_model)


def test_unused_tags_warn_when_low_and_a_manager_imports_more(
    qtbot,
    window: MainWindow,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PySide6.QtWidgets import QFileDialog

    bar = _tab(window).tags
    qtbot.waitUntil(lambda: bar.supply is not None)
    assert "No unused package tags" in bar.label.text() and bar.file_button.isHidden()  # alex: associate
    ctx = window.ctx
    ctx.sign_in(users.authenticate(ctx.db, "maria", PINS["maria"]).as_actor())
    window.tabs.setCurrentWidget(_tab(window))  # a sign-in starts on Inventory
    assert bar.file_button.isVisible() and bar.metrc_button.isVisible()
    order = tmp_path / "order.txt"
    order.write_text("1A4060300000000000090001-1A4060300000000000090005\n")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(order), "")))
    qtbot.mouseClick(bar.file_button, Qt.MouseButton.LeftButton)
    commands.wait_until_idle()
    qtbot.waitUntil(lambda: bar.supply is not None and bar.supply.available == 5)
    assert "Only 5 unused package tags left (fewer than 20)" in bar.label.text()
    order.write_text("".join(f"1A40603000000000000901{n:02d}\n" for n in range(20)))
    qtbot.mouseClick(bar.file_button, Qt.MouseButton.LeftButton)
    commands.wait_until_idle()
    qtbot.waitUntil(lambda: bar.supply is not None and bar.supply.available == 25)
    assert bar.label.text() == "Unused package tags: 25"
    bad = tmp_path / "bad.txt"
    bad.write_text("1A4060300000000000090009-1A4060300000000000090001\n")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(bad), "")))
    shown: list[str] = []
    monkeypatch.setattr("ui.messages.problem", lambda text, **k: shown.append(text))
    qtbot.mouseClick(bar.file_button, Qt.MouseButton.LeftButton)
    commands.wait_until_idle()
    qtbot.waitUntil(lambda: bool(shown))
    assert "bad.txt, line 1" in shown[0] and "comes before the first" in shown[0]
    assert bar.supply.available == 25  # nothing imported
