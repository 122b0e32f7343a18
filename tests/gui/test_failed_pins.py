"""Wrong PINs typed in the GUI — at sign-in and for a manager's approval — go through the
users service, so they are audit events a manager finds in the Audit tab."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFileDialog

from tests.conftest import PINS
from tests.gui.conftest import open_tab, scan, type_keys, when_modal
from ui.login import LoginDialog
from ui.main_window import MainWindow
from ui.models.audit_table import AuditTableModel
from ui.tabs.audit import AuditTab
from ui.tabs.labels import LabelsTab, LabOverrideDialog

pytestmark = pytest.mark.gui


def _audit_rows(model: AuditTableModel) -> list[tuple[str, str]]:
    """(who, action) of every row the Audit tab shows."""
    return [(model.data(model.index(r, 2)), model.data(model.index(r, 3))) for r in range(model.rowCount())]


def test_wrong_pins_at_sign_in_and_for_an_approval_are_in_the_audit_tab(  # type: ignore[no-untyped-def]
    qtbot, main_window: MainWindow, samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    labels_tab = main_window.tab(LabelsTab)
    tags = [r["Label"] for r in json.loads((samples / "metrc_packages_active.json").read_text())][:2]
    path = main_window.ctx.db.sqlite_path
    assert path is not None
    with sqlite3.connect(path) as conn:  # the second package failed its lab test
        conn.execute("UPDATE packages SET lab_state = 'TestFailed' WHERE tag = ?", (tags[1],))

    # alex prints labels; maria comes over to confirm the flagged one but mistypes her PIN
    main_window.tabs.setCurrentWidget(labels_tab)
    for code in tags:
        labels_tab.view.setFocus()
        main_window.scanner._last_scan = ("", 0.0)
        scan(qtbot, labels_tab.view, code)
    qtbot.waitUntil(lambda: len(labels_tab.model.rows) == 2)
    answers: list[str] = []

    def wrong_pin(dialog: QDialog) -> None:
        assert isinstance(dialog, LabOverrideDialog)
        qtbot.keyClicks(dialog.manager, "maria")
        qtbot.keyClick(dialog.manager, Qt.Key.Key_Return)
        qtbot.keyClicks(dialog.pin, "000000")
        qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
        answers.append(dialog.message.text())
        dialog.reject()  # she walks away; nothing is printed

    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    when_modal(LabOverrideDialog, wrong_pin)
    labels_tab.pdf_button.click()
    assert answers and "Wrong PIN" in answers[0]

    # alex signs out; someone tries alex with a wrong PIN, then maria signs in properly
    def sign_in(dialog: QDialog) -> None:
        assert isinstance(dialog, LoginDialog)
        qtbot.keyClicks(dialog.pin, "0000")
        qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not dialog.busy)  # the PIN is checked off the GUI thread
        answers.append(dialog.message.text())
        dialog.username.clear()
        qtbot.keyClicks(dialog.username, "maria")
        qtbot.keyClick(dialog.username, Qt.Key.Key_Return)
        qtbot.keyClicks(dialog.pin, PINS["maria"])
        qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)

    when_modal(LoginDialog, sign_in)
    main_window.sign_out()
    assert "Wrong PIN" in answers[1] and main_window.ctx.actor.username == "maria"

    # maria opens the Audit tab and looks for failures
    audit_tab = open_tab(qtbot, main_window, AuditTab)
    audit_tab.filter.setFocus()
    type_keys("failed", 60, widget=audit_tab.filter)  # typed at a person's pace, then Enter
    assert audit_tab.filter.text() == "failed"
    qtbot.waitUntil(lambda: len(_audit_rows(audit_tab.model)) >= 2, timeout=5_000)
    rows = _audit_rows(audit_tab.model)
    assert ("alex", "user.sign_in_failed") in rows
    assert ("maria", "user.approval_failed") in rows
