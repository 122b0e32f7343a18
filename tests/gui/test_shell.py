"""The window an associate lives in: sign-in, role gating, browsing, scanning."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from backoffice.services import audit, users
from backoffice.services.actor import SYSTEM
from tests.conftest import PINS
from tests.gui.conftest import scan
from ui.context import AppContext
from ui.login import LoginDialog
from ui.main_window import MainWindow
from ui.tabs.inventory import InventoryTab

pytestmark = pytest.mark.gui


@pytest.fixture
def window(main_window: MainWindow) -> MainWindow:
    return main_window


def _sample_tags(samples: Path) -> list[str]:
    return [r["Label"] for r in json.loads((samples / "metrc_packages_active.json").read_text())]


def _enter(qtbot, dialog: LoginDialog, pin: str) -> None:  # type: ignore[no-untyped-def]
    """Type the PIN and Enter, then wait for the check (it runs off the GUI thread)."""
    qtbot.keyClicks(dialog.pin, pin)
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.busy)


def test_login_with_good_pin(qtbot, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    dialog = LoginDialog(ctx, "Test Store")
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.username, "maria")
    _enter(qtbot, dialog, PINS["maria"])
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.user is not None and dialog.user.role.value == "manager"


def test_login_with_bad_pin_then_lockout(qtbot, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    dialog = LoginDialog(ctx, "Test Store", username="alex")
    qtbot.addWidget(dialog)
    _enter(qtbot, dialog, "0000")
    assert dialog.user is None and "4 attempts left" in dialog.message.text()
    assert dialog.pin.text() == ""
    for _ in range(4):
        _enter(qtbot, dialog, "0000")
    assert "locked" in dialog.message.text()
    _enter(qtbot, dialog, PINS["alex"])
    assert dialog.user is None and "locked" in dialog.message.text()
    failed = [e.reason for e in audit.list_events(ctx.db, SYSTEM, "user.sign_in_failed")]
    assert failed == ["account locked"] + ["wrong PIN"] * 5  # the same users service as the CLI: audited


def test_a_pin_check_keeps_the_dialog_drawn_and_takes_one_enter(  # type: ignore[no-untyped-def]
    qtbot, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the PIN is checked (its hash takes a quarter of a second in production) the dialog
    says so, keeps the keys to itself, takes a second Enter as nothing and cannot be escaped;
    then the answer lands."""
    release = threading.Event()
    checks: list[str] = []
    real = users.authenticate

    def slow(db, username, pin, **kw):  # type: ignore[no-untyped-def]
        checks.append(username)
        release.wait(5)
        return real(db, username, pin, **kw)

    monkeypatch.setattr(users, "authenticate", slow)
    dialog = LoginDialog(ctx, "Test Store", username="maria")
    qtbot.addWidget(dialog)
    dialog.show()
    started: list[bool] = []
    dialog.checking.connect(lambda: started.append(True))
    try:
        qtbot.keyClicks(dialog.pin, PINS["maria"])
        qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
        assert dialog.busy and started == [True] and dialog.message.text() == "Checking…"
        qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)  # impatient
        qtbot.keyClicks(dialog.pin, "99")  # typed meanwhile: the field is read-only
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        assert dialog.isVisible() and dialog.pin.text() == PINS["maria"] and not dialog.sign_in_button.isEnabled()
    finally:
        release.set()
    qtbot.waitUntil(lambda: not dialog.busy)
    assert checks == ["maria"] and dialog.result() == QDialog.DialogCode.Accepted and dialog.user is not None


def test_role_gating_disables_tabs_with_a_reason(window: MainWindow, ctx: AppContext) -> None:
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    audit = titles.index("Audit")
    reports = titles.index("Reports")
    assert not window.tabs.isTabEnabled(audit)  # alex is an associate
    assert "associate" in window.tabs.tabToolTip(audit)
    assert not window.tabs.isTabEnabled(reports)
    ctx.sign_in(users.authenticate(ctx.db, "maria", PINS["maria"]).as_actor())
    assert window.tabs.isTabEnabled(audit) and window.tabs.isTabEnabled(reports)
    assert "maria" in window.user_label.text()


def test_the_first_page_read_in_the_background_never_replaces_a_list_asked_for_meanwhile(  # type: ignore[no-untyped-def]
    qtbot, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui import commands

    monkeypatch.setattr(InventoryTab, "SEARCH_LOAD_DELAY_MS", 60_000)  # the database's list, not the in-memory one
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    inventory = win.tab(InventoryTab)
    assert isinstance(inventory, InventoryTab)
    ctx.sign_in(users.authenticate(ctx.db, "alex", PINS["alex"]).as_actor())  # the first page is on its way
    inventory.filter.setText("gummies")
    inventory.apply_filter()  # typed before it came back
    commands.wait_until_idle()
    qtbot.wait(100)  # its result is delivered
    assert inventory.model.rows and all("gummies" in r.item.lower() for r in inventory.model.rows)
    assert inventory.count_label.text() == f"{len(inventory.model.rows)} packages"


def test_filter_narrows_the_browser(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    inventory = window.tab(InventoryTab)
    assert isinstance(inventory, InventoryTab)
    everything = len(inventory.model.rows)
    assert everything == 120
    qtbot.keyClicks(inventory.filter, "gummies")
    qtbot.waitUntil(lambda: len(inventory.model.rows) < everything)
    assert inventory.model.rows and all("gummies" in r.item.lower() for r in inventory.model.rows)
    inventory.filter.clear()
    qtbot.keyClicks(inventory.filter, "gummies blue")  # every word must match
    qtbot.waitUntil(lambda: all("blue" in r.item.lower() for r in inventory.model.rows))


def test_model_passes_the_qt_model_tester(qtmodeltester, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    qtmodeltester.check(window.tab(InventoryTab).model)


def test_scanner_burst_of_known_tag_selects_its_row(qtbot, window: MainWindow, samples: Path) -> None:  # type: ignore[no-untyped-def]
    tag = _sample_tags(samples)[77]
    inventory = window.tab(InventoryTab)
    inventory.view.setFocus()
    scan(qtbot, inventory.view, tag)
    assert "in Vault" in window.status_label.text() or "in Sales Floor" in window.status_label.text()
    qtbot.waitUntil(lambda: not inventory.showing_scan)  # the row and its history follow the answer
    index = inventory.view.currentIndex()
    assert index.isValid() and inventory.model.rows[index.row()].tag == tag
    assert tag in inventory.detail.summary.text() and inventory.detail.model.rowCount() > 0
    assert window.status_kind == "ok"  # green cue


def test_scan_typed_into_the_filter_box_is_taken_back_out(qtbot, window: MainWindow, samples: Path) -> None:  # type: ignore[no-untyped-def]
    tag = _sample_tags(samples)[3]
    inventory = window.tab(InventoryTab)
    inventory.filter.setFocus()
    qtbot.keyClicks(inventory.filter, "blue ", delay=60)
    scan(qtbot, inventory.filter, tag)
    assert inventory.filter.text() in ("blue ", tag)  # the burst is not left behind as filter text
    qtbot.waitUntil(lambda: not inventory.showing_scan)
    assert inventory.model.rows[inventory.view.currentIndex().row()].tag == tag


def test_unknown_tag_gets_a_clear_message(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.tab(InventoryTab).view.setFocus()
    scan(qtbot, window.tab(InventoryTab).view, "1A4060300000000000099999")
    assert "not in this store's inventory" in window.status_label.text()
    assert window.status_kind == "error"


def test_garbage_scan_is_called_malformed(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.tab(InventoryTab).view.setFocus()
    scan(qtbot, window.tab(InventoryTab).view, "HELLO-WORLD-42")
    assert "is not a METRC tag" in window.status_label.text()


def test_slow_typing_is_not_a_scan(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    inventory = window.tab(InventoryTab)
    inventory.filter.setFocus()
    qtbot.keyClicks(inventory.filter, "tincture", delay=60)  # a person: 60 ms between keys
    qtbot.keyClick(inventory.filter, Qt.Key.Key_Return)
    assert inventory.filter.text() == "tincture"
    assert "Ready" in window.status_label.text()


def test_double_scan_is_suppressed(qtbot, window: MainWindow, samples: Path) -> None:  # type: ignore[no-untyped-def]
    tag = _sample_tags(samples)[5]
    seen: list[str] = []
    window.scanner.scanned.connect(seen.append)
    window.tab(InventoryTab).view.setFocus()
    scan(qtbot, window.tab(InventoryTab).view, tag)
    scan(qtbot, window.tab(InventoryTab).view, tag)
    assert seen == [tag]
    assert "ignored the repeat" in window.status_label.text()


def test_manual_entry_works_like_a_scan(qtbot, window: MainWindow, samples: Path) -> None:  # type: ignore[no-untyped-def]
    tag = _sample_tags(samples)[9]
    window.scan_entry.setFocus()
    qtbot.keyClicks(window.scan_entry, tag, delay=20)
    qtbot.keyClick(window.scan_entry, Qt.Key.Key_Return)
    inventory = window.tab(InventoryTab)
    qtbot.waitUntil(lambda: not inventory.showing_scan)
    assert inventory.model.rows[inventory.view.currentIndex().row()].tag == tag
    assert window.scan_entry.text() == ""


def test_tab_shortcuts_and_layout_is_remembered(qtbot, window: MainWindow, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentIndex() == 1
    window.close()
    assert ctx.settings.value("window/geometry") is not None
    assert ctx.settings.value("window/tab") is None  # every sign-in starts on the Inventory tab


def test_enter_after_the_user_name_moves_on_and_checks_nothing(qtbot, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    """User name, Enter: on to the PIN, with no attempt made (a PIN not yet typed used to be
    checked, and counted as a wrong one towards the lockout); Enter on an empty PIN asks for it."""
    dialog = LoginDialog(ctx, "Test Store")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.username, "alex")
    qtbot.keyClick(dialog.username, Qt.Key.Key_Return)
    assert dialog.focusWidget() is dialog.pin and not dialog.busy and dialog.message.text() == ""
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    assert not dialog.busy and "Type your PIN" in dialog.message.text()
    _enter(qtbot, dialog, PINS["alex"])
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert audit.list_events(ctx.db, SYSTEM, "user.sign_in_failed") == []


def test_enter_on_the_focused_sign_in_button_signs_in(qtbot, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    """A person who tabs from the PIN to "Sign in" and presses Enter signs in, once."""
    dialog = LoginDialog(ctx, "Test Store", username="maria")
    qtbot.addWidget(dialog)
    dialog.show()
    checks: list[bool] = []
    dialog.checking.connect(lambda: checks.append(True))
    qtbot.keyClicks(dialog.pin, PINS["maria"])
    dialog.sign_in_button.setFocus()
    qtbot.keyClick(dialog.sign_in_button, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.busy)
    assert checks == [True] and dialog.result() == QDialog.DialogCode.Accepted
